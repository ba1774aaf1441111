/*
 * capacity — the store's operations for a rep's daily capacity (the playbook's
 * rep_daily_capacity, applied by the scheduler):
 *
 *  - take: hands out places in one rep's day to touches about to be published, in the order
 *    given (highest priority first), atomically (lua/take_capacity.lua, rep slot). The day is
 *    a set of task ids `cad:{r:<rep_id>}:cap:<YYYY-MM-DD>` that expires after `ttl_s`, so a
 *    task re-claimed after a lease keeps the place it had and is counted once;
 *  - defer: moves a claimed touch that got no place to a later due time instead of publishing
 *    it (lua/defer_task.lua, shard slot), unless the worker changed it meanwhile.
 *
 * The decisions (priority order, which touches must always have a place, the rep's day and
 * the next business day) are the scheduler's (services/scheduler/plan.h); these operations
 * only count and move, so any number of schedulers share a rep's day safely.
 */
#ifndef CADENCE_STORE_CAPACITY_H
#define CADENCE_STORE_CAPACITY_H

#include <stddef.h>
#include <stdint.h>

#include "store/redis.h"

/* Most touches one take call hands places to (one claim batch). */
#define CADENCE_STORE_CAPACITY_MAX_TAKE 512

typedef struct cadence_store_capacity cadence_store_capacity;

/* Registers the scripts on `r` (borrowed; must outlive the result). NULL with errstr on
 * failure. Free with cadence_store_capacity_free (NULL is a no-op). */
cadence_store_capacity *cadence_store_capacity_new(cadence_redis *r, char *errstr,
                                                   size_t errstr_size);
void cadence_store_capacity_free(cadence_store_capacity *c);

/*
 * Called once per take: `error` NULL on success and `granted[i]` (1 = a place today, 0 = the
 * day is full) for each of the `n` tasks asked for; borrowed for the call.
 */
typedef void (*cadence_store_take_cb)(const char *error, const int *granted, size_t n, void *arg);

/*
 * Asks for places in rep `rep_id`'s day `day` ("YYYY-MM-DD") for `n` tasks (1 ≤ n ≤
 * CADENCE_STORE_CAPACITY_MAX_TAKE) in priority order; `must[i]` = 1 gives task i a place even
 * in a full day (it still counts). `capacity` ≥ 1 places per day; the day's set expires after
 * `ttl_s` seconds. Returns CADENCE_REDIS_INVALID on bad arguments (no call), else as
 * cadence_redis_evalsha; on CADENCE_REDIS_OK `cb` is called exactly once.
 */
enum cadence_redis_status cadence_store_capacity_take(cadence_store_capacity *c, const char *rep_id,
                                                      const char *day, long capacity, long ttl_s,
                                                      size_t n, const char *const *task_ids,
                                                      const int *must, cadence_store_take_cb cb,
                                                      void *arg);

/* Called once per defer: `error` NULL on success, `moved` 1 when the task was moved. */
typedef void (*cadence_store_defer_cb)(const char *error, int moved, void *arg);

/*
 * Moves claimed task `task_id` of shard `shard` to `due_ms` with `new_json`, if the lease
 * `lease_ms` (as the claim wrote it) is still ours and the stored JSON is still `claimed_json`
 * (`claimed_len` bytes). Everything borrowed for the call. On CADENCE_REDIS_OK `cb` is called
 * exactly once.
 */
enum cadence_redis_status cadence_store_capacity_defer(cadence_store_capacity *c, uint32_t shard,
                                                       const char *task_id, int64_t lease_ms,
                                                       const char *claimed_json, size_t claimed_len,
                                                       int64_t due_ms, const char *new_json,
                                                       cadence_store_defer_cb cb, void *arg);

#endif
