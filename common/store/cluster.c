/*
 * cluster — slot arithmetic, the command key table, the slot map and redirections for Redis
 * Cluster. Pure functions over memory; see cluster.h.
 */
#include "store/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* CRC16-CCITT (XMODEM: poly 0x1021, init 0), the function Redis Cluster hashes keys with. */
static uint16_t crc16(const char *buf, size_t len)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)((uint16_t)(unsigned char)buf[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
    }
    return crc;
}

int cadence_cluster_key_slot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);
    if (open) {
        size_t from = (size_t)(open - key) + 1;
        const char *close = memchr(key + from, '}', len - from);
        if (close && close > key + from)
            return crc16(key + from, (size_t)(close - (key + from))) & (CADENCE_CLUSTER_SLOTS - 1);
    }
    return crc16(key, len) & (CADENCE_CLUSTER_SLOTS - 1);
}

/* ---- the command table -------------------------------------------------------------------- */

enum keys {
    K_NONE,   /* no key */
    K_FIRST,  /* argv[1] */
    K_SECOND, /* argv[2] (XGROUP CREATE key, OBJECT ENCODING key) */
    K_TWO,    /* argv[1] and argv[2] */
    K_ALL,    /* argv[1..] */
    K_PAIRS,  /* argv[1], argv[3], ... (MSET) */
    K_EVAL,   /* argv[2] = numkeys, keys argv[3..] */
    K_XREAD,  /* after STREAMS: the first half of what follows */
};

struct command {
    const char *name;
    enum keys keys;
    int writes;
};

/* The commands cadence sends, and the usual neighbours of each family (no MULTI/EXEC: a
 * transaction cannot be routed command by command). Sorted by name (binary search). */
