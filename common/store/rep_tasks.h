/*
 * rep_tasks — one task of a rep's open queue, as a typed read: is `task_id` in rep `rep_id`'s
 * queue (cad:{r:<rep_id>}:queue, kept by the scheduler and the worker) and what does it say
 * (its touch_due JSON in cad:{r:<rep_id>}:tasks). One pipelined round trip in the rep's slot.
 * The gateway uses it to accept an outcome only for a task the rep has open.
 */
#ifndef CADENCE_STORE_REP_TASKS_H
#define CADENCE_STORE_REP_TASKS_H

#include <stddef.h>

#include "store/redis.h"

/* The task as found: `json` NULL when the task is not in the rep's open queue (answered,
 * replaced, never theirs); otherwise its touch_due JSON, borrowed for the callback. `error`
 * is set (and json NULL) when the read failed. */
typedef void (*cadence_store_rep_task_cb)(const char *json, size_t len, long long due_ms,
                                          const char *error, void *arg);

/* Reads task `task_id` of rep `rep_id` (validated ids). On CADENCE_REDIS_OK `cb` is called
 * exactly once. */
enum cadence_redis_status cadence_store_read_rep_task(cadence_redis *r, const char *rep_id,
                                                      const char *task_id,
                                                      cadence_store_rep_task_cb cb, void *arg);

#endif
