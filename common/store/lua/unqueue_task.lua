-- unqueue_task — removes a task that turned out cancelled after it was queued. Rep slot
-- {r:<rep_id>}.
--
-- KEYS: 1 rep queue zset, 2 rep tasks hash.
-- ARGV: 1 task id.
-- Returns 1.

if ARGV[1] == '' then return redis.error_reply('ERR cadence unqueue: bad arguments') end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
