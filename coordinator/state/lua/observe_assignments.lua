-- observe_assignments: records an observation that has no suggestion (SigOpt's
-- `observations().create(assignments=...)`). No suggestion changes state, so this script is not
-- an edge of the suggestion state machine; it only shares observe.lua's counters and event.
--
-- KEYS[1] meta          experiment hash (must exist, state active; counters)
-- KEYS[2] observations  hash oid -> observation JSON
-- KEYS[3] events        stream
-- ARGV[1] oid           new observation id (allocated by the caller)
-- ARGV[2] observation   JSON
-- ARGV[3] failed        "1" or "0"
-- Returns {"OK", oid} | {"NO_EXPERIMENT"} unknown or deleted experiment
if redis.call("HGET", KEYS[1], "state") ~= "active" then
  return {"NO_EXPERIMENT"}
end
redis.call("HSET", KEYS[2], ARGV[1], ARGV[2])
redis.call("HINCRBY", KEYS[1], "observation_count", 1)
if ARGV[3] == "1" then redis.call("HINCRBY", KEYS[1], "failed_count", 1) end
redis.call("XADD", KEYS[3], "MAXLEN", "~", 10000, "*", "type", "observed", "sid", "",
  "oid", ARGV[1], "failed", ARGV[3])
return {"OK", ARGV[1]}
