/*
 * cadence-worker — consumes leads, site visits and call outcomes, applies each event once to
 * its lead's cadence state in Redis, and emits alerts and status changes (the README's Worker
 * section).
 *
 * One libevent loop drives everything: the Kafka consumer and producer (woken through
 * librdkafka's queue I/O events), the async Redis client, the batch pipeline, the HTTP
 * /healthz and /metrics, and the signals. On SIGTERM/SIGINT the batch in flight is finished,
 * offsets are committed, the group is left and the process exits 0.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer.h"
#include "schema/playbook_file.h"
#include "http/server.h"
#include "core/log.h"
#include "pipeline.h"
#include "kafka/producer.h"
#include "store/redis.h"
#include "store/settings.h"
#include "schema/schemas.h"
#include "core/service.h"
#include "base/topics.h"

/* How long a shutdown waits for the batch in flight (e.g. while Redis is down). */
#define WORKER_DRAIN_TIMEOUT_S 30

struct worker {
    cadence_config cfg;
    struct event_base *base;
    cadence_metrics *metrics;
    cadence_http *http;
    cadence_schemas *schemas;
    cadence_playbook *playbook;
    cadence_redis *redis;
    int settings_checked; /* the Redis settings were read once (store/settings.h) */
    cadence_producer *producer;
    worker_consumer *consumer;
    worker_pipeline *pipeline;
    cadence_service_stopper *stopper;
};

static int health(void *arg, char *why, size_t n)
{
    struct worker *w = arg;
    if (!cadence_redis_is_ready(w->redis)) {
        const char *e = cadence_redis_last_error(w->redis);
        snprintf(why, n, "redis: not connected%s%s", e && *e ? ": " : "", e ? e : "");
        return 1;
    }
    if (!worker_consumer_healthy(w->consumer, why, n))
        return 1;
    return 0;
}

static void on_ready(void *arg)
{
    struct worker *w = arg;
    if (w->pipeline)
        worker_pipeline_kick(w->pipeline);
}

/* Redis up or down (the client logs the change): hold consumption while it is down. When it
 * is back, release the hold whatever the pipeline is doing: a batch still waiting for its
 * retry holds again if that retry fails, and a batch that was only waiting for Kafka (it never
 * noticed the outage) would otherwise leave consumption paused for good. */
static void on_redis_state(cadence_redis *r, int ready, const char *reason, void *arg)
{
    (void)reason;
    struct worker *w = arg;
    if (ready && !w->settings_checked) {
        w->settings_checked = 1;
        (void)cadence_store_check_settings(r);
    }
    if (!w->consumer)
        return;
    worker_consumer_hold(w->consumer, !ready);
    if (ready && w->pipeline)
        worker_pipeline_forget_states(w->pipeline);
    if (ready)
        on_ready(w);
}

static void drain(void *arg)
{
    struct worker *w = arg;
    worker_pipeline_drain(w->pipeline, cadence_service_stopper_done, w->stopper);
}

static void drain_timed_out(void *arg)
{
    (void)arg;
    cadence_log_json(CADENCE_LOG_WARN,
                     "batch in flight did not finish in time; its events will be re-delivered",
                     json_pack("{s:i}", "timeout_s", WORKER_DRAIN_TIMEOUT_S));
}

/* Fatal Kafka errors end the process with a non-zero status. */
static int fatal(void *arg, char *why, size_t n)
{
    struct worker *w = arg;
    if (worker_consumer_fatal(w->consumer)) {
        snprintf(why, n, "kafka consumer fatal error");
        return 1;
    }
    return cadence_producer_fatal(w->producer, why, n);
}

static const cadence_service_stop_ops stop_ops = {drain, drain_timed_out, fatal};

