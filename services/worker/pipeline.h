/*
 * pipeline — the worker's batch pipeline: Kafka messages in, effects in Redis, outputs to
 * Kafka, offsets stored last.
 *
 * A batch goes through two stages. The Redis stage (steps 1-5) holds two batches: the younger
 * one applies the events of leads the older one does not hold, while its other events (and its
 * visits known only by email) wait until the older batch has left the stage, so every event
 * reads a state that every older event of its lead has finished writing. The produce stage
 * (6-7) holds up to WORKER_MAX_PRODUCING batches waiting for Kafka's acknowledgements, so the
 * next batches are read and applied while the previous ones' outputs are delivered. Batches
 * leave both stages in order and offsets are stored in batch order: never past an older batch
 * still delivering. Each batch's outputs are produced in the engine's order.
 *   1. take up to CADENCE_BATCH_MAX messages; size-check, parse and validate each against its
 *      topic's schema (bad input is marked for the DLQ with the validator's message);
 *   2. resolve visits that carry only an email through the email index (one pipelined round
 *      trip); an unknown visitor is counted and skipped;
 *   3. read the states of the batch's leads (one pipelined round trip) — except those this
 *      worker wrote last and still holds in its lead cache (lead_cache.h);
 *   4. run the engine per event, in order, chaining each lead's state through its events;
 *   5. apply each event with the apply script (event-id check, version compare-and-set, state,
 *      due set, timeline, counters and the outbox together); a version conflict re-reads the
 *      lead and recomputes its remaining events; a re-delivered event returns its recorded
 *      outputs, which are emitted again with the same ids;
 *   6. produce the outputs and the dead letters (dead_letter.h) with the idempotent producer,
 *      each until Kafka has it (kafka/redeliver.h);
 *   7. when every output is acknowledged, store the offsets of the whole batch.
 * A Redis failure holds the consumer (partitions paused) and retries the batch from step 3
 * with capped backoff; applied events are not applied again (the event-id check), nothing is
 * skipped. A failed delivery is produced again after a backoff.
 */
#ifndef CADENCE_WORKER_PIPELINE_H
#define CADENCE_WORKER_PIPELINE_H

#include <event2/event.h>

#include "core/config.h"
#include "consumer.h"
#include "engine/engine.h"
#include "core/metrics.h"
#include "kafka/producer.h"
#include "store/redis.h"
#include "schema/schemas.h"

/* Largest event accepted from Kafka; larger ones go to the DLQ. */
#define WORKER_MAX_EVENT_BYTES 65536
/* Batches at most in the produce stage (delivering outputs) behind the one in the Redis stage. */
#define WORKER_MAX_PRODUCING 8
/* An output the producer refused at once (its queue is full) is produced again after this. */
#define WORKER_REFUSED_RETRY_MS 100
/* An output whose delivery failed is produced again after this (kafka/redeliver.h). */
#define WORKER_REDELIVER_MS 500

typedef struct worker_pipeline worker_pipeline;

/* Everything the pipeline borrows; all must outlive it. */
typedef struct worker_deps {
    struct event_base *base;
    const cadence_config *cfg;
    worker_consumer *consumer;
    cadence_redis *redis;
    cadence_producer *producer;
    const cadence_schemas *schemas;
    const cadence_playbook *playbook;
    cadence_metrics *metrics;
} worker_deps;

/* Returns a new pipeline (registers the apply script with the Redis client), or NULL. */
worker_pipeline *worker_pipeline_new(const worker_deps *deps, char *errstr, size_t errstr_size);

/* Starts a batch if none is in flight and messages are waiting. */
void worker_pipeline_kick(worker_pipeline *p);

/* Stops taking new batches; `done` runs once every batch in flight (if any) has finished. */
void worker_pipeline_drain(worker_pipeline *p, void (*done)(void *arg), void *arg);

/* Forgets the lead states kept in memory (call when Redis comes back: it may have lost
 * writes). The next batches read Redis. */
void worker_pipeline_forget_states(worker_pipeline *p);

/* Makes every later Redis callback a no-op; call before freeing the Redis client. */
void worker_pipeline_shutdown(worker_pipeline *p);

/* True while a batch is in either stage. */
int worker_pipeline_busy(const worker_pipeline *p);

/* Frees the pipeline; a batch still in flight is abandoned (its offsets are not stored). */
void worker_pipeline_free(worker_pipeline *p);

#endif
