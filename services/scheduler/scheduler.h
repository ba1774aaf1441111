/*
 * scheduler — turns the due sets into touches-due.v1 messages: claim, publish, acknowledge.
 *
 * Every tick (CADENCE_TICK_MS) a sweep queues every shard, starting at a shard that differs
 * per process and per sweep (plan.h). Each shard is claimed with one atomic Lua script
 * (scripts.h) that moves up to SCHEDULER_CLAIM_BATCH due entries — and expired leases — into
 * the shard's in-flight set with a lease deadline and returns their JSON. Each task is then
 * published as stored (key = lead_id) with the idempotent producer; on its delivery report the
 * task is acknowledged: recorded in its rep's open-task queue and dropped from the in-flight
 * set (only if still ours), and taken out of the queue again if the worker cancelled it
 * meanwhile. A claim that returned a full batch is repeated at once, so a backlog drains at
 * full speed; tasks claimed and not yet acknowledged are bounded by SCHEDULER_MAX_IN_FLIGHT.
 *
 * Failure model: a task whose delivery or acknowledgement does not happen (crash, kill -9,
 * Kafka down beyond the producer's timeout) stays in the in-flight set; when its lease
 * expires any scheduler re-claims it and publishes it again with the same task_id (consumers
 * drop duplicates by id). A claim whose reply was lost is the same case. In normal operation
 * each task is published once.
 *
 * One event loop, not thread-safe.
 */
#ifndef CADENCE_SCHEDULER_SCHEDULER_H
#define CADENCE_SCHEDULER_SCHEDULER_H

#include <event2/event.h>
#include <stddef.h>

#include "core/config.h"
#include "core/metrics.h"
#include "engine/playbook.h"
#include "kafka/producer.h"
#include "store/redis.h"

/* Most entries one claim script takes from one shard. */
#define SCHEDULER_CLAIM_BATCH 256
/* Most claim scripts outstanding at once. */
#define SCHEDULER_MAX_CLAIMS 4
/* Most tasks claimed and not yet acknowledged (in flight to Kafka or being acknowledged). */
#define SCHEDULER_MAX_IN_FLIGHT 4096
/*
 * Claiming pauses while messages wait for Kafka and no delivery report came for this long
 * (or half the lease, if shorter): a scheduler that cannot reach Kafka must not keep taking
 * tasks that healthy schedulers could publish.
 */
#define SCHEDULER_STALL_MS 5000
/* Most tasks acknowledged by one pipelined batch (one queue script per rep, one ack script
 * per shard). */
#define SCHEDULER_ACK_BATCH 512
/* How long a rep's day of places (rep capacity) is kept in Redis: past the day in any zone. */
#define SCHEDULER_CAPACITY_TTL_S (3L * 24 * 3600)
/* Delay before a step refused for lack of room (producer queue, Redis down) is tried again. */
#define SCHEDULER_RETRY_MS 100

typedef struct scheduler scheduler;

/* What the scheduler runs on; all borrowed, all must outlive it. */
typedef struct scheduler_deps {
    struct event_base *base;
    const cadence_config *cfg; /* shards, tick_ms, lease_ms */
    cadence_redis *redis;
    cadence_producer *producer;
    cadence_metrics *metrics; /* the scheduler declares its families in it */
    /* rep_daily_capacity and the calendars for moving touches (NULL: no rep capacity) */
    const cadence_playbook *playbook;
} scheduler_deps;

/* Creates the scheduler and starts ticking. Returns NULL with errstr on failure. */
scheduler *scheduler_new(const scheduler_deps *deps, char *errstr, size_t errstr_size);

/* Starts a sweep now (e.g. when Redis became ready). */
void scheduler_kick(scheduler *s);

/*
 * 1 when Kafka takes our messages: the last delivery report was a success (or none came yet)
 * and deliveries are not stalled (see SCHEDULER_STALL_MS); else 0 with the reason in `why`.
 */
int scheduler_deliveries_ok(const scheduler *s, char *why, size_t why_size);

/* Tasks claimed and not yet acknowledged. */
size_t scheduler_in_flight(const scheduler *s);

/*
 * Stops claiming and calls `done(arg)` once every task in flight was delivered and
 * acknowledged (at once if none). The caller bounds the wait with its own timer.
 */
void scheduler_drain(scheduler *s, void (*done)(void *arg), void *arg);

/*
 * Detaches from Redis and Kafka callbacks still to come: call before freeing the Redis client
 * and the producer (their pending callbacks then only release the tasks), and free the
 * scheduler after them. Unacknowledged tasks stay leased in Redis and are re-published after
 * their lease.
 */
void scheduler_shutdown(scheduler *s);

/* Frees the scheduler; NULL is a no-op. */
void scheduler_free(scheduler *s);

#endif
