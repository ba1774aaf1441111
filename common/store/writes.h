/*
 * writes — the store's small idempotent writes outside a lead's slot, as typed operations:
 * the email index and the removal of a task from its rep's queue. Each names its keys itself
 * (store/keys.h); callers pass ids, never keys or commands.
 */
#ifndef CADENCE_STORE_WRITES_H
#define CADENCE_STORE_WRITES_H

#include <stdint.h>

#include "store/redis.h"

/* Called once per write: `error` NULL on success, else why (an error reply, a timeout or a
 * lost connection; borrowed for the call). */
typedef void (*cadence_store_done_cb)(const char *error, void *arg);

/*
 * Links `email` (case-insensitive; sharded over `shards`) to `lead_id`, so visits that carry
 * only an email find the lead. On CADENCE_REDIS_OK `cb` is called exactly once.
 */
enum cadence_redis_status cadence_store_link_email(cadence_redis *r, const char *email,
                                                   uint32_t shards, const char *lead_id,
                                                   cadence_store_done_cb cb, void *arg);

/*
 * Removes task `task_id` from rep `rep_id`'s queue and its task hash (both in the rep's slot,
 * one round trip). On CADENCE_REDIS_OK `cb` is called exactly once.
 */
enum cadence_redis_status cadence_store_drop_rep_task(cadence_redis *r, const char *rep_id,
                                                      const char *task_id, cadence_store_done_cb cb,
                                                      void *arg);

#endif
