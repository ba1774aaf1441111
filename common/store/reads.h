/*
 * reads — the worker's batched reads as typed operations: the stored state of many leads, and
 * the leads that emails are linked to (store/writes.h links them). One pipelined round trip
 * each; the store names the keys.
 */
#ifndef CADENCE_STORE_READS_H
#define CADENCE_STORE_READS_H

#include <stddef.h>
#include <stdint.h>

#include "store/redis.h"

typedef struct cadence_store_lead_ref {
    uint32_t shard;      /* cadence_keys_shard(lead_id, shards) */
    const char *lead_id; /* a validated id */
} cadence_store_lead_ref;

/* One lead as stored: found = 0 when the lead has no state yet (version 0). */
typedef struct cadence_store_lead {
    int found;
    long version;
    const char *state; /* the state JSON (NUL-terminated; borrowed for the callback) */
    size_t state_len;
} cadence_store_lead;

/* `leads` has one entry per ref, in order; NULL with `error` set when the read failed. */
typedef void (*cadence_store_leads_cb)(const cadence_store_lead *leads, size_t n, const char *error,
                                       void *arg);

/* Reads the version and state of `n` ≥ 1 leads. On CADENCE_REDIS_OK `cb` is called once. */
enum cadence_redis_status cadence_store_read_leads(cadence_redis *r,
                                                   const cadence_store_lead_ref *refs, size_t n,
                                                   cadence_store_leads_cb cb, void *arg);

/* The lead an email is linked to: lead_id NULL when none. */
typedef struct cadence_store_email_link {
    const char *lead_id; /* borrowed for the callback; not checked against the id rule */
    size_t len;
} cadence_store_email_link;

typedef void (*cadence_store_emails_cb)(const cadence_store_email_link *links, size_t n,
                                        const char *error, void *arg);

/* Looks up the leads of `n` ≥ 1 emails (case-insensitive; sharded over `shards`). On
 * CADENCE_REDIS_OK `cb` is called once. */
enum cadence_redis_status cadence_store_find_leads_by_email(cadence_redis *r,
                                                            const char *const *emails, size_t n,
                                                            uint32_t shards,
                                                            cadence_store_emails_cb cb, void *arg);

#endif
