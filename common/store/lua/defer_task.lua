-- defer_task — moves a claimed touch to a later due time instead of publishing it (a rep's
-- day was full). Shard slot {s<N>}.
--
-- KEYS: 1 due zset, 2 tasks hash, 3 inflight zset.
-- ARGV: 1 task id, 2 our lease deadline (ms), 3 the task as claimed, as stored (a zstd frame),
--       4 new due time (ms), 5 the task's new value (due_at and moved updated; a frame),
--       6 the claimed task's plain JSON, also taken as "still the one claimed" (older versions
--       stored tasks as JSON).
-- Only while the lease is ours: the task leaves the in-flight set; if the stored JSON is still
-- the one claimed, it is replaced by the new JSON and due again at the new time. If the worker
-- cancelled or replaced the task meanwhile, the worker's version stands.
-- Returns 1 when moved, 0 when not (lease lost, or the worker changed the task).

if ARGV[1] == '' or not tonumber(ARGV[2]) or not tonumber(ARGV[4]) or ARGV[5] == '' then
  return redis.error_reply('ERR cadence defer_task: bad arguments')
end
local s = redis.call('ZSCORE', KEYS[3], ARGV[1])
if not s or tonumber(s) ~= tonumber(ARGV[2]) then return 0 end
redis.call('ZREM', KEYS[3], ARGV[1])
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if cur ~= ARGV[3] and (ARGV[6] == nil or cur ~= ARGV[6]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[5])
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
return 1
