-- report: running -> running (a worker, fenced by its epoch), queued -> queued (the HTTP API's
-- checkpoints, where the client is the worker). Records one intermediate result of a training
-- run and decides, here and atomically, whether the run goes on: every worker that reports
-- sees the same rungs, so any number of them decide consistently without the coordinator.
--
-- A stop is sticky: once the scheduler stopped a run, every later report of it (a resumed run
-- on another worker too) answers STOP with the same reason.
--
-- KEYS[1] meta          experiment hash (resource_spent)
-- KEYS[2] suggestion    hash s:<sid> (step, reports, stop, stopped, best:<i>, best_at:<i>)
-- KEYS[3] curve         hash step -> report JSON
-- KEYS[4] events        stream
-- KEYS[5..] asha/hyperband: one zset per rung of the suggestion's bracket (sid -> score);
--           median: the zset of this step (sid -> the run's best score so far)
-- ARGV[1] sid
-- ARGV[2] epoch         "" for any open suggestion, else the claim's epoch
-- ARGV[3] step          the resource reached, a number above the last one reported
-- ARGV[4] report        JSON, stored as is in the curve
-- ARGV[5] plan          JSON {kind = none|asha|median|convergence, scores = {...} (larger is
--                       better), milestones, eta, warmup, min_samples, criteria =
--                       {{lookback, min, rel}}, max_resource, max_checkpoints, resource_budget}
-- Returns {"CONTINUE"} | {"STOP", reason} | {"DONE", reason} | {"BACKWARD", last_step}
--       | {"UNKNOWN"} | {"CLOSED"} | {"DELETED"} | {"STALE"}
local state = redis.call("HGET", KEYS[2], "state")
if not state then return {"UNKNOWN"} end
if state == "closed" then return {"CLOSED"} end
if state == "deleted" then return {"DELETED"} end
if ARGV[2] ~= "" and (state ~= "running" or redis.call("HGET", KEYS[2], "epoch") ~= ARGV[2]) then
  return {"STALE"}
end
local sid, step = ARGV[1], tonumber(ARGV[3])
local last = tonumber(redis.call("HGET", KEYS[2], "step") or "")
if last and step <= last then return {"BACKWARD", redis.call("HGET", KEYS[2], "step")} end

local plan = cjson.decode(ARGV[5])
local function given(v) return v ~= nil and v ~= cjson.null end
local function num(x) return string.format("%.17g", x) end

redis.call("HSET", KEYS[2], "step", ARGV[3])
redis.call("HSET", KEYS[3], ARGV[3], ARGV[4])
local count = redis.call("HINCRBY", KEYS[2], "reports", 1)
local spent = tonumber(redis.call("HINCRBYFLOAT", KEYS[1], "resource_spent", step - (last or 0)))

local sticky = redis.call("HGET", KEYS[2], "stop")
if sticky and sticky ~= "" then
  if redis.call("HGET", KEYS[2], "stopped") == "1" then return {"STOP", sticky} end
  return {"DONE", sticky}
end

local reason = nil
local score = plan.scores[1]
if plan.kind == "asha" then
  for i, rung in ipairs(plan.milestones) do
    if step >= rung and (last == nil or last < rung) then
      local key = KEYS[4 + i]
      redis.call("ZADD", key, num(score), sid)
      local n = redis.call("ZCARD", key)
      local better = redis.call("ZCOUNT", key, "(" .. num(score), "+inf")
      local keep = math.max(1, math.floor(n / plan.eta))
      if better >= keep and not reason then
        reason = string.format("asha: at rung %d (step %s) it ranks %d of %d; only the top " ..
                               "1/%s go on", i, num(rung), better + 1, n, num(plan.eta))
      end
    end
  end
elseif plan.kind == "median" and step >= plan.warmup then
  local best = tonumber(redis.call("HGET", KEYS[2], "best:1") or "")
  if not best or score > best then
    best = score
    redis.call("HSET", KEYS[2], "best:1", num(best))
  end
  local key = KEYS[5]
  redis.call("ZADD", key, num(best), sid)
  local others = {}
  local entries = redis.call("ZRANGE", key, 0, -1, "WITHSCORES")
  for j = 1, #entries, 2 do
    if entries[j] ~= sid then others[#others + 1] = tonumber(entries[j + 1]) end
  end
  if #others >= plan.min_samples then
    table.sort(others)
    local n = #others
    local median = (others[math.floor((n + 1) / 2)] + others[math.floor(n / 2) + 1]) / 2
    if best < median then
      reason = string.format("median: its best so far is below the median of %d other runs " ..
                             "at step %s", n, ARGV[3])
    end
  end
elseif plan.kind == "convergence" then
  for i, criterion in ipairs(plan.criteria) do
    local value = plan.scores[i]
    local best = tonumber(redis.call("HGET", KEYS[2], "best:" .. i) or "")
    if not best or value > best + criterion.rel * math.abs(best) then
      redis.call("HSET", KEYS[2], "best:" .. i, num(value), "best_at:" .. i, count)
    elseif count >= criterion.min and
        count - tonumber(redis.call("HGET", KEYS[2], "best_at:" .. i)) >= criterion.lookback
        and not reason then
      reason = string.format("convergence: %s has not improved in the last %d checkpoints",
                             criterion.metric, criterion.lookback)
    end
  end
end

-- A run at its full length is complete, whatever else holds: checked before the budget.
local stopped = "1"
if not reason and given(plan.max_resource) and step >= plan.max_resource then
  reason, stopped = "reached max_resource " .. num(plan.max_resource), "0"
end
if not reason and given(plan.max_checkpoints) and count >= plan.max_checkpoints then
  reason, stopped = "reached max_checkpoints " .. plan.max_checkpoints, "0"
end
if not reason and given(plan.resource_budget) and spent >= plan.resource_budget then
  reason = "the resource budget of " .. num(plan.resource_budget) .. " is spent"
end
if not reason then return {"CONTINUE"} end
redis.call("HSET", KEYS[2], "stop", reason, "stopped", stopped)
if stopped == "1" then
  emit(KEYS[4], "type", "stopped", "sid", sid, "step", ARGV[3])
  return {"STOP", reason}
end
return {"DONE", reason}
