/*
 * due — the scheduler's typed operations on the due touches of a shard (lua/claim_due.lua,
 * lua/ack_due.lua) and on the reps' open-task queues they feed (lua/queue_tasks.lua):
 *
 *   claim          takes due touches (and touches whose lease expired) into flight under a
 *                  lease; one script call in the shard's slot.
 *   queue and ack  records published touches in their reps' queues, then drops them from
 *                  flight if the lease is still ours; one pipelined round trip: first one queue
 *                  script per rep (rep slot), then one ack script per shard (shard slot), so
 *                  a task's queue write is executed before its ack.
 *
 * The store names the keys, packs the arguments and parses the replies; callers pass ids,
 * times and JSON. Removing a task from its rep's queue is store/queue.h.
 */
#ifndef CADENCE_STORE_DUE_H
#define CADENCE_STORE_DUE_H

#include <stddef.h>
#include <stdint.h>

#include "store/redis.h"

/* The scripts these operations run, registered with one client (handles owned by it). */
typedef struct cadence_store_due_scripts {
    const cadence_redis_script *claim, *ack, *queue;
} cadence_store_due_scripts;

/* Registers the scripts with `r`. Returns 0, or -1 with errstr (out of memory). */
int cadence_store_due_scripts_add(cadence_redis *r, cadence_store_due_scripts *out, char *errstr,
                                  size_t errstr_size);

/* One claimed touch; strings borrowed for the callback (not NUL-checked: use the lengths). */
typedef struct cadence_store_claimed {
    const char *task_id;
    size_t task_id_len;
    const char *task_json; /* the touch_due as the worker stored it */
    size_t task_json_len;
    int reclaimed; /* 1: taken over after an expired lease (another claim had it) */
} cadence_store_claimed;

/*
 * The claim's outcome: `tasks` (n entries), and `scanned`, the entries looked at — equal to
 * the limit means there may be more. On failure tasks is NULL and `error` says why (a lost
 * reply may still have claimed entries: their lease brings them back).
 */
typedef void (*cadence_store_claim_cb)(const cadence_store_claimed *tasks, size_t n, long scanned,
                                       const char *error, void *arg);

/*
 * Claims up to `limit` (≥ 1) touches of `shard` due at `now_ms` under a lease until
 * `lease_deadline_ms` (≥ now_ms). On CADENCE_REDIS_OK `cb` is called exactly once; otherwise
 * never (CADENCE_REDIS_INVALID also for bad arguments or no memory).
 */
enum cadence_redis_status cadence_store_claim_due(cadence_redis *r,
                                                  const cadence_store_due_scripts *s,
                                                  uint32_t shard, int64_t now_ms,
                                                  int64_t lease_deadline_ms, long limit,
                                                  cadence_store_claim_cb cb, void *arg);

/* One published touch to queue and acknowledge; strings borrowed for the call only. */
typedef struct cadence_store_ack_item {
    uint32_t shard;      /* the shard it was claimed from */
    const char *task_id; /* a validated id */
    int64_t lease_ms;    /* the lease deadline the claim wrote */
    const char *rep_id;  /* the rep whose queue it joins; NULL: acknowledged only */
    int64_t due_ms;      /* its due time: the queue's order */
    const char *task_json;
    size_t task_json_len;
} cadence_store_ack_item;

/*
 * The acks' outcome: open[i] for items[i] — 1 when the task still exists (it stays in the
 * rep's queue), 0 when the worker cancelled or replaced it meanwhile. On failure open is NULL
 * and `error` says why (none of the verdicts is known then).
 */
typedef void (*cadence_store_ack_cb)(const int *open, size_t n, const char *error, void *arg);

/*
 * Queues every item that has a rep_id in that rep's queue, then acknowledges all `n` ≥ 1
 * items, in one pipelined round trip. On CADENCE_REDIS_OK `cb` is called exactly once;
 * otherwise never and nothing was sent.
 */
enum cadence_redis_status cadence_store_queue_and_ack(cadence_redis *r,
                                                      const cadence_store_due_scripts *s,
                                                      const cadence_store_ack_item *items, size_t n,
                                                      cadence_store_ack_cb cb, void *arg);

#endif
