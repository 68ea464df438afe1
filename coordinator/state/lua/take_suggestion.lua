-- take_suggestion: create -> queued.
-- Pops the oldest queued suggestion (the user's own point, handed out even when it equals an
-- open or observed one: the user asked for it), else ready suggestions from the backlog until
-- one is not already open, else uses the fallback the caller computed on the spot, and
-- creates it as a queued suggestion. A queued suggestion's metadata, when it has any, is the
-- new suggestion's in place of ARGV[3].
--
-- KEYS[1] meta          experiment hash (must exist, state active)
-- KEYS[2] backlog       list of "strategy<TAB>assignments-json"
-- KEYS[3] suggestion    hash of the new suggestion (s:<sid>)
-- KEYS[4] suggestions   zset of every non-deleted suggestion
-- KEYS[5] open          zset of open suggestions
-- KEYS[6] open_points   hash assignments-json -> sid of open suggestions
-- KEYS[7] leases        zset sid -> deadline ms
-- KEYS[8] events        stream
-- KEYS[9] queue         zset "qid<TAB>created<TAB>assignments-json<TAB>metadata-json" -> qid
-- ARGV[1] sid           the new suggestion id (allocated by the caller with INCR)
-- ARGV[2] fallback      "strategy<TAB>assignments-json", or "" to use the backlog only
-- ARGV[3] metadata      JSON object
-- ARGV[4] claim_ms      dispatched: deadline to be claimed by; "0": not dispatched (API route)
-- ARGV[5] max_open      refuse when this many suggestions are open (the bandwidth); "0": none
-- ARGV[6] max_total     refuse when open + observed reach this (the budget); "0": none
-- Returns {"OK", assignments-json, strategy, metadata-json}
--       | {"FULL"}          max_open or max_total reached: several run loops on one experiment
--                           keep to its bandwidth and budget together
--       | {"EMPTY"}         backlog empty and no fallback
--       | {"DUPLICATE"}     the fallback equals an open suggestion
--       | {"NO_EXPERIMENT"} unknown or deleted experiment
if experiment_state(KEYS[1]) ~= "active" then return {"NO_EXPERIMENT"} end
local max_open, max_total = tonumber(ARGV[5] or "0"), tonumber(ARGV[6] or "0")
if max_open > 0 or max_total > 0 then
  local open = redis.call("ZCARD", KEYS[5])
  local observed = tonumber(redis.call("HGET", KEYS[1], "observation_count") or "0")
  if (max_open > 0 and open >= max_open) or (max_total > 0 and open + observed >= max_total) then
    return {"FULL"}
  end
end
local entry, metadata, queued = nil, ARGV[3], false
local first = redis.call("ZRANGE", KEYS[9], 0, 0)[1]
if first then
  redis.call("ZREM", KEYS[9], first)
  local a = string.find(first, "\t", 1, true)
  local b = string.find(first, "\t", a + 1, true)
  local c = string.find(first, "\t", b + 1, true)
  entry = "queued\t" .. string.sub(first, b + 1, c - 1)
  if string.sub(first, c + 1) ~= "{}" then metadata = string.sub(first, c + 1) end
  queued = true
end
while not entry do
  local item = redis.call("LPOP", KEYS[2])
  if not item then break end
  local tab = string.find(item, "\t", 1, true)
  if redis.call("HEXISTS", KEYS[6], string.sub(item, tab + 1)) == 0 then
    entry = item
    break
  end
end
if not entry then
  if ARGV[2] == "" then return {"EMPTY"} end
  entry = ARGV[2]
end
local tab = string.find(entry, "\t", 1, true)
local strategy = string.sub(entry, 1, tab - 1)
local assignments = string.sub(entry, tab + 1)
if not queued and redis.call("HEXISTS", KEYS[6], assignments) == 1 then
  return {"DUPLICATE"}
end
local now = now_ms()
local sid = ARGV[1]
local number = redis.call("HINCRBY", KEYS[1], "suggestion_number", 1) -- 1, 2, ... per experiment
redis.call("HSET", KEYS[3], "id", sid, "state", "queued", "assignments", assignments,
  "strategy", strategy, "metadata", metadata, "created", now, "epoch", 0, "attempts", 0,
  "owner", "", "number", number)
redis.call("ZADD", KEYS[4], tonumber(sid), sid)
redis.call("ZADD", KEYS[5], tonumber(sid), sid)
-- a queued duplicate leaves the point to the open suggestion that already holds it
redis.call("HSETNX", KEYS[6], assignments, sid)
local claim_ms = tonumber(ARGV[4])
if claim_ms > 0 then
  redis.call("HSET", KEYS[3], "dispatched", now)
  redis.call("ZADD", KEYS[7], now + claim_ms, sid)
end
emit(KEYS[8], "type", "created", "sid", sid)
return {"OK", assignments, strategy, metadata}
