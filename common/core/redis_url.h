/*
 * redis_url — parses CADENCE_REDIS_URL.
 *
 * Accepted forms:
 *   redis://[[username]:password@]host[:port][/db]     (port defaults to 6379, db to 0)
 *   unix:///absolute/path/to/redis.sock[?db=N]
 * The username and password may be percent-encoded (%40 for '@', %2C for ','). IPv6 hosts go in
 * brackets (redis://[::1]:6379). TLS (rediss://) is not supported by hiredis 0.14 and is refused.
 *
 * Redis Cluster seeds: several nodes separated by commas, the first a full redis:// URL and
 * the others either `host:port` or full redis:// URLs (only their host and port are used; the
 * credentials are the first one's):
 *   redis://:secret@10.0.0.1:7000,10.0.0.2:7000,10.0.0.3:7000
 * Every node is listed in `seeds` (the first is also `host`/`port`). Several seeds are only
 * accepted by the configuration together with CADENCE_REDIS_CLUSTER=1.
 */
#ifndef CADENCE_REDIS_URL_H
#define CADENCE_REDIS_URL_H

#include <stddef.h>

#define CADENCE_REDIS_URL_MAX 256

/* Most seed nodes in one CADENCE_REDIS_URL. */
#define CADENCE_REDIS_URL_MAX_SEEDS 16

typedef struct cadence_redis_seed {
    char host[CADENCE_REDIS_URL_MAX];
    int port;
} cadence_redis_seed;

typedef struct cadence_redis_url {
    int is_unix;                          /* 1 for unix://, 0 for redis:// */
    char host[CADENCE_REDIS_URL_MAX];     /* TCP host (brackets removed for IPv6) */
    int port;                             /* TCP port */
    char path[CADENCE_REDIS_URL_MAX];     /* socket path for unix:// */
    char username[CADENCE_REDIS_URL_MAX]; /* ACL user, "" for none */
    char password[CADENCE_REDIS_URL_MAX]; /* AUTH password, "" for none */
    int db;                               /* SELECT index, 0..15 by default config */
    int nseeds;                           /* TCP nodes listed (1 for one node, 0 for unix) */
    cadence_redis_seed seeds[CADENCE_REDIS_URL_MAX_SEEDS];
    int cluster; /* 1: Redis Cluster (CADENCE_REDIS_CLUSTER=1), routed by slot over the seeds */
    int wait_replicas; /* cluster: a write is answered once this many replicas have it (WAIT) */
} cadence_redis_url;

/*
 * Parses `url` into `out`. Returns 0, or -1 with a message in `errstr` saying what is wrong
 * (the caller adds the variable's name).
 */
int cadence_redis_url_parse(const char *url, cadence_redis_url *out, char *errstr,
                            size_t errstr_size);

/* Writes a printable form with the password masked ("redis://:***@host:port/db"). */
void cadence_redis_url_format_safe(const cadence_redis_url *u, char *buf, size_t size);

#endif
