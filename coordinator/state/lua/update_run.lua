-- update_run: a training run's compare-and-set, along the run state machine:
-- active -> active | completed | failed, completed -> completed | failed, failed -> failed.
-- The caller read the run, changed it (a MERGE, a checkpoint, its observation's id) and hands
-- both texts back: the new one is stored only if nobody wrote the run in between, so concurrent
-- `log_metric` MERGEs never lose each other, and only along an edge, so a finished run never
-- turns active again and `failed` is never overwritten (the precedence SigOpt's client keeps).
--
-- KEYS[1] runs          hash run id -> training run JSON
-- ARGV[1] run id
-- ARGV[2] expected      the run JSON as the caller read it
-- ARGV[3] run           the changed run JSON; its "state" is the state the run moves to
-- Returns {"OK", run_state, new_run_state}
--       | {"UNKNOWN"}             no such run
--       | {"CHANGED"}             another writer changed the run since it was read: read again
--       | {"REFUSED"}             the change of state is not an edge
local run = redis.call("HGET", KEYS[1], ARGV[1])
if not run then return {"UNKNOWN"} end
if run ~= ARGV[2] then return {"CHANGED"} end
local run_state = cjson.decode(run).state
local new_run_state = cjson.decode(ARGV[3]).state
local stays = run_state == new_run_state
  and (run_state == "active" or run_state == "completed" or run_state == "failed")
local finishes = run_state == "active" and (new_run_state == "completed" or new_run_state == "failed")
local fails = run_state == "completed" and new_run_state == "failed"
if not (stays or finishes or fails) then return {"REFUSED"} end
redis.call("HSET", KEYS[1], ARGV[1], ARGV[3])
return {"OK", run_state, new_run_state}
