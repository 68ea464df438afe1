-- store_summary: a running summary rebuilt from every observation (state/summary.py) stored,
-- compared and set: the caller read `revision` before it read the observations, and anything
-- recorded, changed or deleted since then moved it, so the rebuild is thrown away and read
-- again. Stored, the summary is kept up to date by every script that records an observation.
--
-- KEYS[1] meta          hash: revision, summary, goals, stopped_count, first_observation,
--                       last_observation
-- KEYS[2] front         hash oid -> scores
-- KEYS[3] reasons       zset failure headline -> minus its count
-- KEYS[4] recent        list of the latest observation ids, newest first
-- KEYS[5] improvements  list of the ids that improved the best so far
-- ARGV[1] revision      as read before the observations
-- ARGV[2] goals         JSON, as prelude.lua's standing() reads them
-- ARGV[3] summary       JSON {stopped, first, last, front = {{oid, scores}}, reasons =
--                       {{headline, count}}, recent = {oid, ...} newest first,
--                       improvements = {oid, ...} oldest first}
-- Returns {"OK"} | {"CHANGED"} an observation was recorded, changed or deleted meanwhile
if (redis.call("HGET", KEYS[1], "revision") or "0") ~= ARGV[1] then return {"CHANGED"} end
local summary = cjson.decode(ARGV[3])
redis.call("DEL", KEYS[2], KEYS[3], KEYS[4], KEYS[5])
for _, oid in ipairs(summary.recent) do redis.call("RPUSH", KEYS[4], oid) end
for _, oid in ipairs(summary.improvements) do redis.call("RPUSH", KEYS[5], oid) end
for _, entry in ipairs(summary.front) do redis.call("HSET", KEYS[2], entry[1], entry[2]) end
for _, entry in ipairs(summary.reasons) do redis.call("ZADD", KEYS[3], -entry[2], entry[1]) end
redis.call("HSET", KEYS[1], "summary", "1", "goals", ARGV[2], "stopped_count", summary.stopped,
           "first_observation", summary.first, "last_observation", summary.last)
return {"OK"}
