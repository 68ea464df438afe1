-- update_observation: an observation's values, failed flag or metadata replaced, compared
-- and set: the caller read ARGV[2] and computed ARGV[3] from it; another writer in between
-- makes it read again. The failed count follows a change of the failed flag; the running
-- summary is rebuilt at its next read.
--
-- KEYS[1] meta          hash: failed_count
-- KEYS[2] observations  hash oid -> observation JSON
-- KEYS[3] events        stream
-- ARGV[1] oid
-- ARGV[2] the observation JSON as read
-- ARGV[3] the new observation JSON
-- ARGV[4] change of the failed count: "-1", "0" or "1"
-- Returns {"OK"} | {"NOT_FOUND"} no such observation | {"CHANGED"} another writer was first
local record = redis.call("HGET", KEYS[2], ARGV[1])
if not record then return {"NOT_FOUND"} end
if record ~= ARGV[2] then return {"CHANGED"} end
redis.call("HSET", KEYS[2], ARGV[1], ARGV[3])
invalidate_summary(KEYS[1])
if ARGV[4] ~= "0" then redis.call("HINCRBY", KEYS[1], "failed_count", tonumber(ARGV[4])) end
emit(KEYS[3], "type", "observation_updated", "oid", ARGV[1])
return {"OK"}
