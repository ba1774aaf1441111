-- apply_event — applies one event to one lead, all or nothing, and remembers it in the lead's
-- own hash so that a redelivered or duplicated event is applied once. Every key carries the
-- lead's shard hash tag {s<N>} (one Redis Cluster slot).
--
-- KEYS: 1 lead hash, 2 shard due zset, 3 shard tasks hash, 4 lead timeline list,
--       5 shard stats hash.
-- ARGV: 1 mode ("apply", or "check": only look the event up), 2 event id,
--       3 source ("<topic>:<partition>" of the Kafka message, "" none), 4 its offset (-1 none),
--       5 floor: an offset such that every event of this lead from that source up to it is
--         applied once this one is (the worker applies a lead's events in time order, so it is
--         below the offset while an earlier offset of the lead is still to come, and may be
--         above it when later offsets went first), 6 expected version, optionally followed by a
--         space and the id of the event whose apply must have written that version (a
--         chained apply, see below), 7 new state JSON, 8 outputs JSON ("" or "[]": none),
--       9 touch action ("keep", "set", "cancel"), 10 task id to drop ("" none), 11 new task id,
--       12 new task due (Unix ms), 13 new task JSON, 14 timeline entry JSON ("" none),
--       15 timeline cap, 16 outboxes kept, 17 when the stats hash (KEYS[5]) expires (Unix
--       seconds, "0": never), 18 number of counters N, then N pairs of (name, delta).
--       The expiry is set when a counter creates its field (so always when the day's hash is
--       created, and not on every apply; a time in the past drops the hash at once).
--
-- The lead hash holds, besides `v` (version) and `s` (state, which remembers the lead's last
-- event ids: the worker's engine recognises a replayed id against the state it read at the
-- version this script checks):
--   w:<source> the watermark of that source: every event of this lead from it with an offset
--              ≤ this is applied (catches a redelivery after a crash, however many events of
--              the lead were in flight)
--   x:<id>     the outputs of an applied event that had any (the outbox: a redelivered event
--              produces them again), until the worker drops it once Kafka acknowledged them;
--              xr lists these ids " id1 id2 … " and keeps at most ARGV[16] (the oldest is
--              dropped), should a worker die before dropping them
--   e          the id of the event the last write applied
-- So the memory of deduplication is bounded per lead, not per event.
--
-- A chained apply: a worker sends a lead's events of one batch together, the second expecting
-- the version the first writes. Should the first be refused (another worker wrote that version
-- first), the second would find the version it expects and overwrite the other worker's write;
-- so the second names the first's event id and is refused unless `e` holds it.
--
-- An event is a duplicate when its offset is at or below its source's watermark or it has an
-- outbox. Returns {"dup", outbox or ""} for a duplicate, {"noop", ""} for
-- "check" of an event never applied, {"conflict", version} when the lead's version is not the
-- expected one, and {"ok", new version, unqueued} after the writes, where unqueued is 1 when the
-- dropped task was still in the due set: never claimed by a scheduler, so in no rep's queue.
-- Every argument is checked before the first write: Redis scripts do not roll back.

local id, src = ARGV[2], ARGV[3]
local offset, floor = tonumber(ARGV[4]), tonumber(ARGV[5])
if not offset or not floor or id == '' or string.find(id, ' ', 1, true) then
  return redis.error_reply('ERR cadence apply: bad event')
end
local wfield = 'w:' .. src
local cur = redis.call('HMGET', KEYS[1], 'v', wfield, 'x:' .. id, 'xr', 'e')
local wm, outbox = tonumber(cur[2] or '-1'), cur[3]
if outbox or (src ~= '' and offset >= 0 and offset <= wm) then
  return {'dup', outbox or ''}
end
if ARGV[1] == 'check' then return {'noop', ''} end
if ARGV[1] ~= 'apply' then return redis.error_reply('ERR cadence apply: bad mode') end
local exp_v, after = string.match(ARGV[6], '^(%-?%d+) ?(.*)$')
local expected = tonumber(exp_v)
local cap, keep_outs = tonumber(ARGV[15]), tonumber(ARGV[16])
local expire_at, n = tonumber(ARGV[17]), tonumber(ARGV[18])
if not expected or not cap or not keep_outs or keep_outs < 0 or not expire_at or not n
    or #ARGV ~= 18 + 2 * n then
  return redis.error_reply('ERR cadence apply: bad arguments')
end
local action = ARGV[9]
local due = tonumber(ARGV[12])
if action ~= 'keep' and action ~= 'set' and action ~= 'cancel' then
  return redis.error_reply('ERR cadence apply: bad touch action')
end
if action == 'set' and (not due or ARGV[11] == '' or ARGV[13] == '') then
  return redis.error_reply('ERR cadence apply: bad touch')
end
for i = 1, n do
  if not tonumber(ARGV[18 + 2 * i]) then
    return redis.error_reply('ERR cadence apply: bad counter delta')
  end
end
local v = tonumber(cur[1] or '0')
if v ~= expected or (after ~= '' and cur[5] ~= after) then return {'conflict', tostring(v)} end

-- " a b c " + id, less the oldest while more than `keep` are held
local function push(list, item, keep)
  list = list .. item .. ' '
  local _, spaces = string.gsub(list, ' ', ' ')
  local dropped = nil
  if spaces - 1 > keep then
    local e = string.find(list, ' ', 2, true)
    dropped = string.sub(list, 2, e - 1)
    list = string.sub(list, e)
  end
  return list, dropped
end

local fields = {'v', v + 1, 's', ARGV[7], 'e', id}
if src ~= '' and floor > wm then
  fields[#fields + 1] = wfield
  fields[#fields + 1] = floor
end
local outs = ARGV[8]
if keep_outs > 0 and outs ~= '' and outs ~= '[]' then
  local xr, dropped = push(cur[4] or ' ', id, keep_outs)
  fields[#fields + 1] = 'x:' .. id
  fields[#fields + 1] = outs
  fields[#fields + 1] = 'xr'
  fields[#fields + 1] = xr
  if dropped then redis.call('HDEL', KEYS[1], 'x:' .. dropped) end
end
redis.call('HSET', KEYS[1], unpack(fields))
local unqueued = 0
if ARGV[10] ~= '' then
  unqueued = redis.call('ZREM', KEYS[2], ARGV[10])
  redis.call('HDEL', KEYS[3], ARGV[10])
end
if action == 'set' then
  redis.call('ZADD', KEYS[2], due, ARGV[11])
  redis.call('HSET', KEYS[3], ARGV[11], ARGV[13])
end
if ARGV[14] ~= '' and redis.call('LPUSH', KEYS[4], ARGV[14]) > cap then
  redis.call('LTRIM', KEYS[4], 0, cap - 1)
end
local fresh = false
for i = 1, n do
  local delta = tonumber(ARGV[18 + 2 * i])
  if redis.call('HINCRBY', KEYS[5], ARGV[17 + 2 * i], delta) == delta then fresh = true end
end
if fresh and expire_at > 0 then redis.call('EXPIREAT', KEYS[5], expire_at) end
return {'ok', tostring(v + 1), unqueued}
