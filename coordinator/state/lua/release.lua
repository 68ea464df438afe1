-- release: running -> queued.
-- A worker shutting down gracefully hands its suggestion back at once instead of letting the
-- lease run out. The attempt is not counted, and the deadline is set to now so that the next
-- sweep sends the task again.
--
-- KEYS[1] suggestion    hash s:<sid>
-- KEYS[2] leases        zset sid -> deadline ms
-- KEYS[3] events        stream
-- ARGV[1] sid
-- ARGV[2] epoch         the epoch the worker's claim returned
-- Returns {"OK"} handed back | {"LOST"} not the lease holder any more
local state = redis.call("HGET", KEYS[1], "state")
if state ~= "running" or redis.call("HGET", KEYS[1], "epoch") ~= ARGV[2] then
  return {"LOST"}
end
local now = now_ms()
redis.call("HINCRBY", KEYS[1], "attempts", -1)
redis.call("HSET", KEYS[1], "state", "queued", "owner", "", "dispatched", now)
redis.call("ZADD", KEYS[2], now, ARGV[1])
emit(KEYS[3], "type", "released", "sid", ARGV[1])
return {"OK"}
