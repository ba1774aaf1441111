/*
 * redis_url — parses CADENCE_REDIS_URL.
 *
 * Accepted forms:
 *   redis://[[username]:password@]host[:port][/db]     (port defaults to 6379, db to 0)
 *   unix:///absolute/path/to/redis.sock[?db=N]
 * The username and password may be percent-encoded (%40 for '@'). IPv6 hosts go in brackets
 * (redis://[::1]:6379). TLS (rediss://) is not supported by hiredis 0.14 and is refused.
 */
#ifndef CADENCE_REDIS_URL_H
#define CADENCE_REDIS_URL_H

#include <stddef.h>

#define CADENCE_REDIS_URL_MAX 256

typedef struct cadence_redis_url {
    int is_unix;                          /* 1 for unix://, 0 for redis:// */
    char host[CADENCE_REDIS_URL_MAX];     /* TCP host (brackets removed for IPv6) */
    int port;                             /* TCP port */
    char path[CADENCE_REDIS_URL_MAX];     /* socket path for unix:// */
    char username[CADENCE_REDIS_URL_MAX]; /* ACL user, "" for none */
    char password[CADENCE_REDIS_URL_MAX]; /* AUTH password, "" for none */
    int db;                               /* SELECT index, 0..15 by default config */
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
