/*
 * cadence-notifier — delivers every call-now alert (alerts.v1) to the Slack incoming webhooks
 * and signed webhooks routed for its rep (CADENCE_NOTIFY_ROUTES), once each, and never loses one:
 * an alert's offset is committed only when every destination answered 2xx or the delivery was
 * dead-lettered to cadence-dlq.v1.
 *
 * One libevent loop drives the Kafka consumer and producer (kafka_wake), libcurl's multi
 * interface (http_client), the HTTP /healthz /livez /readyz /metrics, and the signals: SIGHUP
 * re-reads the routes file; SIGTERM/SIGINT stop taking alerts, finish those in hand (bounded by
 * the drain deadline), commit and exit 0.
 */
#include <curl/curl.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer.h"
#include "http/server.h"
#include "http_client.h"
#include "core/log.h"
#include "notifier.h"
#include "kafka/producer.h"
#include "routes.h"
#include "core/service.h"
#include "base/topics.h"

/* How long a shutdown waits for the alerts in hand (e.g. while a receiver is down). */
#define NOTIFIER_DRAIN_TIMEOUT_S 10

struct app {
    cadence_config cfg;
    struct event_base *base;
    cadence_metrics *metrics;
    cadence_http *http;
    cadence_producer *producer;
    notifier_http *client;
    notifier *core;
    notifier_consumer *consumer;
    cadence_service_stopper *stopper;
    struct event *hup;
};

static int health(void *arg, char *why, size_t n)
{
    struct app *a = arg;
    if (!notifier_consumer_healthy(a->consumer, why, n))
        return 1;
    return 0;
}

static void on_hup(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct app *a = arg;
    char err[768];
    if (notifier_reload(a->core, a->cfg.notify_routes, err, sizeof(err)) != 0)
        cadence_log_json(CADENCE_LOG_ERROR, "routes not reloaded; keeping the old ones",
                         json_pack("{s:s}", "error", err));
    else
        cadence_log_json(CADENCE_LOG_INFO, "routes reloaded",
                         json_pack("{s:s,s:I}", "file", a->cfg.notify_routes, "routes",
                                   (json_int_t)notifier_route_count(a->core)));
}

static void drain(void *arg)
{
    struct app *a = arg;
    notifier_drain(a->core, cadence_service_stopper_done, a->stopper);
}

static void drain_timed_out(void *arg)
{
    struct app *a = arg;
    cadence_log_json(CADENCE_LOG_WARN,
                     "alerts in hand not finished in time; they will be delivered again",
                     json_pack("{s:i,s:I}", "timeout_s", NOTIFIER_DRAIN_TIMEOUT_S, "pending",
                               (json_int_t)notifier_pending(a->core)));
}

static int fatal(void *arg, char *why, size_t n)
{
    struct app *a = arg;
    if (notifier_consumer_fatal(a->consumer)) {
        snprintf(why, n, "kafka consumer fatal error");
        return 1;
    }
    return cadence_producer_fatal(a->producer, why, n);
}

static const cadence_service_stop_ops stop_ops = {drain, drain_timed_out, fatal};

