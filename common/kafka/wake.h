/*
 * kafka_wake — runs a callback on the libevent loop when a librdkafka queue has something.
 *
 * librdkafka writes a byte to a pipe when the queue goes from empty to non-empty (queue I/O
 * events); the pipe's read event calls `fn`, which must then serve the queue until it is empty
 * (otherwise no further wake-up comes). A periodic tick calls `fn` too, as a safety net and to
 * keep consumer-group duties (heartbeats, rebalances) served while nothing arrives.
 */
#ifndef CADENCE_KAFKA_WAKE_H
#define CADENCE_KAFKA_WAKE_H

#include <event2/event.h>
#include <librdkafka/rdkafka.h>
#include <stddef.h>

typedef struct cadence_kafka_wake cadence_kafka_wake;

/*
 * Starts waking `fn(arg)` for `queue` (borrowed: it must outlive the waker) on `base`, and
 * every `tick_ms`. Returns NULL with errstr on failure.
 */
cadence_kafka_wake *cadence_kafka_wake_new(struct event_base *base, rd_kafka_queue_t *queue,
                                           int tick_ms, void (*fn)(void *arg), void *arg,
                                           char *errstr, size_t errstr_size);

/* Stops the wake-ups (librdkafka no longer writes to the pipe) and frees. NULL is a no-op. */
void cadence_kafka_wake_free(cadence_kafka_wake *w);

#endif
