-- apply_event — applies one event to one lead, all or nothing. Every key carries the lead's
-- shard hash tag {s<N>} (one Redis Cluster slot).
--
-- KEYS: 1 lead state hash, 2 event record (the outbox), 3 shard due zset, 4 shard tasks hash,
--       5 lead timeline list, 6 shard stats hash.
-- ARGV: 1 mode ("apply", or "check": only look the event up), 2 expected version,
--       3 new state JSON, 4 outputs JSON (recorded as the outbox), 5 record TTL seconds,
--       6 touch action ("keep", "set", "cancel"), 7 task id to drop ("" none), 8 new task id,
--       9 new task due (Unix ms), 10 new task JSON, 11 timeline entry JSON ("" none),
--       12 timeline cap, 13 number of counters N, then N pairs of (name, delta).
-- Returns {"dup", outbox} when the event was applied before, {"noop", ""} for "check" of an
-- event never applied, {"conflict", version} when the lead's version is not the expected one,
-- and {"ok", new version, unqueued} after the writes, where unqueued is 1 when the dropped task
-- was still in the due set: never claimed by a scheduler, so in no rep's queue. Every argument is
-- checked before the first write: Redis scripts do not roll back.

local rec = redis.call('GET', KEYS[2])
if rec then return {'dup', rec} end
if ARGV[1] == 'check' then return {'noop', ''} end
if ARGV[1] ~= 'apply' then return redis.error_reply('ERR cadence apply: bad mode') end
local expected = tonumber(ARGV[2])
local ttl = tonumber(ARGV[5])
local cap = tonumber(ARGV[12])
local n = tonumber(ARGV[13])
if not expected or not ttl or ttl < 1 or not cap or not n or #ARGV ~= 13 + 2 * n then
  return redis.error_reply('ERR cadence apply: bad arguments')
end
local action = ARGV[6]
local due = tonumber(ARGV[9])
if action ~= 'keep' and action ~= 'set' and action ~= 'cancel' then
  return redis.error_reply('ERR cadence apply: bad touch action')
end
if action == 'set' and (not due or ARGV[8] == '' or ARGV[10] == '') then
  return redis.error_reply('ERR cadence apply: bad touch')
end
for i = 1, n do
  if not tonumber(ARGV[13 + 2 * i]) then
    return redis.error_reply('ERR cadence apply: bad counter delta')
  end
end
local cur = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if cur ~= expected then return {'conflict', tostring(cur)} end
redis.call('HSET', KEYS[1], 'v', cur + 1, 's', ARGV[3])
local unqueued = 0
if ARGV[7] ~= '' then
  unqueued = redis.call('ZREM', KEYS[3], ARGV[7])
  redis.call('HDEL', KEYS[4], ARGV[7])
end
if action == 'set' then
  redis.call('ZADD', KEYS[3], due, ARGV[8])
  redis.call('HSET', KEYS[4], ARGV[8], ARGV[10])
end
if ARGV[11] ~= '' and redis.call('LPUSH', KEYS[5], ARGV[11]) > cap then
  redis.call('LTRIM', KEYS[5], 0, cap - 1)
end
for i = 1, n do
  redis.call('HINCRBY', KEYS[6], ARGV[12 + 2 * i], ARGV[13 + 2 * i])
end
redis.call('SET', KEYS[2], ARGV[4], 'EX', ttl)
return {'ok', tostring(cur + 1), unqueued}
