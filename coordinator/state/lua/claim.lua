-- claim: queued -> running.
-- A worker takes a suggestion before evaluating it. The fencing epoch rises on every claim, so
-- only the latest claimant can heartbeat or observe. A duplicated or redelivered task message
-- finds the suggestion running or closed and is refused.
--
-- KEYS[1] suggestion    hash s:<sid>
-- KEYS[2] leases        zset sid -> deadline ms (Redis server clock)
-- KEYS[3] events        stream
-- ARGV[1] sid
-- ARGV[2] owner         who holds the lease ("hostname:pid")
-- ARGV[3] ttl_ms        lease length
-- A run resumed after a lost worker starts from its latest checkpoint: its reported step goes
-- back to the checkpoint's, so the resumed run reports on from there, and its progress fields
-- (report counts, best scores) to what they were at that checkpoint (none for a fresh start).
--
-- Returns {"OK", epoch, attempts, assignments-json, checkpoint location or "", its step or ""}
--       | {"UNKNOWN"} | {"CLOSED"} | {"DELETED"} | {"BUSY"} (running under a live or expired lease)
local state = redis.call("HGET", KEYS[1], "state")
if not state then return {"UNKNOWN"} end
if state == "closed" then return {"CLOSED"} end
if state == "deleted" then return {"DELETED"} end
if state ~= "queued" then return {"BUSY"} end
local now = now_ms()
local epoch = redis.call("HINCRBY", KEYS[1], "epoch", 1)
local attempts = redis.call("HINCRBY", KEYS[1], "attempts", 1)
redis.call("HSET", KEYS[1], "state", "running", "owner", ARGV[2], "claimed", now)
local checkpoint = redis.call("HGET", KEYS[1], "checkpoint") or ""
local checkpoint_step = redis.call("HGET", KEYS[1], "checkpoint_step") or ""
if checkpoint_step ~= "" then
  redis.call("HSET", KEYS[1], "step", checkpoint_step)
else
  redis.call("HDEL", KEYS[1], "step")
end
copy_progress(KEYS[1], "ckpt_", "")
redis.call("ZADD", KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
emit(KEYS[3], "type", "claimed", "sid", ARGV[1], "owner", ARGV[2], "epoch", epoch)
return {"OK", epoch, attempts, redis.call("HGET", KEYS[1], "assignments"), checkpoint,
        checkpoint_step}
