-- heartbeat: running -> running.
-- Extends the lease, but only for the holder of the current epoch: a worker that lost its lease
-- learns so here and can stop early.
--
-- KEYS[1] suggestion    hash s:<sid>
-- KEYS[2] leases        zset sid -> deadline ms
-- ARGV[1] sid
-- ARGV[2] epoch         the epoch the worker's claim returned
-- ARGV[3] ttl_ms        new lease length from now
-- Returns {"OK"} extended | {"LOST"} not the lease holder any more: stop
local state = redis.call("HGET", KEYS[1], "state")
if state ~= "running" or redis.call("HGET", KEYS[1], "epoch") ~= ARGV[2] then
  return {"LOST"}
end
redis.call("ZADD", KEYS[2], now_ms() + tonumber(ARGV[3]), ARGV[1])
return {"OK"}
