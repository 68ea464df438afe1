-- sweep: running -> queued (lease expired, attempts left), running -> closed (attempts used
-- up: a failed observation), queued -> queued (dispatched but never claimed: send again).
-- Re-checks the deadline on the server clock, so several sweepers at once are safe: the first
-- one moves the deadline and the others see nothing to do.
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
-- ARGV[2] oid           id for the failed observation, used only when attempts are used up
-- ARGV[3] max_attempts
-- ARGV[4] claim_ms      how long a re-sent task may wait to be claimed
-- ARGV[5] failed_observation JSON, used only when attempts are used up
-- ARGV[6] its reason without the details
-- Returns {"REQUEUED", attempts} | {"REDISPATCH"} | {"FAILED", oid} | {"SKIP"}
local deadline = redis.call("ZSCORE", KEYS[3], ARGV[1])
if not deadline then return {"SKIP"} end
local now = now_ms()
if tonumber(deadline) > now then return {"SKIP"} end
local state = redis.call("HGET", KEYS[2], "state")
if state == "queued" then
  redis.call("ZADD", KEYS[3], now + tonumber(ARGV[4]), ARGV[1])
  redis.call("HSET", KEYS[2], "dispatched", now)
  redis.call("HINCRBY", KEYS[2], "redispatches", 1)
  emit(KEYS[7], "type", "redispatched", "sid", ARGV[1])
  return {"REDISPATCH"}
end
if state ~= "running" then
  redis.call("ZREM", KEYS[3], ARGV[1])
  return {"SKIP"}
end
local attempts = tonumber(redis.call("HGET", KEYS[2], "attempts"))
if attempts < tonumber(ARGV[3]) then
  redis.call("HSET", KEYS[2], "state", "queued", "owner", "", "dispatched", now)
  redis.call("ZADD", KEYS[3], now + tonumber(ARGV[4]), ARGV[1])
  emit(KEYS[7], "type", "requeued", "sid", ARGV[1], "attempts", attempts)
  return {"REQUEUED", attempts}
end
close_suggestion(KEYS, ARGV[1], ARGV[2], ARGV[5], "1", ARGV[6])
redis.call("HSET", KEYS[2], "owner", "")
return {"FAILED", ARGV[2]}