static const struct command commands[] = {
    {"APPEND", K_FIRST, 1},
    {"ASKING", K_NONE, 0},
    {"AUTH", K_NONE, 0},
    {"BITCOUNT", K_FIRST, 0},
    {"CLIENT", K_NONE, 0},
    {"CLUSTER", K_NONE, 0},
    {"COMMAND", K_NONE, 0},
    {"CONFIG", K_NONE, 0},
    {"COPY", K_TWO, 1},
    {"DBSIZE", K_NONE, 0},
    {"DECR", K_FIRST, 1},
    {"DECRBY", K_FIRST, 1},
    {"DEL", K_ALL, 1},
    {"DUMP", K_FIRST, 0},
    {"ECHO", K_NONE, 0},
    {"EVAL", K_EVAL, 1},
    {"EVALSHA", K_EVAL, 1},
    {"EVALSHA_RO", K_EVAL, 0},
    {"EVAL_RO", K_EVAL, 0},
    {"EXISTS", K_ALL, 0},
    {"EXPIRE", K_FIRST, 1},
    {"EXPIREAT", K_FIRST, 1},
    {"EXPIRETIME", K_FIRST, 0},
    {"FCALL", K_EVAL, 1},
    {"FCALL_RO", K_EVAL, 0},
    {"FUNCTION", K_NONE, 0},
    {"GET", K_FIRST, 0},
    {"GETBIT", K_FIRST, 0},
    {"GETDEL", K_FIRST, 1},
    {"GETEX", K_FIRST, 1},
    {"GETRANGE", K_FIRST, 0},
    {"GETSET", K_FIRST, 1},
    {"HDEL", K_FIRST, 1},
    {"HEXISTS", K_FIRST, 0},
    {"HGET", K_FIRST, 0},
    {"HGETALL", K_FIRST, 0},
    {"HINCRBY", K_FIRST, 1},
    {"HINCRBYFLOAT", K_FIRST, 1},
    {"HKEYS", K_FIRST, 0},
    {"HLEN", K_FIRST, 0},
    {"HMGET", K_FIRST, 0},
    {"HMSET", K_FIRST, 1},
    {"HRANDFIELD", K_FIRST, 0},
    {"HSCAN", K_FIRST, 0},
    {"HSET", K_FIRST, 1},
    {"HSETNX", K_FIRST, 1},
    {"HSTRLEN", K_FIRST, 0},
    {"HVALS", K_FIRST, 0},
    {"INCR", K_FIRST, 1},
    {"INCRBY", K_FIRST, 1},
    {"INCRBYFLOAT", K_FIRST, 1},
    {"INFO", K_NONE, 0},
    {"LASTSAVE", K_NONE, 0},
    {"LINDEX", K_FIRST, 0},
    {"LINSERT", K_FIRST, 1},
    {"LLEN", K_FIRST, 0},
    {"LMOVE", K_TWO, 1},
    {"LPOP", K_FIRST, 1},
    {"LPOS", K_FIRST, 0},
    {"LPUSH", K_FIRST, 1},
    {"LPUSHX", K_FIRST, 1},
    {"LRANGE", K_FIRST, 0},
    {"LREM", K_FIRST, 1},
    {"LSET", K_FIRST, 1},
    {"LTRIM", K_FIRST, 1},
    {"MEMORY", K_SECOND, 0},
    {"MGET", K_ALL, 0},
    {"MSET", K_PAIRS, 1},
    {"MSETNX", K_PAIRS, 1},
    {"OBJECT", K_SECOND, 0},
    {"PERSIST", K_FIRST, 1},
    {"PEXPIRE", K_FIRST, 1},
    {"PEXPIREAT", K_FIRST, 1},
    {"PEXPIRETIME", K_FIRST, 0},
    {"PFADD", K_FIRST, 1},
    {"PFCOUNT", K_ALL, 0},
    {"PING", K_NONE, 0},
    {"PSETEX", K_FIRST, 1},
    {"PTTL", K_FIRST, 0},
    {"READONLY", K_NONE, 0},
    {"RENAME", K_TWO, 1},
    {"RENAMENX", K_TWO, 1},
    {"ROLE", K_NONE, 0},
    {"RPOP", K_FIRST, 1},
    {"RPOPLPUSH", K_TWO, 1},
    {"RPUSH", K_FIRST, 1},
    {"RPUSHX", K_FIRST, 1},
    {"SADD", K_FIRST, 1},
    {"SCARD", K_FIRST, 0},
    {"SCRIPT", K_NONE, 0},
    {"SDIFF", K_ALL, 0},
    {"SELECT", K_NONE, 0},
    {"SET", K_FIRST, 1},
    {"SETBIT", K_FIRST, 1},
    {"SETEX", K_FIRST, 1},
    {"SETNX", K_FIRST, 1},
    {"SETRANGE", K_FIRST, 1},
    {"SINTER", K_ALL, 0},
    {"SISMEMBER", K_FIRST, 0},
    {"SMEMBERS", K_FIRST, 0},
    {"SMISMEMBER", K_FIRST, 0},
    {"SMOVE", K_TWO, 1},
    {"SPOP", K_FIRST, 1},
    {"SRANDMEMBER", K_FIRST, 0},
    {"SREM", K_FIRST, 1},
    {"SSCAN", K_FIRST, 0},
    {"STRLEN", K_FIRST, 0},
    {"SUNION", K_ALL, 0},
    {"TIME", K_NONE, 0},
    {"TOUCH", K_ALL, 0},
    {"TTL", K_FIRST, 0},
    {"TYPE", K_FIRST, 0},
    {"UNLINK", K_ALL, 1},
    {"WAIT", K_NONE, 0},
    {"XACK", K_FIRST, 1},
    {"XADD", K_FIRST, 1},
    {"XAUTOCLAIM", K_FIRST, 1},
    {"XCLAIM", K_FIRST, 1},
    {"XDEL", K_FIRST, 1},
    {"XGROUP", K_SECOND, 1},
    {"XINFO", K_SECOND, 0},
    {"XLEN", K_FIRST, 0},
    {"XPENDING", K_FIRST, 0},
    {"XRANGE", K_FIRST, 0},
    {"XREAD", K_XREAD, 0},
    {"XREADGROUP", K_XREAD, 1},
    {"XREVRANGE", K_FIRST, 0},
    {"XSETID", K_FIRST, 1},
    {"XTRIM", K_FIRST, 1},
    {"ZADD", K_FIRST, 1},
    {"ZCARD", K_FIRST, 0},
    {"ZCOUNT", K_FIRST, 0},
    {"ZINCRBY", K_FIRST, 1},
    {"ZLEXCOUNT", K_FIRST, 0},
    {"ZMSCORE", K_FIRST, 0},
    {"ZPOPMAX", K_FIRST, 1},
    {"ZPOPMIN", K_FIRST, 1},
    {"ZRANDMEMBER", K_FIRST, 0},
    {"ZRANGE", K_FIRST, 0},
    {"ZRANGEBYLEX", K_FIRST, 0},
    {"ZRANGEBYSCORE", K_FIRST, 0},
    {"ZRANK", K_FIRST, 0},
    {"ZREM", K_FIRST, 1},
    {"ZREMRANGEBYLEX", K_FIRST, 1},
    {"ZREMRANGEBYRANK", K_FIRST, 1},
    {"ZREMRANGEBYSCORE", K_FIRST, 1},
    {"ZREVRANGE", K_FIRST, 0},
    {"ZREVRANGEBYLEX", K_FIRST, 0},
    {"ZREVRANGEBYSCORE", K_FIRST, 0},
    {"ZREVRANK", K_FIRST, 0},
    {"ZSCAN", K_FIRST, 0},
    {"ZSCORE", K_FIRST, 0},
};

