/*
 * consumer — see consumer.h. librdkafka 2.0.2 specifics handled here:
 * - cooperative-sticky: rd_kafka_incremental_assign/unassign in the rebalance callback;
 * - offsets: enable.auto.offset.store=false, offset+1 stored after the effects are durable,
 *   auto-commit of stored offsets, synchronous commit on revoke and close;
 * - auto.offset.reset=earliest so a new group never skips events;
 * - session.timeout.ms from CADENCE_SESSION_TIMEOUT_MS (10 s) so a killed worker's partitions
 *   move quickly;
 * - close bounded by a timeout (close can hang in some rebalance states): the close queue is
 *   served with a deadline.
 */
#include "consumer.h"
#include "base/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kafka/conf.h"
#include "kafka/wake.h"
#include "core/log.h"

struct worker_consumer {
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue; /* the consumer queue (messages, rebalances) */
    cadence_kafka_wake *wake;
    struct event *refill_ev; /* serves the queue again once the pipeline made room */
    cadence_metrics *metrics;
    worker_consumer_ready_fn ready;
    void *arg;

    rd_kafka_message_t **fifo; /* ring buffer */
    size_t fifo_cap, fifo_head, fifo_len, fifo_max;

    int hold;   /* the owner asked to pause */
    int full;   /* serve() stopped with messages left in librdkafka's queue */
    int paused; /* partitions currently paused */
    int fatal;
    int closed;
    int64_t last_broker_ok_ms; /* last time a message or stats said a broker is up */
    char last_error[256];
};

static void set_paused(worker_consumer *c, int pause)
{
    rd_kafka_topic_partition_list_t *owned = NULL;
    if (rd_kafka_assignment(c->rk, &owned) != RD_KAFKA_RESP_ERR_NO_ERROR || !owned)
        return;
    if (owned->cnt > 0) {
        if (pause)
            rd_kafka_pause_partitions(c->rk, owned);
        else
            rd_kafka_resume_partitions(c->rk, owned);
    }
    rd_kafka_topic_partition_list_destroy(owned);
    if (c->paused != pause)
        cadence_log_json(CADENCE_LOG_INFO, pause ? "consumption paused" : "consumption resumed",
                         json_pack("{s:b,s:I}", "held", c->hold, "fifo", (json_int_t)c->fifo_len));
    c->paused = pause;
    cadence_metrics_set(c->metrics, "cadence_worker_paused", NULL, pause);
}

/*
 * Pause only while the owner holds (Redis down): the group is still served, nothing is
 * fetched. A full FIFO does not pause: serve() just stops polling, librdkafka's own queue
 * holds the rest (and stops fetching when that is full), and polling resumes once the pipeline
 * takes messages. Pausing for that (measured) cost far more: a resumed partition's prefetched
 * messages are dropped and fetched again, and the FIFO ran dry for ~0.8 s each time.
 */
static void update_pause(worker_consumer *c)
{
    if (c->hold != c->paused)
        set_paused(c, c->hold);
}

static void fifo_push(worker_consumer *c, rd_kafka_message_t *m)
{
    if (c->fifo_len == c->fifo_cap) {
        size_t cap = c->fifo_cap ? c->fifo_cap * 2 : 1024;
        rd_kafka_message_t **n = malloc(cap * sizeof(rd_kafka_message_t *));
        if (!n) {
            /* Out of memory: drop nothing silently; the message is re-read after a restart. */
            cadence_log_json(CADENCE_LOG_ERROR, "out of memory growing the consumer FIFO", NULL);
            abort();
        }
        for (size_t i = 0; i < c->fifo_len; i++)
            n[i] = c->fifo[(c->fifo_head + i) % c->fifo_cap];
        free(c->fifo);
        c->fifo = n;
        c->fifo_cap = cap;
        c->fifo_head = 0;
    }
    c->fifo[(c->fifo_head + c->fifo_len) % c->fifo_cap] = m;
    c->fifo_len++;
}

/* Moves up to `max` messages out of the FIFO (no refill: fifo_drop uses it too). */
static size_t fifo_take(worker_consumer *c, rd_kafka_message_t **out, size_t max)
{
    size_t n = 0;
    while (n < max && c->fifo_len > 0) {
        out[n++] = c->fifo[c->fifo_head];
        c->fifo_head = (c->fifo_head + 1) % c->fifo_cap;
        c->fifo_len--;
    }
    return n;
}

