/*
 * redeliver — see redeliver.h. Every message is on one list while the redeliverer owns it
 * (waiting for a retry timer or inside the producer), so freeing the redeliverer can drop the
 * waiting ones and orphan those the producer still holds (their report then only frees them).
 */
#include "kafka/redeliver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

struct msg {
    cadence_redeliver *rd; /* NULL once orphaned */
    char *topic, *key, *value;
    size_t len;
    cadence_redeliver_done_fn done;
    void *arg;
    struct event *timer; /* the retry timer (created on the first retry) */
    int waiting;         /* the timer is armed */
    struct msg *prev, *next;
};

struct cadence_redeliver {
    struct event_base *base;
    cadence_producer *producer;
    cadence_redeliver_policy policy;
    struct msg *head;
    size_t waiting;
};

static void die_oom(void)
{
    cadence_log_json(CADENCE_LOG_ERROR, "out of memory producing a message", NULL);
    abort();
}

static char *dup_or_die(const char *s, size_t len)
{
    char *d = malloc(len + 1);
    if (!d)
        die_oom();
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

cadence_redeliver *cadence_redeliver_new(struct event_base *base, cadence_producer *producer,
                                         const cadence_redeliver_policy *policy, char *errstr,
                                         size_t errstr_size)
{
    if (policy->refused_retry_ms <= 0 || policy->failed_retry_ms < 0) {
        snprintf(errstr, errstr_size, "redeliver: retry delays must be positive");
        return NULL;
    }
    cadence_redeliver *rd = calloc(1, sizeof(*rd));
    if (!rd) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    rd->base = base;
    rd->producer = producer;
    rd->policy = *policy;
    return rd;
}

static void unlink_msg(struct msg *m)
{
    cadence_redeliver *rd = m->rd;
    if (!rd)
        return;
    if (m->prev)
        m->prev->next = m->next;
    else
        rd->head = m->next;
    if (m->next)
        m->next->prev = m->prev;
    m->prev = m->next = NULL;
}

static void msg_free(struct msg *m)
{
    if (m->timer)
        event_free(m->timer);
    free(m->topic);
    free(m->key);
    free(m->value);
    free(m);
}

/* The final result: the message leaves the redeliverer, then its caller hears of it. */
static void finish(struct msg *m, rd_kafka_resp_err_t err)
{
    cadence_redeliver_done_fn done = m->rd ? m->done : NULL;
    void *arg = m->arg;
    unlink_msg(m);
    msg_free(m);
    if (done)
        done(arg, err);
}

static void attempt(struct msg *m);

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct msg *m = arg;
    m->waiting = 0;
    m->rd->waiting--;
    attempt(m);
}

static void retry_after(struct msg *m, long ms)
{
    cadence_redeliver *rd = m->rd;
    if (!m->timer && !(m->timer = evtimer_new(rd->base, on_timer, m)))
        die_oom();
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(m->timer, &tv);
    m->waiting = 1;
    rd->waiting++;
}

static void on_delivered(void *opaque, rd_kafka_resp_err_t err, int32_t partition, int64_t offset)
{
    (void)partition;
    (void)offset;
    struct msg *m = opaque;
    cadence_redeliver *rd = m->rd;
    if (!rd || !err || err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
        err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT || rd->policy.failed_retry_ms == 0) {
        finish(m, err);
        return;
    }
    if (rd->policy.retry)
        rd->policy.retry(m->arg, m->topic, 0, err);
    retry_after(m, rd->policy.failed_retry_ms);
}

static void attempt(struct msg *m)
{
    cadence_redeliver *rd = m->rd;
    char err[256];
    if (cadence_producer_send(rd->producer, m->topic, m->key, m->value, m->len, on_delivered, m,
                              err, sizeof(err)) == 0)
        return;
    if (rd->policy.retry)
        rd->policy.retry(m->arg, m->topic, 1, RD_KAFKA_RESP_ERR__QUEUE_FULL);
    retry_after(m, rd->policy.refused_retry_ms);
}

void cadence_redeliver_send(cadence_redeliver *rd, const char *topic, const char *key,
                            const char *value, size_t len, cadence_redeliver_done_fn done,
                            void *arg)
{
    struct msg *m = calloc(1, sizeof(*m));
    if (!m)
        die_oom();
    m->rd = rd;
    m->topic = dup_or_die(topic, strlen(topic));
    m->key = key ? dup_or_die(key, strlen(key)) : NULL;
    m->value = dup_or_die(value, len);
    m->len = len;
    m->done = done;
    m->arg = arg;
    m->next = rd->head;
    if (rd->head)
        rd->head->prev = m;
    rd->head = m;
    attempt(m);
}

size_t cadence_redeliver_waiting(const cadence_redeliver *rd)
{
    return rd ? rd->waiting : 0;
}

void cadence_redeliver_free(cadence_redeliver *rd)
{
    if (!rd)
        return;
    struct msg *m = rd->head;
    while (m) {
        struct msg *next = m->next;
        m->prev = m->next = NULL;
        if (m->waiting) {
            msg_free(m);
        } else {
            if (m->timer) {
                event_free(m->timer);
                m->timer = NULL;
            }
            m->rd = NULL; /* inside the producer: its report frees it */
        }
        m = next;
    }
    free(rd);
}
