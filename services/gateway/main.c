/*
 * cadence-gateway — the HTTP face of cadence (DESIGN.md §6): ingest for marketing automation,
 * the CRM and the dialer; the reps' live alert feed (Server-Sent Events) and queue; lead
 * history; the managers' statistics; and the web console.
 *
 * Requests are dispatched from one route table (method, path, handler, metrics label); every
 * reply is counted by route and status. SIGHUP re-reads the tokens and secrets files; SIGTERM
 * and SIGINT end the SSE streams, flush the producer (so nothing accepted is lost), commit the
 * alerts.v1 consumer's offsets and exit 0. Start-up errors exit 2.
 */
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "gateway.h"
#include "core/log.h"
#include "core/service.h"

typedef void (*route_fn)(gateway *g, struct evhttp_request *req, const char *route);

/* The route table: exact paths, or prefixes ending in '/'. First match wins. */
static const struct route {
    enum evhttp_cmd_type method;
    int prefix;
    const char *path;
    route_fn fn;
    const char *label;
} routes[] = {
    {EVHTTP_REQ_POST, 0, "/v1/events/leads", gw_ingest_events, "events_leads"},
    {EVHTTP_REQ_POST, 0, "/v1/events/site-visits", gw_ingest_events, "events_site_visits"},
    {EVHTTP_REQ_POST, 0, "/v1/events/call-outcomes", gw_ingest_events, "events_call_outcomes"},
    {EVHTTP_REQ_POST, 0, "/v1/webhooks/segment", gw_ingest_segment, "webhook_segment"},
    {EVHTTP_REQ_POST, 0, "/v1/webhooks/mautic", gw_ingest_mautic, "webhook_mautic"},
    {EVHTTP_REQ_GET, 0, "/v1/alerts/stream", gw_sse_stream, "alerts_stream"},
    {EVHTTP_REQ_GET, 0, "/v1/me", gw_api_me, "me"},
    {EVHTTP_REQ_GET, 0, "/v1/queue", gw_api_queue, "queue"},
    {EVHTTP_REQ_GET, 1, "/v1/leads/", gw_api_lead, "lead"},
    {EVHTTP_REQ_GET, 0, "/v1/stats", gw_api_stats, "stats"},
    {EVHTTP_REQ_GET, 0, "/", gw_console_file, "console"},
    {EVHTTP_REQ_GET, 0, "/index.html", gw_console_file, "console"},
    {EVHTTP_REQ_GET, 0, "/app.js", gw_console_file, "console"},
    {EVHTTP_REQ_GET, 0, "/style.css", gw_console_file, "console"},
};

/* ------------------------------------------------------------------ helpers (gateway.h) */

void gw_count(gateway *g, const char *route, int status)
{
    char labels[128];
    snprintf(labels, sizeof(labels), "route=\"%s\",status=\"%d\"", route, status);
    cadence_metrics_add(g->metrics, GW_M_REQUESTS, labels, 1);
}

