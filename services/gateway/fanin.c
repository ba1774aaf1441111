/*
 * fanin — alerts.v1 into per-rep Redis streams, so any number of gateways can serve any rep.
 *
 * The gateways share one consumer group (CADENCE_GROUP_ID, default cadence-gateway) on
 * alerts.v1. Each alert is appended to its rep's stream (at most ~GW_STREAM_MAXLEN entries) once
 * per alert id: the store checks the rep's dedupe set (the newest GW_ALERT_IDS_MAX ids) first,
 * so a re-delivered or re-emitted alert (same alert_id) is appended once (store/alerts.h). Offsets
 * are stored only after the script ran (auto-commit then commits them); a Redis failure keeps the
 * batch and retries it, so nothing is skipped. The consumer is served on the loop by the common
 * Kafka wake-up (kafka_wake.h): librdkafka signals when alerts arrive, and a FANIN_TICK_MS tick
 * retries a batch Redis refused and keeps serving the queue while a batch is in flight.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "base/topics.h"
#include "core/log.h"
#include "kafka/conf.h"
#include "kafka/wake.h"
#include "store/alerts.h"

/* Entries a rep's alert stream keeps (approximately), and alert ids its dedupe set keeps. */
#define GW_STREAM_MAXLEN 1000
#define GW_ALERT_IDS_MAX 10000
#define FANIN_BATCH_MAX 256
#define FANIN_TICK_MS 250
#define FANIN_RETRY_MS 250

struct gw_fanin {
    gateway *g;
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue; /* the consumer queue (alerts, rebalances) */
    cadence_kafka_wake *wake;
    const cadence_redis_script *script;
    rd_kafka_message_t *batch[FANIN_BATCH_MAX];
    size_t n;
    int inflight;
    long long retry_at_ms;
    int fatal;
    char last_error[256];
};

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    gw_fanin *f = opaque;
    snprintf(f->last_error, sizeof(f->last_error), "%s", reason);
    if (err == RD_KAFKA_RESP_ERR__FATAL)
        f->fatal = 1;
}

static void release_batch(gw_fanin *f, int store)
{
    for (size_t i = 0; i < f->n; i++) {
        rd_kafka_message_t *m = f->batch[i];
        if (store && m->rkt)
            rd_kafka_offset_store(m->rkt, m->partition, m->offset);
        rd_kafka_message_destroy(m);
    }
    f->n = 0;
}

static void serve(void *arg);

static void on_appended(const int *appended, size_t n, const char *error, void *arg)
{
    gw_fanin *f = arg;
    f->inflight = 0;
    if (error) {
        cadence_log_json(CADENCE_LOG_WARN, "alert fan-in failed; retrying",
                         json_pack("{s:s}", "error", error));
        f->retry_at_ms = gw_now_ms() + FANIN_RETRY_MS;
        return;
    }
    size_t added = 0, dup = 0;
    for (size_t i = 0; i < n; i++) {
        if (appended[i])
            added++;
        else
            dup++;
    }
    cadence_metrics_add(f->g->metrics, GW_M_ALERTS_FANNED, "result=\"appended\"", (double)added);
    cadence_metrics_add(f->g->metrics, GW_M_ALERTS_FANNED, "result=\"duplicate\"", (double)dup);
    release_batch(f, 1);
    if (added && f->g->sse)
        gw_sse_kick(f->g->sse);
    serve(f); /* what arrived meanwhile (no further wake-up comes for it) */
}

/* Sends the batch's scripts; messages that are not valid alerts are stored and skipped. */
static void send_batch(gw_fanin *f)
{
    cadence_store_alert_in alerts[FANIN_BATCH_MAX];
    json_t *docs[FANIN_BATCH_MAX]; /* the alerts' strings are borrowed from their documents */
    char dedupe[FANIN_BATCH_MAX][96];
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++) {
        rd_kafka_message_t *m = f->batch[i];
        json_t *alert = NULL;
        char why[256] = "";
        enum cadence_schema_status st =
            m->err
                ? CADENCE_SCHEMA_NOT_JSON
                : cadence_schemas_check(f->g->schemas, CADENCE_TOPIC_ALERTS, m->payload, m->len,
                                        (size_t)f->g->cfg.max_body_bytes, &alert, why, sizeof(why));
        if (st != CADENCE_SCHEMA_OK) {
            cadence_metrics_add(f->g->metrics, GW_M_ALERTS_FANNED, "result=\"invalid\"", 1);
            cadence_log_json(CADENCE_LOG_WARN, "alerts.v1 message skipped",
                             json_pack("{s:s,s:i,s:I}", "error", why, "partition",
                                       (int)m->partition, "offset", (json_int_t)m->offset));
            continue;
        }
        const char *rep = json_string_value(json_object_get(alert, "rep_id"));
        /* An update of an open alert (alerts.v1 `revision` > 1) keeps its alert_id: the
         * dedupe id is then "<alert_id>#r<revision>", so each revision reaches the rep once. */
        const char *alert_id = json_string_value(json_object_get(alert, "alert_id"));
        json_int_t revision = json_integer_value(json_object_get(alert, "revision"));
        if (revision > 1)
            snprintf(dedupe[n], sizeof(dedupe[n]), "%s#r%lld", alert_id, (long long)revision);
        else
            snprintf(dedupe[n], sizeof(dedupe[n]), "%s", alert_id);
        alerts[n] = (cadence_store_alert_in){rep, dedupe[n], (const char *)m->payload, m->len};
        docs[n++] = alert;
    }
    static const cadence_store_alert_limits limits = {GW_STREAM_MAXLEN, GW_ALERT_IDS_MAX};
    if (n == 0) {
        release_batch(f, 1);
    } else if (cadence_store_append_alerts(f->g->redis, f->script, alerts, n, &limits, gw_now_ms(),
                                           on_appended, f) == CADENCE_REDIS_OK) {
        f->inflight = 1;
    } else {
        f->retry_at_ms = gw_now_ms() + FANIN_RETRY_MS;
    }
    for (size_t i = 0; i < n; i++)
        json_decref(docs[i]);
}

