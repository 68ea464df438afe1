-- observe_assignments: records an observation that has no suggestion (SigOpt's
-- `observations().create(assignments=...)`). No suggestion changes state, so this script is not
-- an edge of the suggestion state machine; it only shares observe.lua's counters and event.
--
-- KEYS[1] meta          experiment hash (must exist, state active; counters)
-- KEYS[2] observations  hash oid -> observation JSON
-- KEYS[3] events        stream
-- KEYS[4] front         hash oid -> scores (the summary's best, see prelude.lua)
-- KEYS[5] reasons       zset failure headline -> minus its count
-- KEYS[6] recent        list of the latest observation ids
-- KEYS[7] improvements  list of the ids that improved the best so far
-- ARGV[1] oid           new observation id (allocated by the caller)
-- ARGV[2] observation   JSON
-- ARGV[3] failed        "1" or "0"
-- ARGV[4] headline      the failure's reason without its details ("" when not failed)
-- Returns {"OK", oid} | {"NO_EXPERIMENT"} unknown or deleted experiment
if experiment_state(KEYS[1]) ~= "active" then return {"NO_EXPERIMENT"} end
record_observation({meta = KEYS[1], observations = KEYS[2], events = KEYS[3], front = KEYS[4],
                    reasons = KEYS[5], recent = KEYS[6], improvements = KEYS[7]},
                   "", ARGV[1], ARGV[2], ARGV[3], ARGV[4])
return {"OK", ARGV[1]}
