-- delete_observations: one observation removed, or every one; the counts follow. The
-- suggestion an observation closed stays closed (SigOpt's: it is not handed out again). The
-- running summary is rebuilt at its next read.
--
-- KEYS[1] meta          hash: observation_count, failed_count
-- KEYS[2] observations  hash oid -> observation JSON
-- KEYS[3] events        stream
-- ARGV[1] oid           "" deletes every observation
-- Returns {"OK", deleted} | {"NOT_FOUND"} no such observation
if ARGV[1] == "" then
  local count = redis.call("HLEN", KEYS[2])
  redis.call("DEL", KEYS[2])
  redis.call("HSET", KEYS[1], "observation_count", 0, "failed_count", 0)
  invalidate_summary(KEYS[1])
  emit(KEYS[3], "type", "observations_deleted", "count", count)
  return {"OK", count}
end
local record = redis.call("HGET", KEYS[2], ARGV[1])
if not record then return {"NOT_FOUND"} end
redis.call("HDEL", KEYS[2], ARGV[1])
invalidate_summary(KEYS[1])
redis.call("HINCRBY", KEYS[1], "observation_count", -1)
if cjson.decode(record).failed == true then
  redis.call("HINCRBY", KEYS[1], "failed_count", -1)
end
emit(KEYS[3], "type", "observation_deleted", "oid", ARGV[1])
return {"OK", 1}
