/*
 * lead_cache — the worker's memory of the lead states it wrote last, so a lead it sees again
 * needs neither a Redis read nor a JSON parse.
 *
 * An entry is (lead id, version, packed state) as of this worker's last successful apply of
 * that lead. It is only a guess: the apply script's version compare-and-set is what makes it
 * safe. If another worker changed the lead meanwhile (after a rebalance), the version no longer
 * matches, the apply reports a conflict, and the pipeline drops the entry and reads Redis.
 * The owner clears the cache when Redis comes back after an outage (it may have lost writes,
 * and versions could then repeat).
 *
 * Bounded by bytes (the packed states and their bookkeeping); the least recently used entries
 * go first. A cache of 0 bytes keeps nothing.
 */
#ifndef CADENCE_WORKER_LEAD_CACHE_H
#define CADENCE_WORKER_LEAD_CACHE_H

#include <stddef.h>

#include "engine/state.h"

typedef struct worker_lead_cache worker_lead_cache;

/* A cache of at most `max_bytes`. Returns NULL when out of memory. */
worker_lead_cache *worker_lead_cache_new(size_t max_bytes);

/* Frees the cache and every entry. NULL is a no-op. */
void worker_lead_cache_free(worker_lead_cache *c);

/* If `lead_id` is cached: restores its state into `st`, its version into `*version`, makes it
 * the most recently used, and returns 1. Otherwise returns 0 and leaves both alone. */
int worker_lead_cache_get(worker_lead_cache *c, const char *lead_id, long *version,
                          cadence_lead_state *st);

/* Remembers `st` (copied, borrowed) at `version` for `lead_id`, replacing any entry, and evicts
 * the least recently used entries beyond the bound. A state larger than the bound is not kept. */
void worker_lead_cache_put(worker_lead_cache *c, const char *lead_id, long version,
                           const cadence_lead_state *st);

/* Forgets `lead_id` (no-op when absent). */
void worker_lead_cache_drop(worker_lead_cache *c, const char *lead_id);

/* Forgets everything. */
void worker_lead_cache_clear(worker_lead_cache *c);

/* Entries and bytes held now. */
size_t worker_lead_cache_count(const worker_lead_cache *c);
size_t worker_lead_cache_bytes(const worker_lead_cache *c);

#endif
