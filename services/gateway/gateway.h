/*
 * gateway — the shared context of cadence-gateway and the helpers its route handlers use.
 *
 * One libevent loop runs everything: the evhttp server (routes dispatched from one table in
 * routes.c), the idempotent producer (ingest answers 202 only from the delivery callbacks), the
 * async Redis client (reads for the API, the alert fan-in writes, the SSE polling), the alerts.v1
 * consumer (woken by librdkafka, kafka_wake.h), and the signals (SIGHUP re-reads the tokens and
 * secrets files; SIGTERM/SIGINT go through the common service stopper).
 *
 * Modules, one file each: main (wiring only), routes (the route table), request (replies,
 * authentication, the rep a token may read), auth (tokens, webhook secrets, HMAC), ingest (our
 * events and the Segment / Mautic webhooks → Kafka), fanin (alerts.v1 → per-rep Redis streams), sse
 * (per-rep streams → connected clients), api (queue, lead, stats), console (static files).
 */
#ifndef CADENCE_GATEWAY_H
#define CADENCE_GATEWAY_H

#include <event2/http.h>
#include <glib.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "conn.h"
#include "core/config.h"
#include "core/metrics.h"
#include "core/service.h"
#include "http/server.h"
#include "kafka/producer.h"
#include "schema/schemas.h"
#include "store/redis.h"
#include "store/search.h"
#include "engine/playbook.h"

typedef struct gw_fanin gw_fanin;
typedef struct gw_sse gw_sse;

typedef struct gateway {
    cadence_config cfg;
    struct event_base *base;
    cadence_metrics *metrics;
    cadence_http *http;
    cadence_schemas *schemas;
    cadence_redis *redis;
    cadence_producer *producer;
    gw_auth *auth;
    gw_fanin *fanin;
    gw_sse *sse;
    gw_conns *conns;                  /* conn.c: per-connection limits */
    cadence_service_stopper *stopper; /* SIGTERM/SIGINT: drain ingest, then end the loop */
    struct event *sig_hup, *drain_ev;
    const cadence_redis_script *queue_script; /* api.c: due tasks with their JSON */
    char console_dir[512];        /* where index.html, app.js, style.css are read from */
    size_t kafka_max_event_bytes; /* largest event the producer sends (message.max.bytes - key
                                     and record overhead); 0: unknown */
    char auth_error[600]; /* the last failed SIGHUP re-read ("" after a good one): unhealthy */
    GHashTable *seen_signatures;  /* ingest.c: signed-ingest replay cache (v1 hex → expiry s) */
    cadence_store_search *search; /* search.c: the reps' lead search (kept by the worker) */
    cadence_playbook *playbook;   /* messages.c: the voicemail and email texts (CADENCE_PLAYBOOK) */
} gateway;

/* Metric names. */
#define GW_M_REQUESTS "cadence_gateway_requests_total"
#define GW_M_AUTH_FAILURES "cadence_gateway_auth_failures_total"
#define GW_M_SSE_CLIENTS "cadence_gateway_sse_clients"
#define GW_M_INGEST_SECONDS "cadence_gateway_ingest_seconds"
#define GW_M_EVENTS "cadence_gateway_events_total"
#define GW_M_ALERTS_FANNED "cadence_gateway_alerts_fanned_total"
#define GW_M_SSE_SENT "cadence_gateway_sse_events_sent_total"
#define GW_M_CONNECTIONS "cadence_gateway_connections"

/* Counts the request (route, status) and sends `body` (stolen; NULL sends {}) as JSON. */
void gw_reply(gateway *g, struct evhttp_request *req, const char *route, int status, json_t *body);

/* As gw_reply with {"error": msg}. */
void gw_reply_error(gateway *g, struct evhttp_request *req, const char *route, int status,
                    const char *msg);

/* Counts one request (route, status) without sending (for replies sent another way). */
void gw_count(gateway *g, const char *route, int status);

/* Counts an authentication failure of `kind` ("bearer", "segment", ...) and answers 401. */
void gw_unauthorized(gateway *g, struct evhttp_request *req, const char *route, const char *kind);