static int start(struct app *a, char *err, size_t n)
{
    if (!a->cfg.notify_routes) {
        snprintf(err, n, "CADENCE_NOTIFY_ROUTES: must name the routes file");
        return -1;
    }
    char why[768];
    notifier_routes *routes = notifier_routes_load(a->cfg.notify_routes, why, sizeof(why));
    if (!routes) {
        snprintf(err, n, "CADENCE_NOTIFY_ROUTES: %s", why);
        return -1;
    }
    a->base = event_base_new();
    a->metrics = cadence_metrics_new();
    if (!a->base || !a->metrics) {
        notifier_routes_free(routes);
        snprintf(err, n, "out of memory");
        return -1;
    }
    a->producer = cadence_producer_new(a->base, &a->cfg, "cadence-notifier", err, n);
    if (!a->producer) {
        notifier_routes_free(routes);
        return -1;
    }
    a->client = notifier_http_new(a->base, a->cfg.notify_connect_timeout_ms,
                                  a->cfg.notify_timeout_ms, err, n);
    if (!a->client) {
        notifier_routes_free(routes);
        return -1;
    }
    notifier_deps deps = {a->base, &a->cfg, a->metrics, a->producer, a->client};
    a->core = notifier_new(&deps, routes, err, n);
    if (!a->core)
        return -1;
    a->consumer = notifier_consumer_new(a->base, &a->cfg, CADENCE_TOPIC_ALERTS,
                                        &notifier_consumer_callbacks, a->core, err, n);
    if (!a->consumer)
        return -1;
    notifier_set_consumer(a->core, a->consumer);
    if (a->cfg.http_host[0]) {
        a->http = cadence_http_new(a->base, a->cfg.http_host, a->cfg.http_port, a->metrics, health,
                                   a, why, sizeof(why));
        if (!a->http) {
            snprintf(err, n, "CADENCE_HTTP_ADDR: %s", why);
            return -1;
        }
    }
    a->stopper =
        cadence_service_stopper_new(a->base, NOTIFIER_DRAIN_TIMEOUT_S, &stop_ops, a, err, n);
    if (!a->stopper)
        return -1;
    a->hup = evsignal_new(a->base, SIGHUP, on_hup, a);
    if (!a->hup || event_add(a->hup, NULL) != 0) {
        snprintf(err, n, "cannot register SIGHUP");
        return -1;
    }
    return 0;
}

static void finish(struct app *a)
{
    notifier_shutdown(a->core);
    /* Commits what is stored (finished alerts only) and leaves the group. */
    notifier_consumer_free(a->consumer, 10000);
    notifier_http_free(a->client);
    if (a->producer && cadence_producer_flush(a->producer, 5000) != 0)
        cadence_log_json(CADENCE_LOG_WARN,
                         "dead letters not acknowledged at exit; their alerts "
                         "are read again on restart",
                         NULL);
    cadence_producer_free(a->producer);
    notifier_free(a->core);
    if (a->hup)
        event_free(a->hup);
    cadence_http_free(a->http);
    cadence_service_stopper_free(a->stopper);
    cadence_metrics_free(a->metrics);
    if (a->base)
        event_base_free(a->base);
    cadence_config_free(&a->cfg);
}

int main(int argc, char **argv)
{
    static const cadence_service_info info = {
        "notifier",
        "cadence-notifier",
        "Consumes alerts.v1 in its own consumer group and delivers each call-now alert to the\n"
        "destinations routed for its rep in CADENCE_NOTIFY_ROUTES (re-read on SIGHUP): Slack\n"
        "incoming webhooks (a Block Kit message) and signed webhooks (the alert JSON with\n"
        "Idempotency-Key and X-Cadence-Signature). An alert's offset is committed only when every\n"
        "destination answered 2xx or the delivery went to cadence-dlq.v1.",
    };
    struct app a;
    memset(&a, 0, sizeof(a));
    if (cadence_service_start(&info, argc, argv, &a.cfg))
        return 0;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "cadence-notifier: libcurl initialisation failed\n");
        cadence_config_free(&a.cfg);
        return 1;
    }
    char err[1024];
    if (start(&a, err, sizeof(err)) != 0) {
        fprintf(stderr, "cadence-notifier: %s\n", err);
        cadence_log_json(CADENCE_LOG_ERROR, "start-up failed", json_pack("{s:s}", "error", err));
        finish(&a);
        curl_global_cleanup();
        return CADENCE_CONFIG_EXIT_STATUS;
    }
    cadence_log_json(CADENCE_LOG_INFO, "notifier started",
                     json_pack("{s:s,s:s,s:s,s:I,s:i}", "brokers", a.cfg.kafka_brokers, "group",
                               a.cfg.group_id, "routes_file", a.cfg.notify_routes, "routes",
                               (json_int_t)notifier_route_count(a.core), "http_port",
                               a.http ? cadence_http_port(a.http) : 0));
    event_base_dispatch(a.base);
    int code = cadence_service_stopper_exit_code(a.stopper);
    finish(&a);
    curl_global_cleanup();
    cadence_log_json(CADENCE_LOG_INFO, "notifier stopped", json_pack("{s:i}", "exit_code", code));
    return code;
}
