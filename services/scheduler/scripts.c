/* scripts — see scripts.h. */
#include "scripts.h"

const char scheduler_claim_lua[] =
    "local now = tonumber(ARGV[1])\n"
    "local deadline = tonumber(ARGV[2])\n"
    "local limit = tonumber(ARGV[3])\n"
    "if not now or not deadline or not limit or limit < 1 or deadline < now then\n"
    "  return redis.error_reply('ERR cadence claim: bad arguments')\n"
    "end\n"
    "local out = {0}\n"
    "local scanned = 0\n"
    "local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, limit)\n"
    "for _, id in ipairs(expired) do\n"
    "  scanned = scanned + 1\n"
    "  local j = redis.call('HGET', KEYS[2], id)\n"
    "  if j then\n"
    "    redis.call('ZADD', KEYS[3], deadline, id)\n"
    "    out[#out + 1] = id; out[#out + 1] = j; out[#out + 1] = 1\n"
    "  else\n"
    "    redis.call('ZREM', KEYS[3], id)\n"
    "  end\n"
    "end\n"
    "if scanned < limit then\n"
    "  local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, limit - scanned)\n"
    "  for _, id in ipairs(due) do\n"
    "    scanned = scanned + 1\n"
    "    redis.call('ZREM', KEYS[1], id)\n"
    "    local j = redis.call('HGET', KEYS[2], id)\n"
    "    if j and not redis.call('ZSCORE', KEYS[3], id) then\n"
    "      redis.call('ZADD', KEYS[3], deadline, id)\n"
    "      out[#out + 1] = id; out[#out + 1] = j; out[#out + 1] = 0\n"
    "    end\n"
    "  end\n"
    "end\n"
    "out[1] = scanned\n"
    "return out\n";

const char scheduler_ack_lua[] =
    "local lease = tonumber(ARGV[2])\n"
    "if ARGV[1] == '' or not lease then\n"
    "  return redis.error_reply('ERR cadence ack: bad arguments')\n"
    "end\n"
    "local s = redis.call('ZSCORE', KEYS[1], ARGV[1])\n"
    "if s and tonumber(s) == lease then redis.call('ZREM', KEYS[1], ARGV[1]) end\n"
    "return redis.call('HEXISTS', KEYS[2], ARGV[1])\n";

const char scheduler_queue_lua[] =
    "local due = tonumber(ARGV[1])\n"
    "if not due or ARGV[2] == '' or ARGV[3] == '' then\n"
    "  return redis.error_reply('ERR cadence queue: bad arguments')\n"
    "end\n"
    "redis.call('ZADD', KEYS[1], due, ARGV[2])\n"
    "redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])\n"
    "local z = redis.call('ZCARD', KEYS[1])\n"
    "if redis.call('HLEN', KEYS[2]) > 2 * z + 16 then\n"
    "  for _, id in ipairs(redis.call('HKEYS', KEYS[2])) do\n"
    "    if not redis.call('ZSCORE', KEYS[1], id) then redis.call('HDEL', KEYS[2], id) end\n"
    "  end\n"
    "end\n"
    "return 1\n";

const char scheduler_unqueue_lua[] =
    "if ARGV[1] == '' then return redis.error_reply('ERR cadence unqueue: bad arguments') end\n"
    "redis.call('ZREM', KEYS[1], ARGV[1])\n"
    "redis.call('HDEL', KEYS[2], ARGV[1])\n"
    "return 1\n";
