/*
 * cadence-scheduler — hands out every due touch once, on time, to touches-due.v1.
 *
 * The worker writes each lead's open touch into its shard's due set; this binary claims the
 * entries that fell due (wall clock, every CADENCE_TICK_MS), publishes them with the
 * idempotent producer and keeps each rep's open-task queue for the gateway (scheduler.h).
 * Run as many as you like: they share the shards through atomic claim scripts, with no
 * coordination, and a task held by one that dies is handed out again after CADENCE_LEASE_MS.
 *
 * One libevent loop drives the Redis client, the producer's delivery reports, the ticks, the
 * HTTP /healthz and /metrics, and the signals. On SIGTERM/SIGINT it stops claiming, waits
 * (at most SCHEDULER_DRAIN_TIMEOUT_S) for the tasks in flight to be delivered and
 * acknowledged, and exits 0.
 */
#include <event2/event.h>
#include <stdio.h>
#include <string.h>

#include "http/server.h"
#include "core/log.h"
#include "kafka/producer.h"
#include "schema/playbook_file.h"
#include "store/redis.h"
#include "scheduler.h"
#include "core/service.h"

/* How long a shutdown waits for deliveries and acknowledgements in flight. */
#define SCHEDULER_DRAIN_TIMEOUT_S 10

struct app {
    cadence_config cfg;
    struct event_base *base;
    cadence_metrics *metrics;
    cadence_http *http;
    cadence_redis *redis;
    cadence_producer *producer;
    scheduler *sched;
    cadence_service_stopper *stopper;
    cadence_playbook *playbook; /* rep_daily_capacity and calendars */
};

static int health(void *arg, char *why, size_t n)
{
    struct app *a = arg;
    if (!cadence_redis_is_ready(a->redis)) {
        const char *e = cadence_redis_last_error(a->redis);
        snprintf(why, n, "redis: not connected%s%s", e && *e ? ": " : "", e ? e : "");
        return 1;
    }
    char fatal[256];
    if (cadence_producer_fatal(a->producer, fatal, sizeof(fatal))) {
        snprintf(why, n, "kafka: fatal error: %s", fatal);
        return 1;
    }
    /* Non-blocking: the controller id is known once metadata came from a live broker. */
    if (rd_kafka_controllerid(cadence_producer_handle(a->producer), 0) < 0) {
        snprintf(why, n, "kafka: no broker reachable");
        return 1;
    }
    if (!scheduler_deliveries_ok(a->sched, why, n))
        return 1;
    return 0;
}

static void on_redis_state(cadence_redis *r, int ready, const char *reason, void *arg)
{
    (void)r;
    (void)reason;
    struct app *a = arg;
    if (ready && a->sched)
        scheduler_kick(a->sched);
}

static void drain(void *arg)
{
    struct app *a = arg;
    scheduler_drain(a->sched, cadence_service_stopper_done, a->stopper);
}

static void drain_timed_out(void *arg)
{
    struct app *a = arg;
    cadence_log_json(CADENCE_LOG_WARN,
                     "tasks in flight not acknowledged in time; re-published after their lease",
                     json_pack("{s:i,s:i}", "timeout_s", SCHEDULER_DRAIN_TIMEOUT_S,
                               "tasks_in_flight", (int)scheduler_in_flight(a->sched)));
}

/* A fatal producer error ends the process with a non-zero status. */
static int fatal(void *arg, char *why, size_t n)
{
    struct app *a = arg;
    return cadence_producer_fatal(a->producer, why, n);
}

static const cadence_service_stop_ops stop_ops = {drain, drain_timed_out, fatal};

