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

-- The running summary of an experiment's observations (state/summary.py): whatever records an
-- observation keeps it, so `status`, `best` and the API's progress read a few keys however long
-- the history is. It holds while meta's `summary` is "1"; updating or deleting an observation
-- clears that, and the next read rebuilds it from every observation (store_summary.lua), which
-- stores it only if `revision` (counted here) did not move meanwhile.
--   meta   stopped_count, first_observation, last_observation (ids, smallest and largest),
--          goals (JSON: each metric with a threshold or optimized: name, sign, threshold,
--          optimize), summary ("1" when valid), revision
--   front  hash oid -> its optimized scores ("%.17g" joined by ","; larger is better): the
--          best feasible observation, or the Pareto front with several optimized metrics
--   reasons zset failure headline -> minus its count, so ZRANGE lists the most frequent first
--          and equal counts alphabetically
--   recent list of the RECENT latest observation ids, newest first
--   improvements list of the ids that improved the best so far, in the order recorded (one
--          optimized metric; at most IMPROVEMENTS, the latest): with `recent` and the front,
--          the window a dashboard of a long experiment draws (its best-so-far line is exact)
local RECENT, IMPROVEMENTS = 2000, 2000

-- The optimized scores of a record that counts towards the best, or nil: not failed, not
-- partial (stopped early, or a task of cost below 1), every metric of `goals` present and
-- within its threshold. optimizer/best.py's best_observations is the reference it must match.
local function standing(goals, record)
  if record.failed == true or record.stopped == true then return nil end
  local task = record.task
  if type(task) == "table" and tonumber(task.cost) < 1 then return nil end
  local values = {}
  for _, v in ipairs(record.values or {}) do values[v.name] = v.value end
  local scores = {}
  for _, m in ipairs(goals) do
    local value = values[m.name]
    if type(value) ~= "number" then return nil end
    if type(m.threshold) == "number" and
        ((m.sign > 0 and value < m.threshold) or (m.sign < 0 and value > m.threshold)) then
      return nil
    end
    if m.optimize then scores[#scores + 1] = m.sign * value end
  end
  if #scores == 0 then return nil end
  return scores
end

local function scores_of(text)
  local scores = {}
  for part in string.gmatch(text, "[^,]+") do scores[#scores + 1] = tonumber(part) end
  return scores
end

local function dominates(a, b)
  local strictly = false
  for i = 1, #a do
    if a[i] < b[i] then return false end
    if a[i] > b[i] then strictly = true end
  end
  return strictly
end

-- One metric: the front keeps the single best, the earliest (smallest id) of equal ones.
-- Several: a newcomer no member dominates joins, and the members it dominates leave.
local function enter_front(front, oid, scores)
  local members = redis.call("HGETALL", front)
  local improved = true
  local beaten = {}
  for i = 1, #members, 2 do
    local other = scores_of(members[i + 1])
    if #scores == 1 then
      if other[1] > scores[1] or (other[1] == scores[1] and
          tonumber(members[i]) < tonumber(oid)) then
        return false
      end
      improved = other[1] < scores[1]
      beaten[#beaten + 1] = members[i]
    elseif dominates(other, scores) then
      return false
    elseif dominates(scores, other) then
      beaten[#beaten + 1] = members[i]
    end
  end
  for _, member in ipairs(beaten) do redis.call("HDEL", front, member) end
  local texts = {}
  for i, x in ipairs(scores) do texts[i] = string.format("%.17g", x) end
  redis.call("HSET", front, oid, table.concat(texts, ","))
  return #scores == 1 and improved
end

local function summarize(k, oid, observation, failed, headline)
  if redis.call("HGET", k.meta, "summary") ~= "1" then return end
  local record = cjson.decode(observation)
  if record.stopped == true then redis.call("HINCRBY", k.meta, "stopped_count", 1) end
  local first = redis.call("HGET", k.meta, "first_observation")
  if not first or first == "" or tonumber(oid) < tonumber(first) then
    redis.call("HSET", k.meta, "first_observation", oid)
  end
  local last = redis.call("HGET", k.meta, "last_observation")
  if not last or last == "" or tonumber(oid) > tonumber(last) then
    redis.call("HSET", k.meta, "last_observation", oid)
  end
  redis.call("LPUSH", k.recent, oid)
  redis.call("LTRIM", k.recent, 0, RECENT - 1)
  if failed == "1" then
    redis.call("ZINCRBY", k.reasons, -1, headline)
    return
  end
  local scores = standing(cjson.decode(redis.call("HGET", k.meta, "goals")), record)
  if scores and enter_front(k.front, oid, scores) then
    redis.call("RPUSH", k.improvements, oid)
    redis.call("LTRIM", k.improvements, -IMPROVEMENTS, -1)
  end
end

-- Stores an observation, counts it and keeps the summary: the part every way of observing
-- shares. k holds the keys meta, observations, events, front, reasons, recent and
-- improvements; sid is "" for an observation without a suggestion; failed is "1" or "0";
-- headline is a failure's reason without its details (summary.py headline), "" when it did
-- not fail.
-- The record arrives as '{"number": 0, ...' (records.py ObservationRecord.to_json) and is stored
-- with its number within the experiment (1, 2, ...) put in place of the 0.
local NUMBER_PLACEHOLDER = '{"number": 0, '
local function record_observation(k, sid, oid, observation, failed, headline)
  if string.sub(observation, 1, #NUMBER_PLACEHOLDER) == NUMBER_PLACEHOLDER then
    local number = redis.call("HINCRBY", k.meta, "observation_number", 1)
    observation = '{"number": ' .. number .. ', ' .. string.sub(observation, #NUMBER_PLACEHOLDER + 1)
  end
  redis.call("HSET", k.observations, oid, observation)
  redis.call("HINCRBY", k.meta, "observation_count", 1)
  redis.call("HINCRBY", k.meta, "revision", 1)
  if failed == "1" then redis.call("HINCRBY", k.meta, "failed_count", 1) end
  summarize(k, oid, observation, failed, headline)
  emit(k.events, "type", "observed", "sid", sid, "oid", oid, "failed", failed)
end

-- Whatever changes or removes a stored observation: the summary is rebuilt at the next read.
local function invalidate_summary(meta)
  redis.call("HSET", meta, "summary", "0")
  redis.call("HINCRBY", meta, "revision", 1)
end

-- open -> closed with its one observation. k holds the keys in the order observe.lua and
-- sweep.lua both take them: meta, suggestion, leases, open, open_points, observations, events,
-- front, reasons, recent, improvements.
local function close_suggestion(k, sid, oid, observation, failed, headline)
  redis.call("HSET", k[2], "state", "closed", "observation", oid)
  redis.call("ZREM", k[3], sid)
  redis.call("ZREM", k[4], sid)
  redis.call("HDEL", k[5], redis.call("HGET", k[2], "assignments"))
  record_observation({meta = k[1], observations = k[6], events = k[7], front = k[8],
                      reasons = k[9], recent = k[10], improvements = k[11]},
                     sid, oid, observation, failed, headline)
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
