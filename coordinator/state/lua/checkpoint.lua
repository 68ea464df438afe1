-- checkpoint: running -> running.
-- Records where a run's latest checkpoint lies, fenced like an observation: only the current
-- claim's epoch may, so a zombie's checkpoint (its file is named by its own epoch, so it never
-- overwrites another's) is never the one a resumed run starts from.
--
-- KEYS[1] suggestion    hash s:<sid> (checkpoint, checkpoint_step)
-- KEYS[2] events        stream
-- ARGV[1] sid
-- ARGV[2] epoch         the claim's epoch
-- ARGV[3] step          the resource the checkpoint holds
-- ARGV[4] location      where the checkpoint store put it
-- Returns {"OK", previous location or ""} | {"UNKNOWN"} | {"CLOSED"} | {"DELETED"} | {"STALE"}
local state = redis.call("HGET", KEYS[1], "state")
if not state then return {"UNKNOWN"} end
if state == "closed" then return {"CLOSED"} end
if state == "deleted" then return {"DELETED"} end
if state ~= "running" or redis.call("HGET", KEYS[1], "epoch") ~= ARGV[2] then
  return {"STALE"}
end
local previous = redis.call("HGET", KEYS[1], "checkpoint") or ""
redis.call("HSET", KEYS[1], "checkpoint", ARGV[4], "checkpoint_step", ARGV[3])
copy_progress(KEYS[1], "", "ckpt_")
emit(KEYS[2], "type", "checkpointed", "sid", ARGV[1], "step", ARGV[3])
return {"OK", previous}
