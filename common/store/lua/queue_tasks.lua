-- queue_tasks — records a rep's open tasks for the gateway. Rep slot {r:<rep_id>}.
--
-- KEYS: 1 rep queue zset, 2 rep tasks hash.
-- ARGV: N triples (due ms, task id, task JSON).
-- The hash may hold entries whose task already left the queue (the worker removes answered
-- tasks from the zset only): readers take ids from the zset, and this script prunes the hash
-- whenever it grows to more than twice the queue (amortised O(1) per task).
-- Returns N.

if #ARGV < 3 or #ARGV % 3 ~= 0 then
  return redis.error_reply('ERR cadence queue: bad arguments')
end
for i = 1, #ARGV, 3 do
  if not tonumber(ARGV[i]) or ARGV[i + 1] == '' or ARGV[i + 2] == '' then
    return redis.error_reply('ERR cadence queue: bad arguments')
  end
end
for i = 1, #ARGV, 3 do
  redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('HSET', KEYS[2], ARGV[i + 1], ARGV[i + 2])
end
local z = redis.call('ZCARD', KEYS[1])
if redis.call('HLEN', KEYS[2]) > 2 * z + 16 then
  for _, id in ipairs(redis.call('HKEYS', KEYS[2])) do
    if not redis.call('ZSCORE', KEYS[1], id) then redis.call('HDEL', KEYS[2], id) end
  end
end
return #ARGV / 3
