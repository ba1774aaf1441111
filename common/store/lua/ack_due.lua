-- ack_due — acknowledges published touches of one shard. Shard slot {s<N>}.
--
-- KEYS: 1 inflight zset, 2 tasks hash.
-- ARGV: N pairs (task id, lease deadline).
-- Drops each task from the in-flight set if the lease is still ours (another scheduler may have
-- re-claimed it after our lease expired; its lease is then left alone).
-- Returns an array of N integers: 1 when the task still exists (it is open: it stays in the
-- rep's queue), 0 when the worker cancelled or replaced it meanwhile.

local n = #ARGV / 2
if n < 1 or #ARGV % 2 ~= 0 then
  return redis.error_reply('ERR cadence ack: bad arguments')
end
for i = 1, n do
  if ARGV[2 * i - 1] == '' or not tonumber(ARGV[2 * i]) then
    return redis.error_reply('ERR cadence ack: bad arguments')
  end
end
local out = {}
for i = 1, n do
  local id = ARGV[2 * i - 1]
  local s = redis.call('ZSCORE', KEYS[1], id)
  if s and tonumber(s) == tonumber(ARGV[2 * i]) then redis.call('ZREM', KEYS[1], id) end
  out[i] = redis.call('HEXISTS', KEYS[2], id)
end
return out