static const char *reason_of(int status)
{
    static const struct {
        int status;
        const char *reason;
    } reasons[] = {
        {200, "OK"},
        {202, "Accepted"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {413, "Payload Too Large"},
        {500, "Internal Server Error"},
        {503, "Service Unavailable"},
    };
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (reasons[i].status == status)
            return reasons[i].reason;
    return "Status";
}

void gw_reply(gateway *g, struct evhttp_request *req, const char *route, int status, json_t *body)
{
    gw_count(g, route, status);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Cache-Control", "no-store");
    if (status == 401)
        evhttp_add_header(h, "WWW-Authenticate", "Bearer realm=\"cadence\"");
    cadence_http_send_json(req, status, reason_of(status), text ? text : "{}");
    free(text);
}

void gw_reply_error(gateway *g, struct evhttp_request *req, const char *route, int status,
                    const char *msg)
{
    gw_reply(g, req, route, status, json_pack("{s:s}", "error", msg));
}

void gw_unauthorized(gateway *g, struct evhttp_request *req, const char *route, const char *kind)
{
    char labels[128];
    snprintf(labels, sizeof(labels), "route=\"%s\",kind=\"%s\"", route, kind);
    cadence_metrics_add(g->metrics, GW_M_AUTH_FAILURES, labels, 1);
    gw_reply_error(g, req, route, 401, "missing or invalid credentials");
}

int gw_require(gateway *g, struct evhttp_request *req, const char *route, unsigned roles,
               gw_principal *who)
{
    const char *authz = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    if (gw_auth_bearer(g->auth, authz, who) != 0) {
        gw_unauthorized(g, req, route, "bearer");
        return -1;
    }
    if (!(roles & GW_ROLE_BIT(who->role))) {
        gw_reply_error(g, req, route, 403, "this token's role may not use this route");
        return -1;
    }
    return 0;
}

const char *gw_body(struct evhttp_request *req, size_t *len)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    *len = evbuffer_get_length(in);
    const char *p = (const char *)evbuffer_pullup(in, -1);
    return p ? p : "";
}

int gw_valid_id(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == ':' || c == '-';
        if (!ok || n >= 64)
            return 0;
    }
    return n > 0;
}

long long gw_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ dispatch */

static void dispatch(struct evhttp_request *req, void *arg)
{
    gateway *g = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (!path || !*path)
        path = "/";
    enum evhttp_cmd_type method = evhttp_request_get_command(req);
    int path_matched = 0;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route *r = &routes[i];
        int match =
            r->prefix ? strncmp(path, r->path, strlen(r->path)) == 0 : strcmp(path, r->path) == 0;
        if (!match)
            continue;
        path_matched = 1;
        if (r->method == method || (method == EVHTTP_REQ_HEAD && r->method == EVHTTP_REQ_GET &&
                                    r->fn == gw_console_file)) {
            r->fn(g, req, r->label);
            return;
        }
    }
    if (path_matched)
        gw_reply_error(g, req, "other", 405, "method not allowed");
    else
        gw_reply_error(g, req, "other", 404, "no such route");
}

/* ------------------------------------------------------------------ life cycle */

static struct event *sig_term, *sig_int, *sig_hup, *drain_ev;
static long long drain_deadline_ms;

/* How long a shutdown waits for Kafka to acknowledge the events already being ingested. */
#define GW_DRAIN_TIMEOUT_MS 10000
#define GW_DRAIN_CHECK_US 20000

static int health(void *arg, char *why, size_t n)
{
    gateway *g = arg;
    if (!cadence_redis_is_ready(g->redis)) {
        snprintf(why, n, "redis: not connected: %s", cadence_redis_last_error(g->redis));
        return 1;
    }
    if (g->fanin && !gw_fanin_healthy(g->fanin, why, n))
        return 1;
    char fatal[256];
    if (cadence_producer_fatal(g->producer, fatal, sizeof(fatal))) {
        snprintf(why, n, "kafka producer: %s", fatal);
        return 1;
    }
    return 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    gateway *g = arg;
    if (sig == SIGHUP) {
        char err[512];
        if (gw_auth_reload(g->auth, err, sizeof(err)) == 0)
            cadence_log_json(CADENCE_LOG_INFO, "tokens and secrets re-read",
                             json_pack("{s:i,s:i}", "tokens", (int)gw_auth_token_count(g->auth),
                                       "secrets", (int)gw_auth_secret_count(g->auth)));
        else
            cadence_log_json(CADENCE_LOG_ERROR, "re-read failed; previous tokens kept",
                             json_pack("{s:s}", "error", err));
        return;
    }
    if (drain_deadline_ms)
        return;
    cadence_log_json(CADENCE_LOG_INFO, "stopping",
                     json_pack("{s:s,s:i}", "reason", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                               "outstanding", cadence_producer_outstanding(g->producer)));
    /* Keep the loop running until ingest requests in flight were acknowledged and answered. */
    drain_deadline_ms = gw_now_ms() + GW_DRAIN_TIMEOUT_MS;
    struct timeval tv = {0, GW_DRAIN_CHECK_US};
    if (event_add(drain_ev, &tv) != 0)
        event_base_loopbreak(g->base);
}

