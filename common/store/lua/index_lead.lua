-- index_lead — keeps a rep's lead search index: the terms a rep finds a lead by (name, company,
-- email, id; lower case) and the lead's card shown in the results. Rep slot {r:<rep_id>}.
--
-- KEYS: 1 rep lead index zset (score 0, members "<term>\1<lead_id>", read by ZRANGEBYLEX),
--       2 rep lead cards hash (lead_id → card JSON),
--       3 rep lead terms hash (lead_id → the lead's terms joined by "\1", to remove them later).
-- ARGV: 1 lead id, 2 card JSON ('' removes the lead from the rep's index), 3.. terms.
-- Replaces the lead's previous terms, so a renamed lead is no longer found by its old name.
-- Returns the number of terms indexed.

local lead = ARGV[1]
if not lead or lead == '' or string.find(lead, '\1', 1, true) then
  return redis.error_reply('ERR cadence index: bad lead id')
end
if ARGV[2] == nil or (ARGV[2] == '' and #ARGV > 2) then
  return redis.error_reply('ERR cadence index: bad arguments')
end
for i = 3, #ARGV do
  if ARGV[i] == '' or string.find(ARGV[i], '\1', 1, true) then
    return redis.error_reply('ERR cadence index: bad term')
  end
end
local old = redis.call('HGET', KEYS[3], lead)
if old then
  for term in string.gmatch(old, '[^\1]+') do
    redis.call('ZREM', KEYS[1], term .. '\1' .. lead)
  end
end
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[2], lead)
  redis.call('HDEL', KEYS[3], lead)
  return 0
end
local terms = {}
for i = 3, #ARGV do
  redis.call('ZADD', KEYS[1], 0, ARGV[i] .. '\1' .. lead)
  terms[#terms + 1] = ARGV[i]
end
redis.call('HSET', KEYS[2], lead, ARGV[2])
redis.call('HSET', KEYS[3], lead, table.concat(terms, '\1'))
return #terms
