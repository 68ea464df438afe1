-- prelude: the pieces several scripts share, written once. scripts.py `source()` puts this
-- text in front of every other script in this folder when it loads, so each script stays one
-- atomic EVAL; the prelude only defines locals and touches no key by itself.
--
-- State literals follow one convention, which tests/unit/test_state_machine.py parses: they are
-- compared with, or HSET as, something named `state` (a suggestion), `experiment_state(...)`
-- (an experiment's meta) or `run_state` / `new_run_state` (a training run).

local EVENTS_MAXLEN = 10000 -- each experiment's events stream keeps about this many entries

-- Milliseconds on the Redis server clock: every lease deadline and timestamp uses this clock.
local function now_ms()
  local t = redis.call("TIME")
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Appends one event (field, value, ...) to an experiment's stream, trimmed approximately.
local function emit(events, ...)
  return redis.call("XADD", events, "MAXLEN", "~", EVENTS_MAXLEN, "*", ...)
end

-- The experiment's stored state (active | deleted), or false when it does not exist.
local function experiment_state(meta)
  return redis.call("HGET", meta, "state")
end

-- Stores an observation and counts it: the part every way of observing shares.
-- sid is "" for an observation without a suggestion; failed is "1" or "0".
-- The record arrives as '{"number": 0, ...' (records.py ObservationRecord.to_json) and is stored
-- with its number within the experiment (1, 2, ...) put in place of the 0.
local NUMBER_PLACEHOLDER = '{"number": 0, '
local function record_observation(meta, observations, events, sid, oid, observation, failed)
  if string.sub(observation, 1, #NUMBER_PLACEHOLDER) == NUMBER_PLACEHOLDER then
    local number = redis.call("HINCRBY", meta, "observation_number", 1)
    observation = '{"number": ' .. number .. ', ' .. string.sub(observation, #NUMBER_PLACEHOLDER + 1)
  end
  redis.call("HSET", observations, oid, observation)
  redis.call("HINCRBY", meta, "observation_count", 1)
  if failed == "1" then redis.call("HINCRBY", meta, "failed_count", 1) end
  emit(events, "type", "observed", "sid", sid, "oid", oid, "failed", failed)
end

-- open -> closed with its one observation. k holds the keys in the order observe.lua and
-- sweep.lua both take them: meta, suggestion, leases, open, open_points, observations, events.
local function close_suggestion(k, sid, oid, observation, failed)
  redis.call("HSET", k[2], "state", "closed", "observation", oid)
  redis.call("ZREM", k[3], sid)
  redis.call("ZREM", k[4], sid)
  redis.call("HDEL", k[5], redis.call("HGET", k[2], "assignments"))
  record_observation(k[1], k[6], k[7], sid, oid, observation, failed)
end

-- A run's progress fields, which report.lua's rules read: how many reports it made and the best
-- score (and at which report) per criterion. checkpoint.lua snapshots them with the checkpoint
-- (prefix "ckpt_"), and claim.lua puts the snapshot back, or clears them for a fresh start, so a
-- resumed run is judged by what its checkpoint holds, never by a lost attempt's later reports.
local function is_progress_field(name)
  return name == "reports" or string.sub(name, 1, 5) == "best:" or string.sub(name, 1, 8) == "best_at:"
end

local function copy_progress(suggestion, from_prefix, to_prefix)
  local fields = redis.call("HGETALL", suggestion)
  for i = 1, #fields, 2 do
    local name = fields[i]
    if string.sub(name, 1, #to_prefix) == to_prefix and is_progress_field(string.sub(name, #to_prefix + 1)) then
      redis.call("HDEL", suggestion, name)
    end
  end
  for i = 1, #fields, 2 do
    local name = fields[i]
    if string.sub(name, 1, #from_prefix) == from_prefix and is_progress_field(string.sub(name, #from_prefix + 1)) then
      redis.call("HSET", suggestion, to_prefix .. string.sub(name, #from_prefix + 1), fields[i + 1])
    end
  end
end
