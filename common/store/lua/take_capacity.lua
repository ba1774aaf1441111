-- take_capacity — takes places in one rep's day for touches about to be published. Rep slot
-- {r:<rep_id>}.
--
-- KEYS: 1 the rep's day set cad:{r:<rep_id>}:cap:<YYYY-MM-DD> (task ids given a place).
-- ARGV: 1 capacity (places per day, > 0), 2 TTL of the day set in seconds (> 0), then N pairs
--       (task id, must: 1 = always given a place, e.g. a callback; 0 = only while there is room),
--       in the order places are handed out (highest priority first).
-- A task id already in the set keeps its place (a re-claim after a lease is idempotent), and
-- counts once. Returns an array of N integers: 1 = the task has a place today, 0 = the day is
-- full (the caller moves it to the next business day).

local cap, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
local n = (#ARGV - 2) / 2
if not cap or cap < 1 or not ttl or ttl < 1 or n < 1 or (#ARGV - 2) % 2 ~= 0 then
  return redis.error_reply('ERR cadence take_capacity: bad arguments')
end
for i = 1, n do
  local must = ARGV[2 + 2 * i]
  if ARGV[1 + 2 * i] == '' or (must ~= '0' and must ~= '1') then
    return redis.error_reply('ERR cadence take_capacity: bad arguments')
  end
end
local out = {}
local used = redis.call('SCARD', KEYS[1])
for i = 1, n do
  local id, must = ARGV[1 + 2 * i], ARGV[2 + 2 * i]
  if redis.call('SISMEMBER', KEYS[1], id) == 1 then
    out[i] = 1
  elseif must == '1' or used < cap then
    redis.call('SADD', KEYS[1], id)
    used = used + 1
    out[i] = 1
  else
    out[i] = 0
  end
end
redis.call('EXPIRE', KEYS[1], ttl)
return out
