/*
 * consumer — see consumer.h. The same librdkafka settings as the worker's consumer:
 * enable.auto.offset.store=false, auto-commit of stored offsets, earliest reset, cooperative
 * incremental assign/unassign, close through a queue served with a deadline.
 */
#include "consumer.h"
#include "base/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka/conf.h"
#include "kafka/wake.h"
#include "core/log.h"
#include "base/topics.h"

struct notifier_consumer {
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue;
    cadence_kafka_wake *wake;
    notifier_consumer_ops ops;
    void *arg;
    int paused, stopped, fatal, closed;
    int64_t last_broker_ok_ms;
    char last_error[256];
};

static void log_parts(const char *msg, const rd_kafka_topic_partition_list_t *parts)
{
    json_t *list = json_array();
    for (int i = 0; i < parts->cnt; i++)
        json_array_append_new(list, json_pack("{s:s,s:i}", "topic", parts->elems[i].topic,
                                              "partition", parts->elems[i].partition));
    cadence_log_json(CADENCE_LOG_INFO, msg, json_pack("{s:o}", "partitions", list));
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    notifier_consumer *c = opaque;
    int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        log_parts("partitions assigned", parts);
        c->ops.assigned(c->arg, parts);
        rd_kafka_error_t *e = NULL;
        if (cooperative)
            e = rd_kafka_incremental_assign(rk, parts);
        else
            rd_kafka_assign(rk, parts);
        if (e) {
            cadence_log_json(CADENCE_LOG_ERROR, "incremental assign failed",
                             json_pack("{s:s}", "error", rd_kafka_error_string(e)));
            rd_kafka_error_destroy(e);
        }
        if (c->paused)
            rd_kafka_pause_partitions(rk, parts);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        int lost = rd_kafka_assignment_lost(rk);
        log_parts(lost ? "partitions lost" : "partitions revoked", parts);
        if (!lost) {
            rd_kafka_resp_err_t ce = rd_kafka_commit(rk, NULL, 0);
            if (ce && ce != RD_KAFKA_RESP_ERR__NO_OFFSET)
                cadence_log_json(CADENCE_LOG_WARN, "commit on revoke failed",
                                 json_pack("{s:s}", "error", rd_kafka_err2str(ce)));
        }
        c->ops.revoked(c->arg, parts);
        if (cooperative) {
            rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
            if (e)
                rd_kafka_error_destroy(e);
        } else {
            rd_kafka_assign(rk, NULL);
        }
    } else {
        cadence_log_json(CADENCE_LOG_ERROR, "rebalance error",
                         json_pack("{s:s}", "error", rd_kafka_err2str(err)));
        rd_kafka_assign(rk, NULL);
    }
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    notifier_consumer *c = opaque;
    snprintf(c->last_error, sizeof(c->last_error), "%s", reason);
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[256];
        rd_kafka_fatal_error(rk, why, sizeof(why));
        c->fatal = 1;
        cadence_log_json(CADENCE_LOG_ERROR, "kafka consumer fatal error",
                         json_pack("{s:s}", "error", why));
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        c->last_broker_ok_ms = 0;
    cadence_log_json(CADENCE_LOG_WARN, reason,
                     json_pack("{s:s,s:s}", "source", "consumer", "error",
                               rd_kafka_err2name((rd_kafka_resp_err_t)err)));
}

/* Statistics: broker liveness for /healthz and /readyz. */
static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    (void)rk;
    notifier_consumer *c = opaque;
    json_error_t e;
    json_t *st = json_loadb(json, len, 0, &e);
    if (!st)
        return 0;
    const char *name;
    json_t *b;
    json_object_foreach(json_object_get(st, "brokers"), name, b)
    {
        const char *state = json_string_value(json_object_get(b, "state"));
        if (state && strcmp(state, "UP") == 0 &&
            json_integer_value(json_object_get(b, "nodeid")) >= 0)
            c->last_broker_ok_ms = cadence_clock_mono_ms();
    }
    json_decref(st);
    return 0;
}

static void serve(void *arg)
{
    notifier_consumer *c = arg;
    if (c->closed)
        return;
    for (;;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, 0);
        if (!m)
            break;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                cadence_log_json(CADENCE_LOG_WARN, "consumer error",
                                 json_pack("{s:s}", "error", rd_kafka_message_errstr(m)));
            rd_kafka_message_destroy(m);
            continue;
        }
        c->last_broker_ok_ms = cadence_clock_mono_ms();
        if (c->stopped) {
            rd_kafka_message_destroy(m); /* not stored: read again after the restart */
            continue;
        }
        c->ops.message(c->arg, m);
    }
}

