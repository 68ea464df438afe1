-- store_summary: a running summary rebuilt from every observation (state/summary.py) stored,
-- compared and set: the caller read `revision` before it read the observations, and anything
-- recorded, changed or deleted since then moved it, so the rebuild is thrown away and read
-- again. Stored, the summary is kept up to date by every script that records an observation.
--
-- KEYS[1] meta          hash: revision, summary, goals, stopped_count, first_observation,
--                       last_observation
-- KEYS[2] front         hash oid -> scores
-- KEYS[3] reasons       zset failure headline -> minus its count
-- ARGV[1] revision      as read before the observations
-- ARGV[2] goals         JSON, as prelude.lua's standing() reads them
-- ARGV[3] summary       JSON {stopped, first, last, front = {{oid, scores}}, reasons =
--                       {{headline, count}}}
-- Returns {"OK"} | {"CHANGED"} an observation was recorded, changed or deleted meanwhile
if (redis.call("HGET", KEYS[1], "revision") or "0") ~= ARGV[1] then return {"CHANGED"} end
local summary = cjson.decode(ARGV[3])
redis.call("DEL", KEYS[2], KEYS[3])
for _, entry in ipairs(summary.front) do redis.call("HSET", KEYS[2], entry[1], entry[2]) end
for _, entry in ipairs(summary.reasons) do redis.call("ZADD", KEYS[3], -entry[2], entry[1]) end
redis.call("HSET", KEYS[1], "summary", "1", "goals", ARGV[2], "stopped_count", summary.stopped,
           "first_observation", summary.first, "last_observation", summary.last)
return {"OK"}
