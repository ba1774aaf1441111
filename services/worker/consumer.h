/*
 * consumer — the worker's Kafka consumer: one group over the input topics, cooperative-sticky
 * assignment, offsets stored only when the pipeline says an event's effects are durable.
 *
 * Messages are polled into a FIFO (in poll order, so per-partition order holds) from which the
 * pipeline takes batches. librdkafka wakes the event loop through a pipe when messages or
 * rebalance events are queued, and a short timer keeps serving the group (heartbeats, rebalances)
 * while a batch is in flight. The FIFO is bounded: when it is full the queue is simply not
 * polled until the pipeline takes messages (librdkafka's own bounded queue holds the rest and
 * stops fetching when full); when the owner asks (Redis down) every owned partition is paused
 * and the group is still served. Nothing is skipped or dropped.
 *
 * On revoke: stored offsets are committed synchronously for the partitions being given up, and
 * their messages still in the FIFO are dropped (the new owner reads them from the committed
 * offset). On a lost assignment nothing can be committed; the same happens without the commit.
 */
#ifndef CADENCE_WORKER_CONSUMER_H
#define CADENCE_WORKER_CONSUMER_H

#include <event2/event.h>
#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "core/config.h"
#include "core/metrics.h"

typedef struct worker_consumer worker_consumer;

/* Called on the loop thread when new messages were added to the FIFO. */
typedef void (*worker_consumer_ready_fn)(void *arg);

/*
 * Subscribes to `topics` (NULL-terminated) in cfg->group_id. Borrows `base`, `metrics` and
 * `arg`. `fifo_max` bounds the FIFO. Returns NULL with errstr on failure.
 */
worker_consumer *worker_consumer_new(struct event_base *base, const cadence_config *cfg,
                                     const char *const *topics, size_t fifo_max,
                                     cadence_metrics *metrics, worker_consumer_ready_fn ready,
                                     void *arg, char *errstr, size_t errstr_size);

/* Messages waiting in the FIFO. */
size_t worker_consumer_pending(const worker_consumer *c);

/* Moves up to `max` messages from the FIFO into `out`; the caller owns them
 * (rd_kafka_message_destroy). Returns how many. */
size_t worker_consumer_take(worker_consumer *c, rd_kafka_message_t **out, size_t max);

/*
 * Stores offset+1 of each message for the next commit (auto-committed every few seconds, and
 * on revoke and close). Messages of partitions no longer owned are ignored. Borrows `msgs`.
 */
void worker_consumer_store(worker_consumer *c, rd_kafka_message_t *const *msgs, size_t n);

/* Pauses (1) or resumes (0) consumption because of the owner (e.g. Redis is down). */
void worker_consumer_hold(worker_consumer *c, int hold);

/* True when a broker answered recently (for /healthz); `why` says what is wrong otherwise. */
int worker_consumer_healthy(const worker_consumer *c, char *why, size_t why_size);

/* True once librdkafka raised a fatal consumer error. */
int worker_consumer_fatal(const worker_consumer *c);

/* Commits stored offsets (synchronously) and leaves the group; bounded by `timeout_ms`. */
void worker_consumer_close(worker_consumer *c, int timeout_ms);

/* Frees the consumer (closes it first if needed). NULL is a no-op. */
void worker_consumer_free(worker_consumer *c);

#endif
