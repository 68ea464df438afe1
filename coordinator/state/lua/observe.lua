-- observe: queued or running -> closed.
-- Records the one observation a suggestion can ever have. With an epoch (Celery workers) only
-- the current lease holder may observe, so a zombie's late result is rejected; without one
-- (the HTTP API, where the client is the worker) any open suggestion may be observed.
--
-- KEYS[1] meta          experiment hash (counters)
-- KEYS[2] suggestion    hash s:<sid>
-- KEYS[3] leases        zset sid -> deadline ms
-- KEYS[4] open          zset of open suggestions
-- KEYS[5] open_points   hash assignments-json -> sid
-- KEYS[6] observations  hash oid -> observation JSON
-- KEYS[7] events        stream
-- KEYS[8] front         hash oid -> scores (the summary's best, see prelude.lua)
-- KEYS[9] reasons       zset failure headline -> minus its count
-- KEYS[10] recent       list of the latest observation ids
-- KEYS[11] improvements list of the ids that improved the best so far
-- ARGV[1] sid
-- ARGV[2] oid           new observation id (allocated by the caller)
-- ARGV[3] epoch         "" for any open suggestion, else the claim's epoch
-- ARGV[4] observation   JSON
-- ARGV[5] failed        "1" or "0"
-- ARGV[6] headline      the failure's reason without its details ("" when not failed)
-- Returns {"OK", oid} | {"UNKNOWN"} | {"CLOSED"} | {"DELETED"} | {"STALE"}
local state = redis.call("HGET", KEYS[2], "state")
if not state then return {"UNKNOWN"} end
if state == "closed" then return {"CLOSED"} end
if state == "deleted" then return {"DELETED"} end
if ARGV[3] ~= "" and (state ~= "running" or redis.call("HGET", KEYS[2], "epoch") ~= ARGV[3]) then
  return {"STALE"}
end
close_suggestion(KEYS, ARGV[1], ARGV[2], ARGV[4], ARGV[5], ARGV[6])
return {"OK", ARGV[2]}
