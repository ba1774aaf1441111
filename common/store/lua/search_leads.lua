-- search_leads — a rep's leads whose name, company, email or id starts with a prefix. Rep slot
-- {r:<rep_id>}. Writes nothing.
--
-- KEYS: 1 rep lead index zset, 2 rep lead cards hash (both kept by index_lead.lua).
-- ARGV: 1 prefix (lower case, non-empty), 2 limit (most leads returned, 1..100).
-- Returns a flat array [lead_id, card JSON, ...] of distinct leads in term order.

local prefix = ARGV[1]
local limit = tonumber(ARGV[2])
if not prefix or prefix == '' or not limit or limit < 1 or limit > 100 then
  return redis.error_reply('ERR cadence search: bad arguments')
end
local out, seen, n = {}, {}, 0
local from = '[' .. prefix
local to = '[' .. prefix .. '\255'
local offset = 0
-- Several terms of one lead may match ("ana", "ana smith"): read on until `limit` leads.
while n < limit do
  local page = redis.call('ZRANGEBYLEX', KEYS[1], from, to, 'LIMIT', offset, 4 * limit)
  if #page == 0 then break end
  offset = offset + #page
  for _, member in ipairs(page) do
    local sep = string.find(member, '\1', 1, true)
    local lead = sep and string.sub(member, sep + 1) or nil
    if lead and not seen[lead] then
      seen[lead] = true
      local card = redis.call('HGET', KEYS[2], lead)
      if card then
        out[#out + 1] = lead
        out[#out + 1] = card
        n = n + 1
        if n >= limit then break end
      end
    end
  end
end
return out
