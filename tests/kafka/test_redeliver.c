/*
 * The one redelivery policy (common/kafka/redeliver.h): a message reaches Kafka and is reported
 * once; one the producer refuses is sent again; a failed delivery is produced again or
 * reported as the policy says; freeing drops what waits without calling back.
 */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devbroker_proc.h"
#include "kafka/redeliver.h"

struct seen {
    int done, failed, refused, redelivered;
};

static void on_done(void *arg, rd_kafka_resp_err_t err)
{
    struct seen *s = arg;
    s->done++;
    if (err)
        s->failed++;
}

static void on_retry(void *arg, const char *topic, int refused, rd_kafka_resp_err_t err)
{
    (void)err;
    struct seen *s = arg;
    cr_assert_str_eq(topic, "alerts.v1");
    if (refused)
        s->refused++;
    else
        s->redelivered++;
}

/* Runs the loop until `cond` or `ms` pass. */
#define RUN_FOR(base, ms, cond)                                                                    \
    do {                                                                                           \
        for (int i_ = 0; i_ < (ms) / 10 && !(cond); i_++) {                                        \
            event_base_loop(base, EVLOOP_NONBLOCK);                                                \
            usleep(10000);                                                                         \
        }                                                                                          \
    } while (0)

/* A producer with extra librdkafka settings (key=value lines), to an address or a broker. */
static cadence_producer *producer(struct event_base *base, const char *brokers,
                                  const char *settings, char *path)
{
    cadence_config cfg = {0};
    cfg.kafka_brokers = (char *)brokers;
    if (settings) {
        snprintf(path, 64, "/tmp/test_redeliver_%d.conf", (int)getpid());
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f);
        fputs(settings, f);
        fclose(f);
        cfg.kafka_config_file = path;
    }
    char err[512];
    cadence_producer *p = cadence_producer_new(base, &cfg, "test-redeliver", err, sizeof(err));
    cr_assert_not_null(p, "%s", err);
    return p;
}

Test(redeliver, a_message_reaches_kafka_and_is_reported_once)
{
    test_devbroker b;
    test_devbroker_start(&b, 1);
    struct event_base *base = event_base_new();
    char path[64];
    cadence_producer *p = producer(base, b.bootstrap, NULL, path);
    struct seen s = {0};
    const cadence_redeliver_policy pol = {100, 500, on_retry};
    char err[256];
    cadence_redeliver *rd = cadence_redeliver_new(base, p, &pol, err, sizeof(err));
    cr_assert_not_null(rd, "%s", err);
    for (int i = 0; i < 20; i++)
        cadence_redeliver_send(rd, "alerts.v1", i % 2 ? "k" : NULL, "{\"n\":1}", 7, on_done, &s);
    cr_assert_eq(s.done, 0, "never called back from inside the send");
    RUN_FOR(base, 15000, s.done == 20);
    cr_assert_eq(s.done, 20);
    cr_assert_eq(s.failed, 0);
    cr_assert_eq(cadence_redeliver_waiting(rd), 0);
    cadence_redeliver_free(rd);
    cadence_producer_free(p);
    event_base_free(base);
    test_devbroker_stop(&b);
}

Test(redeliver, a_refused_message_is_sent_again_and_freeing_drops_it_silently)
{
    struct event_base *base = event_base_new();
    char path[64];
    /* nothing listens there, and the producer holds one message: the rest are refused */
    cadence_producer *p = producer(base, "127.0.0.1:1", "queue.buffering.max.messages=1\n", path);
    struct seen s = {0};
    const cadence_redeliver_policy pol = {20, 500, on_retry};
    char err[256];
    cadence_redeliver *rd = cadence_redeliver_new(base, p, &pol, err, sizeof(err));
    cr_assert_not_null(rd, "%s", err);
    for (int i = 0; i < 3; i++)
        cadence_redeliver_send(rd, "alerts.v1", "k", "v", 1, on_done, &s);
    RUN_FOR(base, 500, s.refused >= 6);
    cr_assert_geq(s.refused, 6, "refused %d times", s.refused);
    cr_assert_eq(cadence_redeliver_waiting(rd), 2);
    cadence_redeliver_free(rd);
    cadence_producer_free(p); /* purges the one inside the producer: orphaned, freed quietly */
    cr_assert_eq(s.done, 0);
    event_base_free(base);
    unlink(path);
}

Test(redeliver, a_failed_delivery_is_reported_or_produced_again_as_the_policy_says)
{
    struct event_base *base = event_base_new();
    char path[64];
    cadence_producer *p = producer(base, "127.0.0.1:1", "message.timeout.ms=100\n", path);
    struct seen report = {0}, again = {0};
    const cadence_redeliver_policy once = {20, 0, on_retry}, retry = {20, 30, on_retry};
    char err[256];
    cadence_redeliver *r1 = cadence_redeliver_new(base, p, &once, err, sizeof(err));
    cadence_redeliver *r2 = cadence_redeliver_new(base, p, &retry, err, sizeof(err));
    cr_assert(r1 && r2, "%s", err);
    cadence_redeliver_send(r1, "alerts.v1", "k", "v", 1, on_done, &report);
    cadence_redeliver_send(r2, "alerts.v1", "k", "v", 1, on_done, &again);
    RUN_FOR(base, 5000, report.done == 1 && again.redelivered >= 2);
    cr_assert_eq(report.done, 1);
    cr_assert_eq(report.failed, 1, "reported with its error");
    cr_assert_eq(report.redelivered, 0);
    cr_assert_geq(again.redelivered, 2, "produced again after each failure");
    cr_assert_eq(again.done, 0);
    cadence_redeliver_free(r1);
    cadence_redeliver_free(r2);
    cadence_producer_free(p);
    cr_assert_eq(again.done, 0);
    event_base_free(base);
    unlink(path);
}

Test(redeliver, a_policy_without_a_refusal_delay_is_refused)
{
    const cadence_redeliver_policy bad = {0, 0, NULL};
    char err[256] = "";
    cr_assert_null(cadence_redeliver_new(NULL, NULL, &bad, err, sizeof(err)));
    cr_assert_neq(err[0], '\0');
}