static int start(struct app *a, char *err, size_t n)
{
    a->base = event_base_new();
    a->metrics = cadence_metrics_new();
    if (!a->base || !a->metrics) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    cadence_redis_options ro = {0};
    ro.timeout_ms = a->cfg.redis_timeout_ms;
    /* room for every task's ack batch plus the claims, so BUSY stays the exception */
    ro.max_inflight = (size_t)SCHEDULER_MAX_IN_FLIGHT * 2 + SCHEDULER_MAX_CLAIMS + 64;
    ro.state_cb = on_redis_state;
    ro.state_arg = a;
    ro.metrics = a->metrics;
    a->redis = cadence_redis_new(a->base, &a->cfg.redis, &ro, err, n);
    if (!a->redis)
        return -1;
    a->producer = cadence_producer_new(a->base, &a->cfg, "cadence-scheduler", err, n);
    if (!a->producer)
        return -1;
    a->playbook = cadence_playbook_load(a->cfg.playbook_path, a->cfg.schemas_dir, err, n);
    if (!a->playbook)
        return -1;
    scheduler_deps deps = {a->base, &a->cfg, a->redis, a->producer, a->metrics, a->playbook};
    a->sched = scheduler_new(&deps, err, n);
    if (!a->sched)
        return -1;
    if (a->cfg.http_host[0]) {
        char why[512];
        a->http = cadence_http_new(a->base, a->cfg.http_host, a->cfg.http_port, a->metrics, health,
                                   a, why, sizeof(why));
        if (!a->http) {
            snprintf(err, n, "CADENCE_HTTP_ADDR: %s", why);
            return -1;
        }
    }
    a->stopper =
        cadence_service_stopper_new(a->base, SCHEDULER_DRAIN_TIMEOUT_S, &stop_ops, a, err, n);
    if (!a->stopper)
        return -1;
    return 0;
}

static void finish(struct app *a)
{
    scheduler_shutdown(a->sched);
    if (a->producer && cadence_producer_flush(a->producer, 2000) != 0)
        cadence_log_json(CADENCE_LOG_WARN,
                         "touches not delivered at exit; re-published after their lease", NULL);
    cadence_redis_free(a->redis);
    cadence_producer_free(a->producer);
    scheduler_free(a->sched);
    cadence_playbook_free(a->playbook);
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
        "scheduler",
        "cadence-scheduler",
        "Claims the touches that fell due from Redis's per-shard due sets (every\n"
        "CADENCE_TICK_MS, one atomic Lua script per claim), publishes each once to\n"
        "touches-due.v1 (key lead_id) and keeps every rep's open-task queue for the gateway.\n"
        "Run as many as you like; a task held by one that died is published again, with the\n"
        "same task_id, after CADENCE_LEASE_MS.",
    };
    struct app a;
    memset(&a, 0, sizeof(a));
    if (cadence_service_start(&info, argc, argv, &a.cfg))
        return 0;
    char err[768];
    if (start(&a, err, sizeof(err)) != 0) {
        fprintf(stderr, "cadence-scheduler: %s\n", err);
        cadence_log_json(CADENCE_LOG_ERROR, "start-up failed", json_pack("{s:s}", "error", err));
        finish(&a);
        return CADENCE_CONFIG_EXIT_STATUS;
    }
    char redis_text[300];
    cadence_redis_url_format_safe(&a.cfg.redis, redis_text, sizeof(redis_text));
    cadence_log_json(CADENCE_LOG_INFO, "scheduler started",
                     json_pack("{s:s,s:s,s:i,s:i,s:i,s:i}", "brokers", a.cfg.kafka_brokers, "redis",
                               redis_text, "http_port", a.http ? cadence_http_port(a.http) : 0,
                               "shards", (int)a.cfg.shards, "tick_ms", (int)a.cfg.tick_ms,
                               "lease_ms", (int)a.cfg.lease_ms));
    event_base_dispatch(a.base);
    int code = cadence_service_stopper_exit_code(a.stopper);
    finish(&a);
    cadence_log_json(CADENCE_LOG_INFO, "scheduler stopped", json_pack("{s:i}", "exit_code", code));
    return code;
}
