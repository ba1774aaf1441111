-- read_queue — a rep's open tasks due up to a time, with their JSON. Rep slot {r:<rep_id>}.
--
-- KEYS: 1 rep queue zset, 2 rep tasks hash.
-- ARGV: 1 max score (due, Unix ms), 2 limit.
-- Returns a flat array [id, score, json, ...] in due order; json is '' when the hash has no
-- entry for the id. Writes nothing.

local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, ARGV[2])
local out = {}
for i = 1, #ids, 2 do
  out[#out + 1] = ids[i]
  out[#out + 1] = ids[i + 1]
  out[#out + 1] = redis.call('HGET', KEYS[2], ids[i]) or ''
end
return out