static void on_drain(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    gateway *g = arg;
    if (cadence_producer_outstanding(g->producer) == 0 || gw_now_ms() > drain_deadline_ms)
        event_base_loopbreak(g->base);
}

/* 1,000 connected reps need more descriptors than the usual soft limit of 1024. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int declare_metrics(cadence_metrics *m)
{
    static const double latency_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                             0.1,   0.25,   0.5,   1,    2.5,   5};
    return cadence_metrics_declare(m, GW_M_REQUESTS, CADENCE_METRIC_COUNTER,
                                   "HTTP requests answered, by route and status", NULL, 0) ||
           cadence_metrics_declare(m, GW_M_AUTH_FAILURES, CADENCE_METRIC_COUNTER,
                                   "Requests refused for missing or invalid credentials", NULL,
                                   0) ||
           cadence_metrics_declare(m, GW_M_SSE_CLIENTS, CADENCE_METRIC_GAUGE,
                                   "Connected alert-stream (SSE) clients", NULL, 0) ||
           cadence_metrics_declare(m, GW_M_INGEST_SECONDS, CADENCE_METRIC_HISTOGRAM,
                                   "Ingest request latency, body read to Kafka acknowledgement",
                                   latency_buckets,
                                   sizeof(latency_buckets) / sizeof(latency_buckets[0])) ||
           cadence_metrics_declare(m, GW_M_EVENTS, CADENCE_METRIC_COUNTER,
                                   "Events ingested and acknowledged by Kafka, by topic", NULL,
                                   0) ||
           cadence_metrics_declare(m, GW_M_ALERTS_FANNED, CADENCE_METRIC_COUNTER,
                                   "alerts.v1 messages appended to per-rep streams, by result",
                                   NULL, 0) ||
           cadence_metrics_declare(m, GW_M_SSE_SENT, CADENCE_METRIC_COUNTER,
                                   "Alerts written to SSE clients", NULL, 0);
}

static int start(gateway *g, char *err, size_t n)
{
    raise_fd_limit();
    snprintf(g->console_dir, sizeof(g->console_dir), "%s/services/gateway/console",
             CADENCE_DATA_DIR);
    g->base = event_base_new();
    g->metrics = cadence_metrics_new();
    if (!g->base || !g->metrics || declare_metrics(g->metrics) != 0) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    if (!g->cfg.http_host[0]) {
        snprintf(err, n, "CADENCE_HTTP_ADDR: the gateway needs an address to serve on");
        return -1;
    }
    g->auth = gw_auth_new(g->cfg.tokens_file, g->cfg.webhook_secrets_file, err, n);
    if (!g->auth)
        return -1;
    g->schemas = cadence_schemas_new(g->cfg.schemas_dir, err, n);
    if (!g->schemas)
        return -1;
    cadence_redis_options ro = {0};
    ro.timeout_ms = g->cfg.redis_timeout_ms;
    ro.max_inflight = 16384;
    ro.metrics = g->metrics;
    g->redis = cadence_redis_new(g->base, &g->cfg.redis, &ro, err, n);
    if (!g->redis)
        return -1;
    g->queue_script = gw_api_queue_script(g->redis, err, n);
    if (!g->queue_script)
        return -1;
    g->producer = cadence_producer_new(g->base, &g->cfg, "cadence-gateway", err, n);
    if (!g->producer)
        return -1;
    g->sse = gw_sse_new(g, err, n);
    if (!g->sse)
        return -1;
    g->fanin = gw_fanin_new(g, err, n);
    if (!g->fanin)
        return -1;
    char why[512];
    g->http = cadence_http_new(g->base, g->cfg.http_host, g->cfg.http_port, g->metrics, health, g,
                               why, sizeof(why));
    if (!g->http) {
        snprintf(err, n, "CADENCE_HTTP_ADDR: %s", why);
        return -1;
    }
    struct evhttp *eh = cadence_http_evhttp(g->http);
    evhttp_set_max_body_size(eh, (ev_ssize_t)g->cfg.max_body_bytes);
    evhttp_set_gencb(eh, dispatch, g);
    sig_term = evsignal_new(g->base, SIGTERM, on_signal, g);
    sig_int = evsignal_new(g->base, SIGINT, on_signal, g);
    sig_hup = evsignal_new(g->base, SIGHUP, on_signal, g);
    drain_ev = event_new(g->base, -1, EV_PERSIST, on_drain, g);
    if (!sig_term || !sig_int || !sig_hup || !drain_ev || event_add(sig_term, NULL) ||
        event_add(sig_int, NULL) || event_add(sig_hup, NULL)) {
        snprintf(err, n, "cannot register signal events");
        return -1;
    }
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static void finish(gateway *g)
{
    /*
     * Redis first: its pending callbacks (API reads, SSE catch-ups and polls, fan-in writes,
     * webhook links) run now with an error while everything they touch still exists. Then
     * deliver what was accepted (ingest replies still go out), end the streams, stop serving,
     * commit the alerts consumer.
     */
    cadence_redis_free(g->redis);
    g->redis = NULL;
    if (g->producer && cadence_producer_flush(g->producer, 10000) != 0)
        cadence_log_json(CADENCE_LOG_WARN, "some accepted events not acknowledged at exit", NULL);
    gw_sse_free(g->sse);
    g->sse = NULL;
    cadence_http_free(g->http);
    gw_fanin_free(g->fanin);
    cadence_producer_free(g->producer);
    if (sig_term)
        event_free(sig_term);
    if (sig_int)
        event_free(sig_int);
    if (sig_hup)
        event_free(sig_hup);
    if (drain_ev)
        event_free(drain_ev);
    cadence_schemas_free(g->schemas);
    gw_auth_free(g->auth);
    cadence_metrics_free(g->metrics);
    if (g->base)
        event_base_free(g->base);
    cadence_config_free(&g->cfg);
}

