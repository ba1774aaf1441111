/*
 * cadence-gateway — the HTTP face of cadence (the README's Gateway section): ingest for marketing
 * automation, the CRM and the dialer; the reps' live alert feed (Server-Sent Events) and queue;
 * lead history; the managers' statistics; and the web console.
 *
 * This file only wires the parts together (gateway.h lists the modules). SIGHUP re-reads the
 * tokens and secrets files; SIGTERM and SIGINT (the common service stopper) wait for the ingest
 * requests in flight to be acknowledged, then end the SSE streams, flush the producer (so nothing
 * accepted is lost), commit the alerts.v1 consumer's offsets and exit 0. Start-up errors exit 2.
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
#include "schema/playbook_file.h"
#include "core/log.h"
#include "kafka/conf.h"
#include "core/service.h"

/* ------------------------------------------------------------------ life cycle */

/* How long a shutdown waits for Kafka to acknowledge the events already being ingested. */
#define GW_DRAIN_TIMEOUT_S 10
#define GW_DRAIN_CHECK_US 20000

static int health(void *arg, char *why, size_t n)
{
    gateway *g = arg;
    if (!cadence_redis_is_ready(g->redis)) {
        snprintf(why, n, "redis: down"); /* the driver's message is in the log */
        return 1;
    }
    if (g->auth_error[0]) {
        snprintf(why, n, "tokens: %s", g->auth_error);
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

static void on_sighup(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    gateway *g = arg;
    char err[512];
    if (gw_auth_reload(g->auth, err, sizeof(err)) == 0) {
        g->auth_error[0] = '\0';
        cadence_log_json(CADENCE_LOG_INFO, "tokens and secrets re-read",
                         json_pack("{s:i,s:i}", "tokens", (int)gw_auth_token_count(g->auth),
                                   "secrets", (int)gw_auth_secret_count(g->auth)));
        /* Revocation is immediate: streams of tokens no longer valid end now. */
        gw_sse_recheck(g->sse);
    } else {
        /* Loudly: /healthz answers 503 naming the failure until a re-read succeeds. */
        snprintf(g->auth_error, sizeof(g->auth_error),
                 "re-read failed, the previous tokens and secrets stay in force: %s", err);
        cadence_log_json(CADENCE_LOG_ERROR,
                         "TOKENS RE-READ FAILED; previous tokens and secrets stay in force",
                         json_pack("{s:s}", "error", err));
    }
}

/* The stopper's drain: keep the loop running until ingest requests in flight were
 * acknowledged by Kafka and answered (checked every GW_DRAIN_CHECK_US). */
static void on_drain_check(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    gateway *g = arg;
    if (cadence_producer_outstanding(g->producer) == 0)
        cadence_service_stopper_done(g->stopper);
}

static void drain(void *arg)
{
    gateway *g = arg;
    cadence_log_json(CADENCE_LOG_INFO, "draining",
                     json_pack("{s:i}", "outstanding", cadence_producer_outstanding(g->producer)));
    struct timeval tv = {0, GW_DRAIN_CHECK_US};
    if (event_add(g->drain_ev, &tv) != 0)
        cadence_service_stopper_done(g->stopper);
}

static void drain_timed_out(void *arg)
{
    gateway *g = arg;
    cadence_log_json(CADENCE_LOG_WARN, "ingest requests still unacknowledged at the drain deadline",
                     json_pack("{s:i,s:i}", "outstanding",
                               cadence_producer_outstanding(g->producer), "timeout_s",
                               GW_DRAIN_TIMEOUT_S));
}

static const cadence_service_stop_ops stop_ops = {drain, drain_timed_out, NULL};

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
                                   "Alerts written to SSE clients", NULL, 0) ||
           cadence_metrics_declare(m, GW_M_CONNECTIONS, CADENCE_METRIC_GAUGE,
                                   "Open client connections (SSE streams included)", NULL, 0);
}

/* The producer's message.max.bytes (librdkafka's default or CADENCE_KAFKA_CONFIG's), less room
 * for the key (an id or an email, at most 254 bytes) and the record's framing. */
static size_t kafka_max_event_bytes(const cadence_config *cfg)
{
    char err[256], value[32];
    size_t size = sizeof(value);
    rd_kafka_conf_t *conf = cadence_kafka_conf_new(cfg, NULL, err, sizeof(err));
    if (!conf)
        return 0;
    long long v = 0;
    if (rd_kafka_conf_get(conf, "message.max.bytes", value, &size) == RD_KAFKA_CONF_OK)
        v = strtoll(value, NULL, 10);
    rd_kafka_conf_destroy(conf);
    return v > 1024 ? (size_t)(v - 1024) : 0;
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
    g->seen_signatures = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
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
    g->search = cadence_store_search_new(g->redis, err, n);
    if (!g->search)
        return -1;
    char why_pb[600];
    g->playbook =
        cadence_playbook_load(g->cfg.playbook_path, g->cfg.schemas_dir, why_pb, sizeof(why_pb));
    if (!g->playbook) {
        snprintf(err, n, "CADENCE_PLAYBOOK: %s", why_pb);
        return -1;
    }
    g->kafka_max_event_bytes = kafka_max_event_bytes(&g->cfg);
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
    gw_conn_limits lim = {
        .max_request_line = (size_t)g->cfg.http_max_request_line,
        .max_header_bytes = (size_t)g->cfg.http_max_header_bytes,
        .max_body_bytes = (unsigned long long)g->cfg.max_body_bytes,
        .read_timeout_ms = g->cfg.http_read_timeout_ms,
        .idle_timeout_ms = g->cfg.http_idle_timeout_ms,
        .linger_ms = g->cfg.http_linger_ms,
        .max_connections = g->cfg.http_max_connections,
    };
    g->conns = gw_conns_new(g, eh, &lim);
    if (!g->conns) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    evhttp_set_gencb(eh, gw_dispatch, g);
    g->stopper = cadence_service_stopper_new(g->base, GW_DRAIN_TIMEOUT_S, &stop_ops, g, err, n);
    if (!g->stopper)
        return -1;
    g->sig_hup = evsignal_new(g->base, SIGHUP, on_sighup, g);
    g->drain_ev = event_new(g->base, -1, EV_PERSIST, on_drain_check, g);
    if (!g->sig_hup || !g->drain_ev || event_add(g->sig_hup, NULL) != 0) {
        snprintf(err, n, "cannot register the SIGHUP and drain events");
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
    gw_conns_detach(g->conns);
    gw_fanin_free(g->fanin);
    cadence_producer_free(g->producer);
    if (g->sig_hup)
        event_free(g->sig_hup);
    if (g->drain_ev)
        event_free(g->drain_ev);
    cadence_service_stopper_free(g->stopper);
    cadence_schemas_free(g->schemas);
    cadence_store_search_free(g->search);
    cadence_playbook_free(g->playbook);
    gw_auth_free(g->auth);
    if (g->seen_signatures)
        g_hash_table_destroy(g->seen_signatures);
    cadence_metrics_free(g->metrics);
    if (g->base)
        event_base_free(g->base);
    gw_conns_free(g->conns); /* after the base: it runs the connections' last finalizers */
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
    int code = cadence_service_stopper_exit_code(g.stopper);
    finish(&g);
    cadence_log_json(CADENCE_LOG_INFO, "gateway stopped", NULL);
    return code;
}
