/*
 * reads — reads of the leads as typed operations: the worker's batched reads (the stored
 * state of many leads, the leads that emails are linked to — store/writes.h links them) and
 * the gateway's view of one lead (its state and timeline). One pipelined round trip each; the
 * store names the keys.
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

/* One lead as the gateway shows it; strings borrowed for the callback. */
typedef struct cadence_store_lead_view {
    const char *state; /* the state JSON; NULL when the lead has none */
    size_t state_len;
    const char *const *timeline; /* newest first, n_timeline entries (JSON texts) */
    const size_t *timeline_len;
    size_t n_timeline;
} cadence_store_lead_view;

/* `view` NULL with `error` set when the read failed. */
typedef void (*cadence_store_lead_view_cb)(const cadence_store_lead_view *view, const char *error,
                                           void *arg);

/*
 * Reads the state of lead `lead_id` (a validated id; sharded over `shards`) and its newest
 * `timeline_max` (≥ 1) timeline entries. On CADENCE_REDIS_OK `cb` is called exactly once.
 */
enum cadence_redis_status cadence_store_read_lead_view(cadence_redis *r, const char *lead_id,
                                                       uint32_t shards, long timeline_max,
                                                       cadence_store_lead_view_cb cb, void *arg);

#endif