notifier_consumer *notifier_consumer_new(struct event_base *base, const cadence_config *cfg,
                                         const char *topic, const notifier_consumer_ops *ops,
                                         void *arg, char *errstr, size_t errstr_size)
{
    notifier_consumer *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    c->ops = *ops;
    c->arg = arg;
    char session[32];
    snprintf(session, sizeof(session), "%ld", cfg->session_timeout_ms);
    const char *defaults[] = {"group.id", cfg->group_id, "client.id", "cadence-notifier",
                              "enable.auto.offset.store", "false", "enable.auto.commit", "true",
                              "auto.commit.interval.ms", "1000", "auto.offset.reset", "earliest",
                              "partition.assignment.strategy", "cooperative-sticky",
                              "session.timeout.ms", session, "heartbeat.interval.ms", "1000",
                              "statistics.interval.ms", "5000", "enable.partition.eof", "false",
                              /* An alert is worth most in its first seconds: fetch at once. */
                              "fetch.wait.max.ms", "10", "fetch.error.backoff.ms", "10", NULL};
    rd_kafka_conf_t *conf = cadence_kafka_conf_new(cfg, defaults, errstr, errstr_size);
    if (!conf) {
        free(c);
        return NULL;
    }
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_stats_cb(conf, stats_cb);
    rd_kafka_conf_set_opaque(conf, c);
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
    if (!c->rk) {
        rd_kafka_conf_destroy(conf);
        free(c);
        return NULL;
    }
    rd_kafka_poll_set_consumer(c->rk);
    c->queue = rd_kafka_queue_get_consumer(c->rk);
    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(subs, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(c->rk, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (err) {
        snprintf(errstr, errstr_size, "subscribe: %s", rd_kafka_err2str(err));
        notifier_consumer_free(c, 1000);
        return NULL;
    }
    c->wake = cadence_kafka_wake_new(base, c->queue, 50, serve, c, errstr, errstr_size);
    if (!c->wake) {
        notifier_consumer_free(c, 1000);
        return NULL;
    }
    return c;
}

void notifier_consumer_store(notifier_consumer *c, int32_t partition, int64_t offset)
{
    if (c->closed)
        return;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, CADENCE_TOPIC_ALERTS, partition)->offset = offset;
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(c->rk, l);
    if (err)
        cadence_log_json(
            CADENCE_LOG_WARN, "offsets_store failed",
            json_pack("{s:s,s:i}", "error", rd_kafka_err2str(err), "partition", (int)partition));
    rd_kafka_topic_partition_list_destroy(l);
}

void notifier_consumer_pause(notifier_consumer *c, int pause)
{
    if (c->paused == pause)
        return;
    c->paused = pause;
    rd_kafka_topic_partition_list_t *owned = NULL;
    if (rd_kafka_assignment(c->rk, &owned) == RD_KAFKA_RESP_ERR_NO_ERROR && owned) {
        if (owned->cnt > 0) {
            if (pause)
                rd_kafka_pause_partitions(c->rk, owned);
            else
                rd_kafka_resume_partitions(c->rk, owned);
        }
        rd_kafka_topic_partition_list_destroy(owned);
    }
    cadence_log_json(CADENCE_LOG_INFO, pause ? "consumption paused" : "consumption resumed", NULL);
}

void notifier_consumer_stop(notifier_consumer *c)
{
    c->stopped = 1;
}

int notifier_consumer_healthy(const notifier_consumer *c, char *why, size_t why_size)
{
    if (c->fatal) {
        snprintf(why, why_size, "kafka: fatal error: %s", c->last_error);
        return 0;
    }
    if (c->last_broker_ok_ms == 0 || cadence_clock_mono_ms() - c->last_broker_ok_ms > 15000) {
        snprintf(why, why_size, "kafka: no broker reachable%s%s", c->last_error[0] ? ": " : "",
                 c->last_error);
        return 0;
    }
    return 1;
}

int notifier_consumer_fatal(const notifier_consumer *c)
{
    return c->fatal;
}

static void close_consumer(notifier_consumer *c, int timeout_ms)
{
    c->closed = 1;
    rd_kafka_resp_err_t err = rd_kafka_commit(c->rk, NULL, 0);
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        cadence_log_json(CADENCE_LOG_WARN, "final commit failed",
                         json_pack("{s:s}", "error", rd_kafka_err2str(err)));
    rd_kafka_queue_t *q = rd_kafka_queue_new(c->rk);
    rd_kafka_error_t *e = rd_kafka_consumer_close_queue(c->rk, q);
    if (e) {
        cadence_log_json(CADENCE_LOG_WARN, "consumer close failed",
                         json_pack("{s:s}", "error", rd_kafka_error_string(e)));
        rd_kafka_error_destroy(e);
    } else {
        int64_t deadline = cadence_clock_mono_ms() + timeout_ms;
        while (!rd_kafka_consumer_closed(c->rk) && cadence_clock_mono_ms() < deadline) {
            rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 100);
            if (ev && rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
                rebalance_cb(c->rk, rd_kafka_event_error(ev),
                             rd_kafka_event_topic_partition_list(ev), c);
            if (ev)
                rd_kafka_event_destroy(ev);
        }
    }
    rd_kafka_queue_destroy(q);
}

void notifier_consumer_free(notifier_consumer *c, int timeout_ms)
{
    if (!c)
        return;
    cadence_kafka_wake_free(c->wake);
    if (c->queue)
        rd_kafka_queue_destroy(c->queue);
    if (c->rk) {
        close_consumer(c, timeout_ms);
        rd_kafka_destroy_flags(c->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    }
    free(c);
}