/* Drops FIFO messages of the partitions in `parts` (they were revoked or lost). */
static void fifo_drop(worker_consumer *c, const rd_kafka_topic_partition_list_t *parts)
{
    size_t n = c->fifo_len, dropped = 0;
    rd_kafka_message_t **all = malloc((n ? n : 1) * sizeof(rd_kafka_message_t *));
    if (!all)
        abort();
    fifo_take(c, all, n); /* empties the FIFO, order kept */
    for (size_t i = 0; i < n; i++) {
        if (rd_kafka_topic_partition_list_find(parts, rd_kafka_topic_name(all[i]->rkt),
                                               all[i]->partition)) {
            rd_kafka_message_destroy(all[i]);
            dropped++;
        } else {
            fifo_push(c, all[i]);
        }
    }
    free(all);
    if (dropped)
        cadence_log_json(CADENCE_LOG_INFO, "dropped queued messages of revoked partitions",
                         json_pack("{s:I}", "messages", (json_int_t)dropped));
}

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
    worker_consumer *c = opaque;
    int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        log_parts("partitions assigned", parts);
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
        if (c->paused) /* keep new partitions paused too: pause only what we own */
            rd_kafka_pause_partitions(rk, parts);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        int lost = rd_kafka_assignment_lost(rk);
        log_parts(lost ? "partitions lost" : "partitions revoked", parts);
        if (!lost) {
            /* Commit what is stored for these partitions before giving them up. */
            rd_kafka_resp_err_t ce = rd_kafka_commit(rk, NULL, 0);
            if (ce && ce != RD_KAFKA_RESP_ERR__NO_OFFSET)
                cadence_log_json(CADENCE_LOG_WARN, "commit on revoke failed",
                                 json_pack("{s:s}", "error", rd_kafka_err2str(ce)));
        }
        fifo_drop(c, parts);
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
    worker_consumer *c = opaque;
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

/* Statistics (every few seconds): consumer lag and broker liveness. */
static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    (void)rk;
    worker_consumer *c = opaque;
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
    json_int_t lag = 0;
    json_t *t, *p;
    const char *tname, *pname;
    json_object_foreach(json_object_get(st, "topics"), tname, t)
    {
        json_object_foreach(json_object_get(t, "partitions"), pname, p)
        {
            json_int_t l = json_integer_value(json_object_get(p, "consumer_lag"));
            if (strcmp(pname, "-1") != 0 && l > 0)
                lag += l;
        }
    }
    cadence_metrics_set(c->metrics, "cadence_worker_consumer_lag", NULL, (double)lag);
    json_decref(st);
    return 0; /* librdkafka frees `json` */
}

static void serve(worker_consumer *c)
{
    if (c->closed)
        return;
    size_t added = 0;
    for (;;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, 0);
        if (!m)
            break;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                cadence_log_json(CADENCE_LOG_WARN, "consumer error",
                                 json_pack("{s:s,s:s?}", "error", rd_kafka_message_errstr(m),
                                           "topic", m->rkt ? rd_kafka_topic_name(m->rkt) : NULL));
            rd_kafka_message_destroy(m);
            continue;
        }
        c->last_broker_ok_ms = cadence_clock_mono_ms();
        fifo_push(c, m);
        added++;
        if (c->fifo_len >= c->fifo_max) {
            c->full = 1;
            break;
        }
    }
    update_pause(c);
    if (added && c->ready)
        c->ready(c->arg);
}

static void on_wake(void *arg)
{
    serve(arg);
}

static void on_refill(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    serve(arg);
}

