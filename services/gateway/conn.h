/*
 * conn — the gateway's connection filter: limits on each connection's request heads, bodies
 * and time, and on the number of open connections (see conn.c).
 */
#ifndef CADENCE_GATEWAY_CONN_H
#define CADENCE_GATEWAY_CONN_H

#include <event2/http.h>
#include <stddef.h>

struct gateway;
typedef struct gw_conns gw_conns;

typedef struct gw_conn_limits {
    size_t max_request_line;           /* CADENCE_HTTP_MAX_REQUEST_LINE → 414 */
    size_t max_header_bytes;           /* CADENCE_HTTP_MAX_HEADER_BYTES → 431 */
    unsigned long long max_body_bytes; /* CADENCE_MAX_BODY_BYTES → 413 */
    long read_timeout_ms;              /* CADENCE_HTTP_READ_TIMEOUT_MS → 408 */
    long idle_timeout_ms;              /* CADENCE_HTTP_IDLE_TIMEOUT_MS: idle keep-alive closed */
    long linger_ms;                    /* CADENCE_HTTP_LINGER_MS: reading after a refusal */
    long max_connections;              /* CADENCE_HTTP_MAX_CONNECTIONS → 503 */
} gw_conn_limits;

/* Installs the filter on `http` (every connection accepted from now on). NULL on no memory. */
gw_conns *gw_conns_new(struct gateway *g, struct evhttp *http, const gw_conn_limits *lim);

/* Connections open now. */
size_t gw_conns_open(const gw_conns *cs);

/* The gateway is going away (its metrics first): connections freed later touch nothing of it. */
void gw_conns_detach(gw_conns *cs);

/* Frees (after evhttp_free, which closes the connections). NULL is a no-op. */
void gw_conns_free(gw_conns *cs);

#endif
