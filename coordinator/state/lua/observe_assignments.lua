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
if experiment_state(KEYS[1]) ~= "active" then return {"NO_EXPERIMENT"} end
record_observation(KEYS[1], KEYS[2], KEYS[3], "", ARGV[1], ARGV[2], ARGV[3])
return {"OK", ARGV[1]}
