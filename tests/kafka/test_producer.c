/* Tests for producer: idempotent delivery to the devbroker, reports on the event loop. */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "devbroker_proc.h"
#include "kafka/producer.h"

struct results {
    int delivered, failed;
    int64_t last_offset;
    struct event_base *base;
    int want;
};

static void on_dr(void *opaque, rd_kafka_resp_err_t err, int32_t partition, int64_t offset)
{
    (void)partition;
    struct results *r = opaque;
    if (err)
        r->failed++;
    else {
        r->delivered++;
        r->last_offset = offset;
    }
    if (r->delivered + r->failed >= r->want)
        event_base_loopbreak(r->base);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

Test(producer, delivers_messages_and_reports_on_the_event_loop)
{
    test_devbroker b;
    test_devbroker_start(&b, 2);
    cadence_config cfg = {0};
    cfg.kafka_brokers = b.bootstrap;
    struct event_base *base = event_base_new();
    char err[512];
    cadence_producer *p = cadence_producer_new(base, &cfg, "test-producer", err, sizeof(err));
    cr_assert_not_null(p, "%s", err);
    char idem[16];
    size_t n = sizeof(idem);
    cr_assert_eq(rd_kafka_conf_get(rd_kafka_conf(cadence_producer_handle(p)), "enable.idempotence",
                                   idem, &n),
                 RD_KAFKA_CONF_OK);
    cr_assert_str_eq(idem, "true");

    struct results r = {0, 0, -1, base, 50};
    for (int i = 0; i < 50; i++) {
        char v[32];
        snprintf(v, sizeof(v), "{\"n\":%d}", i);
        cr_assert_eq(cadence_producer_send(p, "alerts.v1", "lead-1", v, strlen(v), on_dr, &r, err,
                                           sizeof(err)),
                     0, "%s", err);
    }
    cr_assert_eq(cadence_producer_outstanding(p), 50);
    struct event *deadline = evtimer_new(base, on_deadline, base);
    struct timeval tv = {15, 0};
    evtimer_add(deadline, &tv);
    event_base_dispatch(base);
    cr_assert_eq(r.delivered, 50, "delivered %d, failed %d", r.delivered, r.failed);
    cr_assert_eq(r.last_offset, 49, "one key, one partition: offsets 0..49");
    cr_assert_eq(cadence_producer_outstanding(p), 0);
    cr_assert_eq(cadence_producer_fatal(p, NULL, 0), 0);
    event_free(deadline);
    cadence_producer_free(p);
    event_base_free(base);
    test_devbroker_stop(&b);
}

Test(producer, purges_undelivered_messages_on_free_with_an_error_report)
{
    /* Nothing listens on this address, so the message can only be purged. */
    cadence_config cfg = {0};
    cfg.kafka_brokers = "127.0.0.1:1";
    struct event_base *base = event_base_new();
    char err[512];
    cadence_producer *p = cadence_producer_new(base, &cfg, "test-producer", err, sizeof(err));
    cr_assert_not_null(p, "%s", err);
    struct results r = {0, 0, -1, base, 1};
    cr_assert_eq(cadence_producer_send(p, "alerts.v1", "k", "v", 1, on_dr, &r, err, sizeof(err)),
                 0);
    cadence_producer_free(p);
    cr_assert_eq(r.failed, 1, "the purged message's callback must run once with an error");
    cr_assert_eq(r.delivered, 0);
    event_base_free(base);
}
