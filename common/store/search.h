/*
 * search — a rep's lead search, as typed operations: the worker keeps, per rep, an index of
 * the terms a rep finds a lead by (first name, last name, full name, company, email, lead id;
 * ASCII lower case) with the card a result shows; the gateway looks leads up by prefix. Both
 * touch only the rep's slot `{r:<rep_id>}` (lua/index_lead.lua, lua/search_leads.lua; keys in
 * store/keys.h). The index holds only what the card shows, never the lead's state.
 *
 * Limit: a lead reassigned to another rep is indexed under the new rep; the old rep's entry
 * stays until that lead is indexed for them again (cadence_store_unindex_lead removes it); the
 * gateway's lead page answers 404 for it either way.
 */
#ifndef CADENCE_STORE_SEARCH_H
#define CADENCE_STORE_SEARCH_H

#include <stddef.h>

#include "store/redis.h"
#include "store/writes.h" /* cadence_store_done_cb */

/* Most leads one search returns. */
#define CADENCE_STORE_SEARCH_MAX 100
/* Longest search prefix, in bytes (longer queries are cut there). */
#define CADENCE_STORE_SEARCH_QUERY_MAX 64

typedef struct cadence_store_search cadence_store_search;

/* What a lead is found by and shown as. Every string may be NULL or "" except the ids. */
typedef struct cadence_store_lead_card {
    const char *lead_id; /* a validated id */
    const char *rep_id;  /* a validated id: whose index */
    const char *first_name, *last_name, *company, *email;
} cadence_store_lead_card;

/* Registers the scripts on `r` (borrowed; must outlive the result). NULL with errstr. */
cadence_store_search *cadence_store_search_new(cadence_redis *r, char *errstr, size_t errstr_size);
/* NULL is a no-op. */
void cadence_store_search_free(cadence_store_search *s);

/*
 * Replaces the lead's terms and card in its rep's index (idempotent). On CADENCE_REDIS_OK `cb`
 * is called exactly once.
 */
enum cadence_redis_status cadence_store_index_lead(cadence_store_search *s,
                                                   const cadence_store_lead_card *card,
                                                   cadence_store_done_cb cb, void *arg);

/* Removes the lead from rep `rep_id`'s index. On CADENCE_REDIS_OK `cb` is called once. */
enum cadence_redis_status cadence_store_unindex_lead(cadence_store_search *s, const char *rep_id,
                                                     const char *lead_id, cadence_store_done_cb cb,
                                                     void *arg);

/* One result: the lead id and its card JSON (lead_id, first_name, last_name, company, email),
 * borrowed for the callback. */
typedef struct cadence_store_search_hit {
    const char *lead_id;
    const char *card;
    size_t card_len;
} cadence_store_search_hit;

/* `hits` NULL with `error` set when the search failed. */
typedef void (*cadence_store_search_cb)(const cadence_store_search_hit *hits, size_t n,
                                        const char *error, void *arg);

/*
 * Writes the normalised form of `query` into `out` (size CADENCE_STORE_SEARCH_QUERY_MAX + 1):
 * surrounding spaces dropped, inner runs of spaces made one, ASCII lower case, cut at
 * CADENCE_STORE_SEARCH_QUERY_MAX bytes (on a UTF-8 boundary). Returns its length (0: empty).
 */
size_t cadence_store_search_normalize(const char *query, char *out);

/*
 * The leads of rep `rep_id` with a term starting with `query` (normalised as above; must not
 * be empty), at most `limit` (1..CADENCE_STORE_SEARCH_MAX). CADENCE_REDIS_INVALID for bad
 * arguments. On CADENCE_REDIS_OK `cb` is called exactly once.
 */
enum cadence_redis_status cadence_store_search_leads(cadence_store_search *s, const char *rep_id,
                                                     const char *query, size_t limit,
                                                     cadence_store_search_cb cb, void *arg);

#endif
