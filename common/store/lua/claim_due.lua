-- claim_due — takes due touches of one shard into flight under a lease. Shard slot {s<N>}.
--
-- KEYS: 1 due zset, 2 tasks hash, 3 inflight zset.
-- ARGV: 1 now (Unix ms), 2 lease deadline (Unix ms), 3 limit.
-- First takes in-flight entries whose lease expired (a scheduler died or stalled between claim
-- and acknowledgement): each whose task still exists gets the new lease and is returned as
-- re-claimed; those whose task was cancelled meanwhile are dropped. Then takes due entries
-- (due <= now) up to the limit: each moves from the due set to the in-flight set with the lease;
-- an entry whose task JSON is gone is dropped.
-- Returns {scanned, id1, json1, reclaimed1, id2, ...}: scanned (entries looked at) equal to the
-- limit means there may be more, so the caller claims again at once.

local now = tonumber(ARGV[1])
local deadline = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
if not now or not deadline or not limit or limit < 1 or deadline < now then
  return redis.error_reply('ERR cadence claim: bad arguments')
end
local out = {0}
local scanned = 0
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, limit)
for _, id in ipairs(expired) do
  scanned = scanned + 1
  local j = redis.call('HGET', KEYS[2], id)
  if j then
    redis.call('ZADD', KEYS[3], deadline, id)
    out[#out + 1] = id; out[#out + 1] = j; out[#out + 1] = 1
  else
    redis.call('ZREM', KEYS[3], id)
  end
end
if scanned < limit then
  local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, limit - scanned)
  for _, id in ipairs(due) do
    scanned = scanned + 1
    redis.call('ZREM', KEYS[1], id)
    local j = redis.call('HGET', KEYS[2], id)
    if j and not redis.call('ZSCORE', KEYS[3], id) then
      redis.call('ZADD', KEYS[3], deadline, id)
      out[#out + 1] = id; out[#out + 1] = j; out[#out + 1] = 0
    end
  end
end
out[1] = scanned
return out
