/*
 * notifier — the delivery core: each alert read from alerts.v1 is sent to every destination
 * routed for its rep, and is finished (its offset may be committed) only when every destination
 * answered 2xx or the delivery was dead-lettered to cadence-dlq.v1.
 *
 * Each destination (kind + URL) has a FIFO of deliveries, at most CADENCE_NOTIFY_CONCURRENCY
 * requests in flight, and a "not before" time: the rate limit (CADENCE_NOTIFY_SLACK_INTERVAL_MS
 * / _WEBHOOK_INTERVAL_MS) and the backoff of a failed request (exponential with jitter, or the
 * receiver's Retry-After on 429) move it forward, and the deliveries wait in the queue — nothing
 * is dropped. A delivery that fails for longer than CADENCE_NOTIFY_RETRY_BUDGET_S, or is refused
 * with a 4xx other than 408/429, goes to the DLQ with the destination and the last error.
 *
 * Offsets: per partition, the offsets read are kept in order; the stored offset advances over
 * the finished prefix only, so a crash re-delivers every unfinished alert (with the same
 * Idempotency-Key) and never skips one.
 */
#ifndef CADENCE_NOTIFIER_NOTIFIER_H
#define CADENCE_NOTIFIER_NOTIFIER_H

#include <event2/event.h>
#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "core/config.h"
#include "consumer.h"
#include "http_client.h"
#include "core/metrics.h"
#include "kafka/producer.h"
#include "routes.h"

typedef struct notifier notifier;

typedef struct notifier_deps {
    struct event_base *base;
    const cadence_config *cfg;
    cadence_metrics *metrics;
    cadence_producer *producer; /* for the DLQ */
    notifier_http *http;
} notifier_deps;

/* Borrows everything in `deps`; takes `routes`. NULL on error. */
notifier *notifier_new(const notifier_deps *deps, notifier_routes *routes, char *errstr,
                       size_t errstr_size);

/* The consumer to store offsets in and to pause (borrowed; set once, after notifier_new). */
void notifier_set_consumer(notifier *n, notifier_consumer *c);

/* The consumer callbacks (arg = the notifier). */
extern const notifier_consumer_ops notifier_consumer_callbacks;

/* Re-reads the routes file at `path`: 0 when the new routes are in use, -1 (with errstr naming
 * the file and line) when they were refused and the old ones are kept. */
int notifier_reload(notifier *n, const char *path, char *errstr, size_t errstr_size);

/* Routes in use. */
size_t notifier_route_count(const notifier *n);

/* Alerts read and not yet finished. */
size_t notifier_pending(const notifier *n);

/* Stops taking alerts and calls `done(arg)` once every alert in hand is finished. */
void notifier_drain(notifier *n, void (*done)(void *), void *arg);

/* From now on completions are ignored (the service is tearing down). */
void notifier_shutdown(notifier *n);

/* Frees (alerts still in hand are simply dropped: they were not stored). NULL is a no-op. */
void notifier_free(notifier *n);

#endif
