/*
 * writes — the email index (email → lead), the store's small idempotent write outside a lead's
 * slot, as typed operations: the worker links the email of each lead it applies, the gateway
 * the emails its identify calls carry. The store names the keys (store/keys.h); callers pass
 * ids, never keys or commands. A rep's queue is store/queue.h.
 */
#ifndef CADENCE_STORE_WRITES_H
#define CADENCE_STORE_WRITES_H

#include <stddef.h>
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

/* One email to link to a lead (strings borrowed for the call). */
typedef struct cadence_store_email_lead {
    const char *email;
    const char *lead_id; /* a validated id */
} cadence_store_email_lead;

/*
 * Links `n` ≥ 1 emails to their leads in one pipelined round trip (the gateway's identify
 * calls). On CADENCE_REDIS_OK `cb` is called exactly once (`error`: the first failure).
 */
enum cadence_redis_status cadence_store_link_emails(cadence_redis *r,
                                                    const cadence_store_email_lead *links, size_t n,
                                                    uint32_t shards, cadence_store_done_cb cb,
                                                    void *arg);

#endif
