/*
 * redis_url — CADENCE_REDIS_URL parser. Strict: anything unexpected is an error, because a
 * silently misread URL sends a service to the wrong database.
 */
#include "core/redis_url.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Copies [s, s+n) into dst with %XX decoding. Returns 0 or -1 (bad escape, too long). */
static int decode_part(const char *s, size_t n, char *dst, size_t dst_size)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (o + 1 >= dst_size)
            return -1;
        dst[o++] = c;
    }
    dst[o] = '\0';
    return 0;
}

static int parse_long(const char *s, size_t n, long min, long max, long *out)
{
    char buf[32];
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (buf[i] < '0' || buf[i] > '9')
            return -1;
    errno = 0;
    char *end = NULL;
    long v = strtol(buf, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_unix(const char *rest, cadence_redis_url *out, char *errstr, size_t errstr_size)
{
    /* rest is what follows "unix://": must be an absolute path. */
    if (rest[0] != '/') {
        snprintf(errstr, errstr_size, "unix:// URL needs an absolute socket path (unix:///path)");
        return -1;
    }
    const char *q = strchr(rest, '?');
    size_t plen = q ? (size_t)(q - rest) : strlen(rest);
    if (plen >= sizeof(out->path)) {
        snprintf(errstr, errstr_size, "socket path too long");
        return -1;
    }
    memcpy(out->path, rest, plen);
    out->path[plen] = '\0';
    if (q) {
        long db;
        if (strncmp(q, "?db=", 4) != 0 || parse_long(q + 4, strlen(q + 4), 0, 1000000, &db) != 0) {
            snprintf(errstr, errstr_size, "unix:// URL query must be ?db=N");
            return -1;
        }
        out->db = (int)db;
    }
    out->is_unix = 1;
    return 0;
}

/* Parses one URL (no commas) into `out`, which the caller zeroed. */
static int parse_single(const char *url, cadence_redis_url *out, char *errstr, size_t errstr_size)
{
    out->port = 6379;
    if (!url || !*url) {
        snprintf(errstr, errstr_size, "empty Redis URL");
        return -1;
    }
    if (strncmp(url, "unix://", 7) == 0)
        return parse_unix(url + 7, out, errstr, errstr_size);
    if (strncmp(url, "rediss://", 9) == 0) {
        snprintf(errstr, errstr_size, "rediss:// (TLS) is not supported; use redis:// or unix://");
        return -1;
    }
    if (strncmp(url, "redis://", 8) != 0) {
        snprintf(errstr, errstr_size, "must start with redis:// or unix:// (got \"%.40s\")", url);
        return -1;
    }
    const char *p = url + 8;
    const char *end = p + strlen(p);
    const char *slash = strchr(p, '/');
    const char *auth_end = NULL;
    /* The userinfo ends at the last '@' before the path. */
    for (const char *c = p; c < (slash ? slash : end); c++)
        if (*c == '@')
            auth_end = c;
    if (auth_end) {
        const char *colon = memchr(p, ':', (size_t)(auth_end - p));
        if (!colon) {
            snprintf(errstr, errstr_size, "credentials must be [username]:password@");
            return -1;
        }
        if (decode_part(p, (size_t)(colon - p), out->username, sizeof(out->username)) != 0 ||
            decode_part(colon + 1, (size_t)(auth_end - colon - 1), out->password,
                        sizeof(out->password)) != 0) {
            snprintf(errstr, errstr_size, "bad percent-encoding or too long credentials");
            return -1;
        }
        p = auth_end + 1;
    }
    const char *hostport_end = slash ? slash : end;
    const char *port_sep = NULL;
    const char *host_start = p, *host_end;
    if (*p == '[') {
        const char *rb = memchr(p, ']', (size_t)(hostport_end - p));
        if (!rb) {
            snprintf(errstr, errstr_size, "unterminated IPv6 host");
            return -1;
        }
        host_start = p + 1;
        host_end = rb;
        if (rb + 1 < hostport_end) {
            if (rb[1] != ':') {
                snprintf(errstr, errstr_size, "expected ':' after IPv6 host");
                return -1;
            }
            port_sep = rb + 1;
        }
    } else {
        port_sep = memchr(p, ':', (size_t)(hostport_end - p));
        host_end = port_sep ? port_sep : hostport_end;
    }
    size_t hlen = (size_t)(host_end - host_start);
    if (hlen == 0) {
        snprintf(errstr, errstr_size, "missing host");
        return -1;
    }
    if (hlen >= sizeof(out->host)) {
        snprintf(errstr, errstr_size, "host too long");
        return -1;
    }
    memcpy(out->host, host_start, hlen);
    out->host[hlen] = '\0';
    if (port_sep) {
        long port;
        if (parse_long(port_sep + 1, (size_t)(hostport_end - port_sep - 1), 1, 65535, &port) != 0) {
            snprintf(errstr, errstr_size, "port must be a number from 1 to 65535");
            return -1;
        }
        out->port = (int)port;
    }
    if (slash && slash + 1 < end) {
        long db;
        if (parse_long(slash + 1, (size_t)(end - slash - 1), 0, 1000000, &db) != 0) {
            snprintf(errstr, errstr_size, "database must be a non-negative number (/0, /1, ...)");
            return -1;
        }
        out->db = (int)db;
    }
    return 0;
}

void cadence_redis_url_format_safe(const cadence_redis_url *u, char *buf, size_t size)
{
    const char *auth = u->password[0] ? ":***@" : "";
    if (u->is_unix)
        snprintf(buf, size, "unix://%s?db=%d", u->path, u->db);
    else if (strchr(u->host, ':'))
        snprintf(buf, size, "redis://%s[%s]:%d/%d", auth, u->host, u->port, u->db);
    else
        snprintf(buf, size, "redis://%s%s:%d/%d", auth, u->host, u->port, u->db);
}

/* A further seed: a full redis:// URL or host:port (a bare host gets port 6379). */
static int parse_seed(const char *text, cadence_redis_seed *seed, char *errstr, size_t errstr_size)
{
    cadence_redis_url u;
    char buf[CADENCE_REDIS_URL_MAX + 16];
    memset(&u, 0, sizeof(u));
    if (strstr(text, "://")) {
        if (strncmp(text, "redis://", 8) != 0) {
            snprintf(errstr, errstr_size, "every seed node must be redis:// (got \"%.40s\")", text);
            return -1;
        }
        if (parse_single(text, &u, errstr, errstr_size) != 0)
            return -1;
    } else {
        if (strlen(text) >= CADENCE_REDIS_URL_MAX || strpbrk(text, "@/")) {
            snprintf(errstr, errstr_size, "a seed node must be host:port (got \"%.40s\")", text);
            return -1;
        }
        snprintf(buf, sizeof(buf), "redis://%s", text);
        if (parse_single(buf, &u, errstr, errstr_size) != 0)
            return -1;
    }
    memcpy(seed->host, u.host, sizeof(seed->host));
    seed->port = u.port;
    return 0;
}

int cadence_redis_url_parse(const char *url, cadence_redis_url *out, char *errstr,
                            size_t errstr_size)
{
    memset(out, 0, sizeof(*out));
    const char *comma = url ? strchr(url, ',') : NULL;
    if (!comma) {
        if (parse_single(url, out, errstr, errstr_size) != 0)
            return -1;
        if (!out->is_unix) {
            out->nseeds = 1;
            memcpy(out->seeds[0].host, out->host, sizeof(out->host));
            out->seeds[0].port = out->port;
        }
        return 0;
    }
    size_t total = strlen(url);
    char *copy = malloc(total + 1);
    if (!copy) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    memcpy(copy, url, total + 1);
    int rc = 0;
    char *save = NULL;
    int i = 0;
    for (char *tok = copy; tok && rc == 0; tok = save, i++) {
        char *next = strchr(tok, ',');
        save = next ? next + 1 : NULL;
        if (next)
            *next = '\0';
        char why[160];
        if (!*tok) {
            snprintf(errstr, errstr_size, "empty seed node in the list");
            rc = -1;
        } else if (i >= CADENCE_REDIS_URL_MAX_SEEDS) {
            snprintf(errstr, errstr_size, "more than %d seed nodes", CADENCE_REDIS_URL_MAX_SEEDS);
            rc = -1;
        } else if (i == 0) {
            rc = parse_single(tok, out, errstr, errstr_size);
            if (rc == 0 && out->is_unix) {
                snprintf(errstr, errstr_size, "several seed nodes must all be redis:// (TCP)");
                rc = -1;
            }
            if (rc == 0) {
                memcpy(out->seeds[0].host, out->host, sizeof(out->host));
                out->seeds[0].port = out->port;
            }
        } else if (parse_seed(tok, &out->seeds[i], why, sizeof(why)) != 0) {
            snprintf(errstr, errstr_size, "seed node %d: %s", i + 1, why);
            rc = -1;
        }
    }
    free(copy);
    if (rc == 0)
        out->nseeds = i;
    return rc;
}
