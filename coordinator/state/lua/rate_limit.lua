-- rate_limit: one API request against its token's bucket (SigOpt-style 429s).
-- A token bucket: it holds at most `burst` tokens, refills at `rate` tokens per second and each
-- request takes `cost`. Time comes from the Redis server clock and the whole check-and-take is
-- one script, so every `coordinator serve` process sharing this Redis shares one exact limit.
-- Not part of the suggestion state machine: it touches no experiment key.
--
-- KEYS[1] bucket        hash {tokens: tokens left (float), at: when counted (µs, Redis clock)}
-- ARGV[1] rate          tokens added per second (> 0)
-- ARGV[2] burst         bucket size: the most requests served back to back (>= cost)
-- ARGV[3] cost          tokens this request takes (normally 1)
-- Returns {1, 0, left}        allowed; `left` whole tokens remain
--       | {0, wait_ms, left}  refused; `cost` tokens are back after wait_ms (>= 1)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local saved = redis.call("HMGET", KEYS[1], "tokens", "at")
local tokens = tonumber(saved[1]) or burst
local at = tonumber(saved[2]) or now
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000000)
end
local allowed = 0
local wait_ms = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  wait_ms = math.max(1, math.ceil((cost - tokens) * 1000 / rate))
end
redis.call("HSET", KEYS[1], "tokens", string.format("%.6f", tokens), "at", string.format("%d", now))
-- an idle bucket is full again after burst/rate seconds: then it may as well not exist
redis.call("PEXPIRE", KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, wait_ms, math.floor(tokens)}