/*
 * Authenticates the request's bearer token. Returns 0 with *who filled when the token is valid
 * and its role is one of `roles` (a bit set of 1 << GW_ROLE_x); otherwise answers 401 (no or
 * unknown token) or 403 (valid token, wrong role) itself and returns -1.
 */
int gw_require(gateway *g, struct evhttp_request *req, const char *route, unsigned roles,
               gw_principal *who);

/* The request body as a contiguous buffer (borrowed from the request) and its length. */
const char *gw_body(struct evhttp_request *req, size_t *len);

/* Wall clock in Unix milliseconds. */
long long gw_now_ms(void);

/*
 * The one rule of which rep's data a token may read: a rep token its own rep only, a manager
 * token any rep (and data of no rep, rep_id NULL), other roles none. 1 when allowed, else 0.
 */
int gw_may_read_rep(const gw_principal *who, const char *rep_id);

/*
 * The rep a request reads: `asked` (its ?rep=, may be NULL or empty) or else the token's own
 * rep. Returns 0 with the rep in `out`; 403 when the token may not read the asked rep; 400 when
 * no valid rep results (a manager token without ?rep=).
 */
int gw_rep_to_read(const gw_principal *who, const char *asked, char *out, size_t n);

/* routes.c: the evhttp generic callback (arg: the gateway) dispatching the route table. */
void gw_dispatch(struct evhttp_request *req, void *arg);

/* Route handlers (ingest.c, api.c, stats.c, console.c, sse.c). `route` is the metrics label. */
void gw_ingest_events(gateway *g, struct evhttp_request *req, const char *route);
void gw_ingest_segment(gateway *g, struct evhttp_request *req, const char *route);
void gw_ingest_mautic(gateway *g, struct evhttp_request *req, const char *route);
void gw_api_me(gateway *g, struct evhttp_request *req, const char *route);
void gw_api_queue(gateway *g, struct evhttp_request *req, const char *route);
void gw_api_lead(gateway *g, struct evhttp_request *req, const char *route);
void gw_api_stats(gateway *g, struct evhttp_request *req, const char *route);
void gw_console_file(gateway *g, struct evhttp_request *req, const char *route);
void gw_sse_stream(gateway *g, struct evhttp_request *req, const char *route);
void gw_tasks_outcome(gateway *g, struct evhttp_request *req, const char *route);
void gw_leads_search(gateway *g, struct evhttp_request *req, const char *route);
void gw_messages_list(gateway *g, struct evhttp_request *req, const char *route);

/*
 * repday.c: the rep's day. Local midnight of `now_ms`'s day in IANA zone `tz` ("" or NULL:
 * UTC) into *start_ms, the next local midnight into *end_ms, and the local date "YYYY-MM-DD"
 * into `date` (11 bytes). Returns 0, or -1 when `tz` is not a known zone (UTC is used then).
 */
int gw_rep_day(const char *tz, long long now_ms, long long *start_ms, long long *end_ms,
               char date[11]);

/* api.c: registers the queue script on `r` (owned by the client). NULL with errstr on failure. */
const cadence_redis_script *gw_api_queue_script(cadence_redis *r, char *errstr, size_t errstr_size);

/* fanin.c: consumes alerts.v1 in cfg.group_id and appends each alert to its rep's stream. */
gw_fanin *gw_fanin_new(gateway *g, char *errstr, size_t errstr_size);
int gw_fanin_healthy(const gw_fanin *f, char *why, size_t why_size);
/* Commits stored offsets and leaves the group (bounded), then frees. NULL is a no-op. */
void gw_fanin_free(gw_fanin *f);

/* sse.c: the connected clients and the per-rep stream polling. */
gw_sse *gw_sse_new(gateway *g, char *errstr, size_t errstr_size);
/* Polls the streams of reps with listeners now (e.g. right after this gateway XADDed). */
void gw_sse_kick(gw_sse *s);
/* After the tokens were re-read: ends the streams whose token is gone or may no longer read
 * the stream's rep. */
void gw_sse_recheck(gw_sse *s);
/* Ends every client's stream and frees. NULL is a no-op. */
void gw_sse_free(gw_sse *s);

#endif
