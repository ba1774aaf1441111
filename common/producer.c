/*
 * producer — librdkafka producer + libevent wake-up pipe.
 *
 * librdkafka writes a byte to the pipe when its main queue goes from empty to non-empty; the
 * read event then serves every queued report (rd_kafka_poll until it returns 0) so no wake-up
 * is missed. A 100 ms timer is the safety net.
 */
#include "producer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kafka_conf.h"
#include "log.h"

struct cadence_producer {
    rd_kafka_t *rk;
    rd_kafka_queue_t *mainq;
    int pipefd[2];
    struct event *wake_ev, *tick_ev;
    int outstanding;
    int fatal;
    char fatal_why[512];
};

/* What travels with each message to its delivery report. */
struct dr_ctx {
    cadence_producer_dr_fn cb;
    void *opaque;
};

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *conf_opaque)
{
    (void)rk;
    cadence_producer *p = conf_opaque;
    struct dr_ctx *ctx = m->_private;
    p->outstanding--;
    if (ctx) {
        if (ctx->cb)
            ctx->cb(ctx->opaque, m->err, m->partition, m->offset);
        free(ctx);
    }
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *conf_opaque)
{
    cadence_producer *p = conf_opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[256];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, why, sizeof(why));
        snprintf(p->fatal_why, sizeof(p->fatal_why), "%s: %s", rd_kafka_err2name(orig), why);
        p->fatal = 1;
        cadence_log_json(CADENCE_LOG_ERROR, "kafka producer fatal error",
                         json_pack("{s:s}", "error", p->fatal_why));
        return;
    }
    cadence_log_json(CADENCE_LOG_WARN, reason,
                     json_pack("{s:s,s:s}", "source", "producer", "error",
                               rd_kafka_err2name((rd_kafka_resp_err_t)err)));
}

static void serve(cadence_producer *p)
{
    while (rd_kafka_poll(p->rk, 0) > 0)
        ;
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    char buf[64];
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    serve(arg);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    serve(arg);
}

cadence_producer *cadence_producer_new(struct event_base *base, const cadence_config *cfg,
                                       const char *client_id, char *errstr, size_t errstr_size)
{
    cadence_producer *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    p->pipefd[0] = p->pipefd[1] = -1;
    const char *defaults[] = {"client.id", client_id, "enable.idempotence", "true",   "acks", "all",
                              "linger.ms", "2",       "message.timeout.ms", "300000", NULL};
    rd_kafka_conf_t *conf = cadence_kafka_conf_new(cfg, defaults, errstr, errstr_size);
    if (!conf) {
        free(p);
        return NULL;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_opaque(conf, p);
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size);
    if (!p->rk) {
        rd_kafka_conf_destroy(conf);
        free(p);
        return NULL;
    }
    if (pipe2(p->pipefd, O_NONBLOCK | O_CLOEXEC) != 0) {
        snprintf(errstr, errstr_size, "pipe: %s", strerror(errno));
        cadence_producer_free(p);
        return NULL;
    }
    p->mainq = rd_kafka_queue_get_main(p->rk);
    rd_kafka_queue_io_event_enable(p->mainq, p->pipefd[1], "1", 1);
    p->wake_ev = event_new(base, p->pipefd[0], EV_READ | EV_PERSIST, on_wake, p);
    p->tick_ev = event_new(base, -1, EV_PERSIST, on_tick, p);
    struct timeval tv = {0, 100000};
    if (!p->wake_ev || !p->tick_ev || event_add(p->wake_ev, NULL) != 0 ||
        event_add(p->tick_ev, &tv) != 0) {
        snprintf(errstr, errstr_size, "cannot register producer events");
        cadence_producer_free(p);
        return NULL;
    }
    return p;
}

int cadence_producer_send(cadence_producer *p, const char *topic, const char *key,
                          const void *value, size_t len, cadence_producer_dr_fn cb, void *opaque,
                          char *errstr, size_t errstr_size)
{
    struct dr_ctx *ctx = malloc(sizeof(*ctx));
    if (!ctx) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    ctx->cb = cb;
    ctx->opaque = opaque;
    rd_kafka_resp_err_t err = rd_kafka_producev(
        p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key, key ? strlen(key) : 0), RD_KAFKA_V_VALUE((void *)value, len),
        RD_KAFKA_V_OPAQUE(ctx), RD_KAFKA_V_END);
    if (err) {
        free(ctx);
        snprintf(errstr, errstr_size, "produce to %s: %s", topic, rd_kafka_err2str(err));
        return -1;
    }
    p->outstanding++;
    return 0;
}

int cadence_producer_outstanding(const cadence_producer *p)
{
    return p->outstanding;
}

int cadence_producer_fatal(const cadence_producer *p, char *why, size_t why_size)
{
    if (p->fatal && why)
        snprintf(why, why_size, "%s", p->fatal_why);
    return p->fatal;
}

void cadence_producer_poll(cadence_producer *p)
{
    serve(p);
}

int cadence_producer_flush(cadence_producer *p, int timeout_ms)
{
    rd_kafka_flush(p->rk, timeout_ms); /* serves delivery reports itself */
    serve(p);
    return p->outstanding == 0 ? 0 : -1;
}

rd_kafka_t *cadence_producer_handle(cadence_producer *p)
{
    return p->rk;
}

void cadence_producer_free(cadence_producer *p)
{
    if (!p)
        return;
    if (p->wake_ev)
        event_free(p->wake_ev);
    if (p->tick_ev)
        event_free(p->tick_ev);
    if (p->rk) {
        if (p->mainq)
            rd_kafka_queue_io_event_enable(p->mainq, -1, NULL, 0);
        /* Outstanding messages are purged; their reports run the callbacks with an error. */
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(p->rk, 1000);
        serve(p);
        if (p->mainq)
            rd_kafka_queue_destroy(p->mainq);
        rd_kafka_destroy(p->rk);
    }
    if (p->pipefd[0] >= 0)
        close(p->pipefd[0]);
    if (p->pipefd[1] >= 0)
        close(p->pipefd[1]);
    free(p);
}