worker_consumer *worker_consumer_new(struct event_base *base, const cadence_config *cfg,
                                     const char *const *topics, size_t fifo_max,
                                     cadence_metrics *metrics, worker_consumer_ready_fn ready,
                                     void *arg, char *errstr, size_t errstr_size)
{
    worker_consumer *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    c->metrics = metrics;
    c->ready = ready;
    c->arg = arg;
    c->fifo_max = fifo_max ? fifo_max : 1;
    cadence_metrics_declare(metrics, "cadence_worker_consumer_lag", CADENCE_METRIC_GAUGE,
                            "Messages behind the end of the owned partitions", NULL, 0);
    cadence_metrics_declare(metrics, "cadence_worker_paused", CADENCE_METRIC_GAUGE,
                            "1 while consumption is paused (Redis down)", NULL, 0);
    char session[32];
    snprintf(session, sizeof(session), "%ld", cfg->session_timeout_ms);
    const char *defaults[] = {"group.id", cfg->group_id, "client.id", "cadence-worker",
                              "enable.auto.offset.store", "false", "enable.auto.commit", "true",
                              "auto.commit.interval.ms", "1000", "auto.offset.reset", "earliest",
                              "partition.assignment.strategy", "cooperative-sticky",
                              "session.timeout.ms", session, "heartbeat.interval.ms", "1000",
                              "statistics.interval.ms", "5000", "enable.partition.eof", "false",
                              /* A visit is a "call now" trigger: a fetch must not sit on an
                               * idle partition for the default 500 ms (the mock broker waits
                               * the whole time; real brokers answer as soon as data arrives). */
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
    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(4);
    for (size_t i = 0; topics[i]; i++)
        rd_kafka_topic_partition_list_add(subs, topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(c->rk, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (err) {
        snprintf(errstr, errstr_size, "subscribe: %s", rd_kafka_err2str(err));
        worker_consumer_free(c);
        return NULL;
    }
    c->wake = cadence_kafka_wake_new(base, c->queue, 50, on_wake, c, errstr, errstr_size);
    c->refill_ev = event_new(base, -1, 0, on_refill, c);
    if (!c->wake || !c->refill_ev) {
        if (c->wake)
            snprintf(errstr, errstr_size, "out of memory");
        worker_consumer_free(c);
        return NULL;
    }
    return c;
}

size_t worker_consumer_pending(const worker_consumer *c)
{
    return c->fifo_len;
}

size_t worker_consumer_take(worker_consumer *c, rd_kafka_message_t **out, size_t max)
{
    size_t n = fifo_take(c, out, max);
    /* Room again: poll what librdkafka holds, from the loop (not from inside our caller). */
    if (n && c->full && c->refill_ev) {
        c->full = 0;
        event_active(c->refill_ev, EV_TIMEOUT, 0);
    }
    return n;
}

void worker_consumer_store(worker_consumer *c, rd_kafka_message_t *const *msgs, size_t n)
{
    if (n == 0 || c->closed)
        return;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)n);
    for (size_t i = 0; i < n; i++) {
        const rd_kafka_message_t *m = msgs[i];
        const char *topic = rd_kafka_topic_name(m->rkt);
        rd_kafka_topic_partition_t *tp =
            rd_kafka_topic_partition_list_find(list, topic, m->partition);
        if (!tp)
            tp = rd_kafka_topic_partition_list_add(list, topic, m->partition);
        if (m->offset + 1 > tp->offset)
            tp->offset = m->offset + 1;
    }
    /* Only partitions still owned: a revoked one belongs to another worker now. */
    rd_kafka_topic_partition_list_t *owned = NULL;
    if (rd_kafka_assignment(c->rk, &owned) == RD_KAFKA_RESP_ERR_NO_ERROR && owned) {
        rd_kafka_topic_partition_list_t *mine = rd_kafka_topic_partition_list_new(list->cnt);
        for (int i = 0; i < list->cnt; i++)
            if (rd_kafka_topic_partition_list_find(owned, list->elems[i].topic,
                                                   list->elems[i].partition))
                rd_kafka_topic_partition_list_add(mine, list->elems[i].topic,
                                                  list->elems[i].partition)
                    ->offset = list->elems[i].offset;
        if (mine->cnt > 0) {
            rd_kafka_resp_err_t err = rd_kafka_offsets_store(c->rk, mine);
            if (err)
                cadence_log_json(CADENCE_LOG_WARN, "offsets_store failed",
                                 json_pack("{s:s}", "error", rd_kafka_err2str(err)));
        }
        rd_kafka_topic_partition_list_destroy(mine);
        rd_kafka_topic_partition_list_destroy(owned);
    }
    rd_kafka_topic_partition_list_destroy(list);
}

void worker_consumer_hold(worker_consumer *c, int hold)
{
    c->hold = hold;
    update_pause(c);
}

int worker_consumer_healthy(const worker_consumer *c, char *why, size_t why_size)
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

int worker_consumer_fatal(const worker_consumer *c)
{
    return c->fatal;
}

void worker_consumer_close(worker_consumer *c, int timeout_ms)
{
    if (!c || c->closed || !c->rk)
        return;
    c->closed = 1;
    rd_kafka_resp_err_t err = rd_kafka_commit(c->rk, NULL, 0);
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        cadence_log_json(CADENCE_LOG_WARN, "final commit failed",
                         json_pack("{s:s}", "error", rd_kafka_err2str(err)));
    /* Close through a queue we serve ourselves, so a hanging close cannot block forever. */
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
            if (ev && rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE) {
                rebalance_cb(c->rk, rd_kafka_event_error(ev),
                             rd_kafka_event_topic_partition_list(ev), c);
            }
            if (ev)
                rd_kafka_event_destroy(ev);
        }
        if (!rd_kafka_consumer_closed(c->rk))
            cadence_log_json(CADENCE_LOG_WARN, "consumer close timed out",
                             json_pack("{s:i}", "timeout_ms", timeout_ms));
    }
    rd_kafka_queue_destroy(q);
}

void worker_consumer_free(worker_consumer *c)
{
    if (!c)
        return;
    cadence_kafka_wake_free(c->wake);
    if (c->refill_ev)
        event_free(c->refill_ev);
    for (size_t i = 0; i < c->fifo_len; i++)
        rd_kafka_message_destroy(c->fifo[(c->fifo_head + i) % c->fifo_cap]);
    free(c->fifo);
    if (c->queue)
        rd_kafka_queue_destroy(c->queue);
    if (c->rk) {
        worker_consumer_close(c, 5000);
        rd_kafka_destroy_flags(c->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    }
    free(c);
}