static int start(struct worker *w, char *err, size_t n)
{
    w->base = event_base_new();
    w->metrics = cadence_metrics_new();
    if (!w->base || !w->metrics) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    w->schemas = cadence_schemas_new(w->cfg.schemas_dir, err, n);
    if (!w->schemas)
        return -1;
    char why[512];
    w->playbook = cadence_playbook_load(w->cfg.playbook_path, w->cfg.schemas_dir, why, sizeof(why));
    if (!w->playbook) {
        snprintf(err, n, "CADENCE_PLAYBOOK: %s", why);
        return -1;
    }
    cadence_redis_options ro = {0};
    ro.timeout_ms = w->cfg.redis_timeout_ms;
    /* A batch sends at most one apply and three side writes per event (plus its reads, which
     * are done by then), and two batches share the Redis stage: never let the bound itself
     * stall a batch. */
    ro.max_inflight = (size_t)w->cfg.batch_max * 8 + 64;
    ro.state_cb = on_redis_state;
    ro.state_arg = w;
    ro.metrics = w->metrics;
    w->redis = cadence_redis_new(w->base, &w->cfg.redis, &ro, err, n);
    if (!w->redis)
        return -1;
    w->producer = cadence_producer_new(w->base, &w->cfg, "cadence-worker", err, n);
    if (!w->producer)
        return -1;
    static const char *const topics[] = {CADENCE_TOPIC_LEADS, CADENCE_TOPIC_SITE_VISITS,
                                         CADENCE_TOPIC_CALL_OUTCOMES, NULL};
    /* The FIFO holds up to 4 batches; beyond that messages wait in librdkafka's own queue. */
    w->consumer = worker_consumer_new(w->base, &w->cfg, topics, (size_t)w->cfg.batch_max * 4,
                                      w->metrics, on_ready, w, err, n);
    if (!w->consumer)
        return -1;
    if (!cadence_redis_is_ready(w->redis))
        worker_consumer_hold(w->consumer, 1);
    worker_deps deps = {w->base,     &w->cfg,    w->consumer, w->redis,
                        w->producer, w->schemas, w->playbook, w->metrics};
    w->pipeline = worker_pipeline_new(&deps, err, n);
    if (!w->pipeline)
        return -1;
    if (w->cfg.http_host[0]) {
        w->http = cadence_http_new(w->base, w->cfg.http_host, w->cfg.http_port, w->metrics, health,
                                   w, why, sizeof(why));
        if (!w->http) {
            snprintf(err, n, "CADENCE_HTTP_ADDR: %s", why);
            return -1;
        }
    }
    w->stopper = cadence_service_stopper_new(w->base, WORKER_DRAIN_TIMEOUT_S, &stop_ops, w, err, n);
    if (!w->stopper)
        return -1;
    return 0;
}

static void finish(struct worker *w)
{
    if (w->pipeline)
        worker_pipeline_shutdown(w->pipeline);
    if (w->consumer)
        worker_consumer_close(w->consumer, 10000);
    if (w->producer && cadence_producer_flush(w->producer, 10000) != 0)
        cadence_log_json(CADENCE_LOG_WARN, "outputs not delivered at exit; re-emitted on replay",
                         NULL);
    worker_consumer_free(w->consumer);
    cadence_redis_free(w->redis);
    cadence_producer_free(w->producer);
    worker_pipeline_free(w->pipeline);
    cadence_http_free(w->http);
    cadence_service_stopper_free(w->stopper);
    cadence_playbook_free(w->playbook);
    cadence_schemas_free(w->schemas);
    cadence_metrics_free(w->metrics);
    if (w->base)
        event_base_free(w->base);
    cadence_config_free(&w->cfg);
}

int main(int argc, char **argv)
{
    static const cadence_service_info info = {
        "worker",
        "cadence-worker",
        "Consumes leads.v1, site-visits.v1 and call-outcomes.v1 in one consumer group, applies\n"
        "each event once to its lead's cadence state in Redis (one Lua script per event), and\n"
        "emits call-now alerts (alerts.v1), status changes (lead-status.v1) and dead letters\n"
        "(cadence-dlq.v1). Run as many as there are partitions to share.",
    };
    struct worker w;
    memset(&w, 0, sizeof(w));
    if (cadence_service_start(&info, argc, argv, &w.cfg))
        return 0;
    char err[768];
    if (start(&w, err, sizeof(err)) != 0) {
        fprintf(stderr, "cadence-worker: %s\n", err);
        cadence_log_json(CADENCE_LOG_ERROR, "start-up failed", json_pack("{s:s}", "error", err));
        finish(&w);
        return CADENCE_CONFIG_EXIT_STATUS;
    }
    char redis_text[300];
    cadence_redis_url_format_safe(&w.cfg.redis, redis_text, sizeof(redis_text));
    cadence_log_json(CADENCE_LOG_INFO, "worker started",
                     json_pack("{s:s,s:s,s:s,s:i,s:i}", "brokers", w.cfg.kafka_brokers, "redis",
                               redis_text, "group", w.cfg.group_id, "http_port",
                               w.http ? cadence_http_port(w.http) : 0, "shards",
                               (int)w.cfg.shards));
    event_base_dispatch(w.base);
    int code = cadence_service_stopper_exit_code(w.stopper);
    finish(&w);
    cadence_log_json(CADENCE_LOG_INFO, "worker stopped", json_pack("{s:i}", "exit_code", code));
    return code;
}
