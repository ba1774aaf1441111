-- append_alert — appends an alert to a rep's stream once per alert id (and revision). Rep slot {r:<rep_id>}.
--
-- KEYS: 1 rep alerts stream, 2 rep alert_ids zset (the stream's dedupe).
-- ARGV: 1 alert id ("<alert_id>#r<n>" for revision n > 1), 2 alert JSON, 3 time added (Unix ms), 4 stream MAXLEN (approximate),
--       5 ids kept in the dedupe zset (the newest).
-- Returns 1 when appended, 0 when the alert id was appended before.

if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], '*', 'alert', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local n = redis.call('ZCARD', KEYS[2])
local keep = tonumber(ARGV[5])
if n > keep then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, n - keep - 1) end
return 1