/* The wake-up: polls the queue until it is empty (or a batch is full) and sends the batch;
 * while a batch is in flight or waiting for its retry, the queue is left for later. */
static void serve(void *arg)
{
    gw_fanin *f = arg;
    if (f->inflight)
        return;
    if (f->n == 0) {
        while (f->n < FANIN_BATCH_MAX) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(f->rk, 0);
            if (!m)
                break;
            if (m->err) {
                if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                    snprintf(f->last_error, sizeof(f->last_error), "%s",
                             rd_kafka_message_errstr(m));
                rd_kafka_message_destroy(m);
                continue;
            }
            f->batch[f->n++] = m;
        }
    } else if (gw_now_ms() < f->retry_at_ms) {
        /* Heartbeats run on librdkafka's own thread; a Redis outage longer than
         * max.poll.interval.ms makes this member leave the group until it polls again. */
        return;
    }
    if (f->n > 0)
        send_batch(f);
}

gw_fanin *gw_fanin_new(gateway *g, char *errstr, size_t errstr_size)
{
    gw_fanin *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    f->g = g;
    f->script = cadence_store_append_alert_script(g->redis, errstr, errstr_size);
    if (!f->script) {
        free(f);
        return NULL;
    }
    char session[32];
    snprintf(session, sizeof(session), "%ld", g->cfg.session_timeout_ms);
    const char *defaults[] = {"group.id",
                              g->cfg.group_id,
                              "client.id",
                              "cadence-gateway",
                              "enable.auto.offset.store",
                              "false",
                              "enable.auto.commit",
                              "true",
                              "auto.commit.interval.ms",
                              "1000",
                              "auto.offset.reset",
                              "earliest",
                              "partition.assignment.strategy",
                              "cooperative-sticky",
                              "session.timeout.ms",
                              session,
                              "heartbeat.interval.ms",
                              "1000",
                              "fetch.wait.max.ms",
                              "10",
                              NULL};
    rd_kafka_conf_t *conf = cadence_kafka_conf_new(&g->cfg, defaults, errstr, errstr_size);
    if (!conf) {
        free(f);
        return NULL;
    }
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_opaque(conf, f);
    f->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
    if (!f->rk) {
        rd_kafka_conf_destroy(conf);
        free(f);
        return NULL;
    }
    rd_kafka_poll_set_consumer(f->rk);
    f->queue = rd_kafka_queue_get_consumer(f->rk);
    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(subs, CADENCE_TOPIC_ALERTS, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(f->rk, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (err) {
        snprintf(errstr, errstr_size, "cannot subscribe to %s: %s", CADENCE_TOPIC_ALERTS,
                 rd_kafka_err2str(err));
        rd_kafka_destroy(f->rk);
        free(f);
        return NULL;
    }
    f->wake =
        cadence_kafka_wake_new(g->base, f->queue, FANIN_TICK_MS, serve, f, errstr, errstr_size);
    if (!f->wake) {
        gw_fanin_free(f);
        return NULL;
    }
    return f;
}

int gw_fanin_healthy(const gw_fanin *f, char *why, size_t why_size)
{
    if (f->fatal) {
        snprintf(why, why_size, "kafka consumer: fatal error: %s", f->last_error);
        return 0;
    }
    return 1;
}

void gw_fanin_free(gw_fanin *f)
{
    if (!f)
        return;
    cadence_kafka_wake_free(f->wake);
    release_batch(f, 0);
    if (f->rk) {
        rd_kafka_resp_err_t err = rd_kafka_commit(f->rk, NULL, 0);
        if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
            cadence_log_json(CADENCE_LOG_WARN, "alerts.v1 commit at exit failed",
                             json_pack("{s:s}", "error", rd_kafka_err2str(err)));
        rd_kafka_consumer_close(f->rk);
        if (f->queue)
            rd_kafka_queue_destroy(f->queue);
        rd_kafka_destroy(f->rk);
    }
    free(f);
}