int main(int argc, char **argv)
{
    static const cadence_service_info info = {
        "gateway",
        "cadence-gateway",
        "The HTTP face of cadence: ingest of leads, site visits and call outcomes (our JSON,\n"
        "Segment and Mautic webhooks) into Kafka; the reps' call-now alerts as Server-Sent\n"
        "Events (alerts.v1 fanned into per-rep Redis streams), their queue and lead history;\n"
        "the managers' statistics; and the web console at /. SIGHUP re-reads the tokens and\n"
        "webhook secrets files.",
    };
    static gateway g;
    memset(&g, 0, sizeof(g));
    if (cadence_service_start(&info, argc, argv, &g.cfg))
        return 0;
    char err[768];
    if (start(&g, err, sizeof(err)) != 0) {
        fprintf(stderr, "cadence-gateway: %s\n", err);
        cadence_log_json(CADENCE_LOG_ERROR, "start-up failed", json_pack("{s:s}", "error", err));
        finish(&g);
        return CADENCE_CONFIG_EXIT_STATUS;
    }
    cadence_log_json(CADENCE_LOG_INFO, "gateway started",
                     json_pack("{s:s,s:i,s:s,s:i,s:i}", "brokers", g.cfg.kafka_brokers, "http_port",
                               cadence_http_port(g.http), "group", g.cfg.group_id, "tokens",
                               (int)gw_auth_token_count(g.auth), "secrets",
                               (int)gw_auth_secret_count(g.auth)));
    event_base_dispatch(g.base);
    finish(&g);
    cadence_log_json(CADENCE_LOG_INFO, "gateway stopped", NULL);
    return 0;
}
