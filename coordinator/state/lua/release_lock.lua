-- release_lock: deletes a lock only if the caller still holds it.
-- A GET followed by a DEL could delete a lock that expired and was taken by someone else in
-- between; doing both in one script cannot.
--
-- KEYS[1] lock          the lock's string key
-- ARGV[1] token         the value the caller set when it took the lock
-- Returns {"OK"} released | {"NOT_HELD"} not held by this token: expired or taken by another
if redis.call("GET", KEYS[1]) ~= ARGV[1] then return {"NOT_HELD"} end
redis.call("DEL", KEYS[1])
return {"OK"}