static const struct command *lookup(const char *name, size_t len)
{
    size_t lo = 0, hi = sizeof(commands) / sizeof(commands[0]);
    char up[24];
    if (len == 0 || len >= sizeof(up))
        return NULL;
    for (size_t i = 0; i < len; i++)
        up[i] = (name[i] >= 'a' && name[i] <= 'z') ? (char)(name[i] - 'a' + 'A') : name[i];
    up[len] = '\0';
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(up, commands[mid].name);
        if (c == 0)
            return &commands[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static size_t arglen(const char **argv, const size_t *argvlen, int i)
{
    return argvlen ? argvlen[i] : strlen(argv[i]);
}

/* Folds key argv[i] into *slot; returns 0, or -1 when it is in another slot. */
static int fold(int *slot, const char **argv, const size_t *argvlen, int i)
{
    int s = cadence_cluster_key_slot(argv[i], arglen(argv, argvlen, i));
    if (*slot >= 0 && *slot != s)
        return -1;
    *slot = s;
    return 0;
}

int cadence_cluster_command_slot(int argc, const char **argv, const size_t *argvlen)
{
    if (argc < 1 || !argv || !argv[0])
        return CADENCE_CLUSTER_UNKNOWN_CMD;
    const struct command *c = lookup(argv[0], arglen(argv, argvlen, 0));
    if (!c)
        return CADENCE_CLUSTER_UNKNOWN_CMD;
    int slot = CADENCE_CLUSTER_NO_KEY, from = 1, to = 0, step = 1;
    switch (c->keys) {
    case K_NONE:
        return CADENCE_CLUSTER_NO_KEY;
    case K_FIRST:
        to = argc > 1 ? 1 : 0;
        break;
    case K_SECOND:
        if (argc < 3)
            return CADENCE_CLUSTER_UNKNOWN_CMD;
        from = to = 2;
        break;
    case K_TWO:
        to = argc > 2 ? 2 : argc - 1;
        break;
    case K_ALL:
        to = argc - 1;
        break;
    case K_PAIRS:
        to = argc - 1;
        step = 2;
        break;
    case K_EVAL: {
        if (argc < 3)
            return CADENCE_CLUSTER_UNKNOWN_CMD;
        char nk[16];
        size_t l = arglen(argv, argvlen, 2);
        if (l == 0 || l >= sizeof(nk))
            return CADENCE_CLUSTER_UNKNOWN_CMD;
        memcpy(nk, argv[2], l);
        nk[l] = '\0';
        char *end = NULL;
        long n = strtol(nk, &end, 10);
        if (*end || n < 0 || n > argc - 3)
            return CADENCE_CLUSTER_UNKNOWN_CMD;
        from = 3;
        to = 2 + (int)n;
        break;
    }
    case K_XREAD: {
        int s = 1;
        while (s < argc &&
               !(arglen(argv, argvlen, s) == 7 && strncasecmp(argv[s], "STREAMS", 7) == 0))
            s++;
        int rest = argc - s - 1;
        if (s >= argc || rest < 2 || rest % 2)
            return CADENCE_CLUSTER_UNKNOWN_CMD;
        from = s + 1;
        to = s + rest / 2;
        break;
    }
    }
    for (int i = from; i <= to; i += step) {
        if (!argv[i])
            return CADENCE_CLUSTER_UNKNOWN_CMD;
        if (fold(&slot, argv, argvlen, i) != 0)
            return CADENCE_CLUSTER_CROSSSLOT;
    }
    return slot;
}

int cadence_cluster_command_writes(const char *name, size_t len)
{
    const struct command *c = lookup(name, len);
    return c ? c->writes : 0;
}

/* ---- the slot map ------------------------------------------------------------------------- */

void cadence_cluster_map_clear(cadence_cluster_map *m)
{
    m->nnodes = 0;
    m->covered = 0;
    for (size_t i = 0; i < CADENCE_CLUSTER_SLOTS; i++)
        m->slot_node[i] = CADENCE_CLUSTER_NONE;
}

int cadence_cluster_map_find(const cadence_cluster_map *m, const char *host, int port)
{
    for (size_t i = 0; i < m->nnodes; i++) {
        if (m->nodes[i].port == port && strcmp(m->nodes[i].host, host) == 0)
            return (int)i;
    }
    return -1;
}

static int set_node(cadence_cluster_node *n, const char *host, size_t hlen, const char *asked,
                    long long port)
{
    if (hlen == 0 || (hlen == 1 && host[0] == '?')) {
        host = asked;
        hlen = strlen(asked);
    }
    if (hlen == 0 || hlen >= sizeof(n->host) || port <= 0 || port > 65535)
        return -1;
    memcpy(n->host, host, hlen);
    n->host[hlen] = '\0';
    n->port = (int)port;
    return 0;
}

int cadence_cluster_map_from_slots(cadence_cluster_map *m, const redisReply *reply,
                                   const char *asked_host, char *errstr, size_t errstr_size)
{
    cadence_cluster_map_clear(m);
    if (!reply || reply->type != REDIS_REPLY_ARRAY) {
        snprintf(errstr, errstr_size, "CLUSTER SLOTS: not an array");
        return -1;
    }
    for (size_t i = 0; i < reply->elements; i++) {
        const redisReply *e = reply->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
            e->element[0]->type != REDIS_REPLY_INTEGER ||
            e->element[1]->type != REDIS_REPLY_INTEGER ||
            e->element[2]->type != REDIS_REPLY_ARRAY || e->element[2]->elements < 2 ||
            e->element[2]->element[0]->type != REDIS_REPLY_STRING ||
            e->element[2]->element[1]->type != REDIS_REPLY_INTEGER) {
            snprintf(errstr, errstr_size, "CLUSTER SLOTS: malformed range %zu", i);
            goto fail;
        }
        long long lo = e->element[0]->integer, hi = e->element[1]->integer;
        const redisReply *mh = e->element[2]->element[0];
        cadence_cluster_node n;
        if (lo < 0 || hi < lo || hi >= CADENCE_CLUSTER_SLOTS ||
            set_node(&n, mh->str, mh->len, asked_host, e->element[2]->element[1]->integer) != 0) {
            snprintf(errstr, errstr_size, "CLUSTER SLOTS: bad range or master in range %zu", i);
            goto fail;
        }
        int idx = cadence_cluster_map_find(m, n.host, n.port);
        if (idx < 0) {
            if (m->nnodes >= CADENCE_CLUSTER_MAX_NODES) {
                snprintf(errstr, errstr_size, "CLUSTER SLOTS: more than %d masters",
                         CADENCE_CLUSTER_MAX_NODES);
                goto fail;
            }
            idx = (int)m->nnodes;
            n.replicas = 0;
            m->nodes[m->nnodes++] = n;
        }
        if ((int)e->elements - 3 > m->nodes[idx].replicas)
            m->nodes[idx].replicas = (int)e->elements - 3;
        for (long long s = lo; s <= hi; s++) {
            if (m->slot_node[s] == CADENCE_CLUSTER_NONE)
                m->covered++;
            m->slot_node[s] = (uint16_t)idx;
        }
    }
    return 0;
fail:
    cadence_cluster_map_clear(m);
    return -1;
}

/* ---- redirections and retryable errors ----------------------------------------------------- */

enum cadence_cluster_redirect_kind cadence_cluster_redirect_parse(const char *err, size_t len,
                                                                  const char *asked_host,
                                                                  cadence_cluster_redirect *out)
{
    char buf[CADENCE_CLUSTER_HOST_MAX + 64];
    enum cadence_cluster_redirect_kind kind;
    size_t skip;
    if (!err || len >= sizeof(buf))
        return CADENCE_CLUSTER_REDIRECT_NONE;
    if (len > 6 && strncmp(err, "MOVED ", 6) == 0) {
        kind = CADENCE_CLUSTER_REDIRECT_MOVED;
        skip = 6;
    } else if (len > 4 && strncmp(err, "ASK ", 4) == 0) {
        kind = CADENCE_CLUSTER_REDIRECT_ASK;
        skip = 4;
    } else {
        return CADENCE_CLUSTER_REDIRECT_NONE;
    }
    memcpy(buf, err, len);
    buf[len] = '\0';
    char *p = buf + skip, *end = NULL;
    long slot = strtol(p, &end, 10);
    if (end == p || *end != ' ' || slot < 0 || slot >= CADENCE_CLUSTER_SLOTS)
        return CADENCE_CLUSTER_REDIRECT_NONE;
    char *addr = end + 1;
    char *colon = strrchr(addr, ':');
    if (!colon)
        return CADENCE_CLUSTER_REDIRECT_NONE;
    char *pend = NULL;
    long port = strtol(colon + 1, &pend, 10);
    if (pend == colon + 1 || *pend)
        return CADENCE_CLUSTER_REDIRECT_NONE;
    cadence_cluster_redirect r = {.kind = kind, .slot = (int)slot};
    r.node.replicas = 0;
    if (set_node(&r.node, addr, (size_t)(colon - addr), asked_host ? asked_host : "", port) != 0)
        return CADENCE_CLUSTER_REDIRECT_NONE;
    *out = r;
    return kind;
}

int cadence_cluster_error_is_retryable(const char *err, size_t len)
{
    return err && ((len >= 8 && strncmp(err, "TRYAGAIN", 8) == 0) ||
                   (len >= 11 && strncmp(err, "CLUSTERDOWN", 11) == 0));
}
