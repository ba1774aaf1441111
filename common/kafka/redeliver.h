/*
 * redeliver — producing a message until Kafka has it: the one retry policy for the worker's
 * outputs and dead letters, the scheduler's touches and the notifier's dead letters.
 *
 *   - refused at once by the producer (its queue is full): sent again after
 *     `refused_retry_ms`, as often as it takes;
 *   - delivery failed (message.timeout.ms passed): produced again after `failed_retry_ms`
 *     when that is > 0 (the worker: an output must reach Kafka before its input offset is
 *     stored; the notifier: a dead letter before its alert's offset), else reported to the
 *     caller (the scheduler: the lease brings the task back);
 *   - purged (the producer is being freed): reported, never retried.
 *
 * The message is copied once; `done` runs exactly once, from the event loop, with the final
 * result. Freeing the redeliverer drops the messages waiting for a retry (their `done` is not
 * called: the caller is shutting down).
 */
#ifndef CADENCE_KAFKA_REDELIVER_H
#define CADENCE_KAFKA_REDELIVER_H

#include <event2/event.h>
#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "kafka/producer.h"

typedef struct cadence_redeliver cadence_redeliver;

/* Final result of one message: err is RD_KAFKA_RESP_ERR_NO_ERROR when Kafka acknowledged it;
 * otherwise a failed delivery the policy does not retry, or a purge. */
typedef void (*cadence_redeliver_done_fn)(void *arg, rd_kafka_resp_err_t err);

/* Told of each retry of a message to `topic` (for logs and metrics): `refused` 1 when the
 * producer refused it at once, 0 when its delivery failed (err says why). `arg` is the
 * message's `done` argument. */
typedef void (*cadence_redeliver_retry_fn)(void *arg, const char *topic, int refused,
                                           rd_kafka_resp_err_t err);

typedef struct cadence_redeliver_policy {
    long refused_retry_ms;            /* > 0 */
    long failed_retry_ms;             /* 0: report a failed delivery to `done` */
    cadence_redeliver_retry_fn retry; /* may be NULL */
} cadence_redeliver_policy;

/* A redeliverer on `base` for `producer` (both borrowed, outliving it); `policy` is copied.
 * NULL with errstr on a bad policy or no memory. */
cadence_redeliver *cadence_redeliver_new(struct event_base *base, cadence_producer *producer,
                                         const cadence_redeliver_policy *policy, char *errstr,
                                         size_t errstr_size);

/*
 * Produces `len` bytes of `value` to `topic` with `key` (NULL: none); all copied. `done` runs
 * exactly once with the final result, never from inside this call. Aborts on out of memory
 * (the process cannot keep its delivery promise).
 */
void cadence_redeliver_send(cadence_redeliver *rd, const char *topic, const char *key,
                            const char *value, size_t len, cadence_redeliver_done_fn done,
                            void *arg);

/* Messages waiting for a retry timer (not handed to the producer). */
size_t cadence_redeliver_waiting(const cadence_redeliver *rd);

/* Frees the redeliverer and drops the messages waiting for a retry. NULL is a no-op.
 * Messages inside the producer still report to their `done` (as a purge when it is freed). */
void cadence_redeliver_free(cadence_redeliver *rd);

#endif
