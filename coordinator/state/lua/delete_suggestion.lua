-- delete_suggestion: queued or running -> deleted; with ARGV[2] "closed", a closed one too
-- (DELETE of every suggestion, as SigOpt's: its observation stays).
-- A deleted suggestion is gone from listings; a worker still evaluating it learns so at its
-- next heartbeat, and its observation is refused.
--
-- KEYS[1] suggestion    hash s:<sid>
-- KEYS[2] suggestions   zset of non-deleted suggestions
-- KEYS[3] open          zset of open suggestions
-- KEYS[4] open_points   hash assignments-json -> sid
-- KEYS[5] leases        zset sid -> deadline ms
-- KEYS[6] events        stream
-- ARGV[1] sid
-- ARGV[2] "closed": delete a closed suggestion too; "": open ones only
-- Returns {"OK"} deleted | {"NOT_OPEN"} unknown, already deleted, or closed without ARGV[2]
local state = redis.call("HGET", KEYS[1], "state")
if state == "closed" and ARGV[2] == "closed" then
  redis.call("HSET", KEYS[1], "state", "deleted")
  redis.call("ZREM", KEYS[2], ARGV[1])
  emit(KEYS[6], "type", "deleted", "sid", ARGV[1])
  return {"OK"}
end
if state ~= "queued" and state ~= "running" then return {"NOT_OPEN"} end
redis.call("HSET", KEYS[1], "state", "deleted")
redis.call("ZREM", KEYS[2], ARGV[1])
redis.call("ZREM", KEYS[3], ARGV[1])
redis.call("ZREM", KEYS[5], ARGV[1])
redis.call("HDEL", KEYS[4], redis.call("HGET", KEYS[1], "assignments"))
emit(KEYS[6], "type", "deleted", "sid", ARGV[1])
return {"OK"}
