/*
 * producer — librdkafka producer served from the event loop.
 *
 * kafka_wake calls serve() when the main queue gets a delivery report; serve() drains every
 * queued report (rd_kafka_poll until it returns 0) so no wake-up is missed. A 100 ms tick is
 * the safety net.
 */
#include "kafka/producer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/conf.h"
#include "kafka/wake.h"
#include "core/log.h"

struct cadence_producer {
    rd_kafka_t *rk;
    rd_kafka_queue_t *mainq;
    cadence_kafka_wake *wake;
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

static void on_wake(void *arg)
{
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
    p->mainq = rd_kafka_queue_get_main(p->rk);
    p->wake = cadence_kafka_wake_new(base, p->mainq, 100, on_wake, p, errstr, errstr_size);
    if (!p->wake) {
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
    /* librdkafka now owns ctx; the delivery report frees it. */
    p->outstanding++; // NOLINT(clang-analyzer-unix.Malloc)
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
    cadence_kafka_wake_free(p->wake);
    if (p->rk) {
        /* Outstanding messages are purged; their reports run the callbacks with an error. */
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(p->rk, 1000);
        serve(p);
        if (p->mainq)
            rd_kafka_queue_destroy(p->mainq);
        rd_kafka_destroy(p->rk);
    }
    free(p);
}
