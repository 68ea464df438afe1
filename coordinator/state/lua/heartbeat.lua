-- heartbeat: running -> running.
-- Extends the lease, but only for the holder of the current epoch: a worker that lost its lease
-- learns so here and can stop early.
--
-- KEYS[1] suggestion    hash s:<sid>
-- KEYS[2] leases        zset sid -> deadline ms
-- ARGV[1] sid
-- ARGV[2] epoch         the epoch the worker's claim returned
-- ARGV[3] ttl_ms        new lease length from now
-- Returns 1 (extended) | 0 (not the lease holder any more: stop)
if redis.call("HGET", KEYS[1], "state") ~= "running" then return 0 end
if redis.call("HGET", KEYS[1], "epoch") ~= ARGV[2] then return 0 end
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call("ZADD", KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
return 1
