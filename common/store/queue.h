/*
 * queue — a rep's open-task queue (`cad:{r:<rep_id>}:queue` and its task hash): reading it
 * (the gateway's GET /v1/queue, lua/read_queue.lua) and removing a task from it (the worker,
 * when an event cancels a task a rep already holds; the scheduler, when its ack finds a task
 * cancelled). Tasks join a queue through the scheduler's ack (store/due.h). These are the only
 * ways any service writes or reads a rep's queue.
 */
#ifndef CADENCE_STORE_QUEUE_H
#define CADENCE_STORE_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "store/redis.h"
#include "store/writes.h"

/* Registers lua/read_queue.lua with the client (see cadence_redis_script_add). */
const cadence_redis_script *cadence_store_read_queue_script(cadence_redis *r, char *errstr,
                                                            size_t errstr_size);

/* One queued task; strings borrowed for the callback. */
typedef struct cadence_store_queued {
    const char *task_id;
    size_t task_id_len;
    int64_t due_ms;
    const char *task_json; /* NULL when the task hash has no entry for the id */
    size_t task_json_len;
} cadence_store_queued;

typedef void (*cadence_store_queue_cb)(const cadence_store_queued *tasks, size_t n,
                                       const char *error, void *arg);

/*
 * Reads up to `limit` (≥ 1) tasks of rep `rep_id` due at or before `until_ms`, in due order.
 * On CADENCE_REDIS_OK `cb` is called exactly once (tasks NULL and `error` set on failure).
 */
enum cadence_redis_status cadence_store_read_queue(cadence_redis *r,
                                                   const cadence_redis_script *script,
                                                   const char *rep_id, int64_t until_ms, long limit,
                                                   cadence_store_queue_cb cb, void *arg);

/*
 * Removes task `task_id` from rep `rep_id`'s queue and its task hash (both in the rep's slot,
 * one round trip; idempotent). On CADENCE_REDIS_OK `cb` is called exactly once.
 */
enum cadence_redis_status cadence_store_unqueue_task(cadence_redis *r, const char *rep_id,
                                                     const char *task_id, cadence_store_done_cb cb,
                                                     void *arg);

#endif
