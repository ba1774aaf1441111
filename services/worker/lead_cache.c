/*
 * lead_cache — see lead_cache.h. A GLib hash table from lead id to entry, and an intrusive
 * doubly linked list of the same entries, most recently used first. Each entry is one
 * allocation: its header followed by the packed state; the table owns the entries (freed
 * through its value destructor), the list only links them.
 */
#include "lead_cache.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    struct entry *prev, *next; /* the recency list */
    long version;
    size_t bytes; /* what this entry counts against the bound */
    char lead_id[CADENCE_ID_SIZE];
    unsigned char state[]; /* cadence_lead_state_pack's bytes */
};

struct worker_lead_cache {
    GHashTable *by_id; /* lead_id (the entry's own) → entry (owned) */
    struct entry *head, *tail;
    size_t bytes, max_bytes;
};

static void unlink_entry(worker_lead_cache *c, struct entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void push_front(worker_lead_cache *c, struct entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

/* Unlinks and frees `e` (through the table's destructor). */
static void remove_entry(worker_lead_cache *c, struct entry *e)
{
    unlink_entry(c, e);
    c->bytes -= e->bytes;
    g_hash_table_remove(c->by_id, e->lead_id);
}

worker_lead_cache *worker_lead_cache_new(size_t max_bytes)
{
    worker_lead_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->by_id = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, free);
    c->max_bytes = max_bytes;
    return c;
}

void worker_lead_cache_free(worker_lead_cache *c)
{
    if (!c)
        return;
    g_hash_table_destroy(c->by_id);
    free(c);
}

int worker_lead_cache_get(worker_lead_cache *c, const char *lead_id, long *version,
                          cadence_lead_state *st)
{
    struct entry *e = g_hash_table_lookup(c->by_id, lead_id);
    if (!e)
        return 0;
    unlink_entry(c, e);
    push_front(c, e);
    *version = e->version;
    cadence_lead_state_unpack(e->state, st);
    return 1;
}

void worker_lead_cache_put(worker_lead_cache *c, const char *lead_id, long version,
                           const cadence_lead_state *st)
{
    worker_lead_cache_drop(c, lead_id);
    size_t packed = cadence_lead_state_packed_size(st);
    size_t bytes = sizeof(struct entry) + packed;
    if (bytes > c->max_bytes || strlen(lead_id) >= CADENCE_ID_SIZE)
        return;
    while (c->tail && c->bytes + bytes > c->max_bytes)
        remove_entry(c, c->tail);
    struct entry *e = malloc(bytes);
    if (!e)
        return; /* a cache: forgetting is always allowed */
    memset(e, 0, sizeof(*e));
    e->version = version;
    e->bytes = bytes;
    g_strlcpy(e->lead_id, lead_id, sizeof(e->lead_id));
    cadence_lead_state_pack(st, e->state);
    g_hash_table_insert(c->by_id, e->lead_id, e);
    push_front(c, e);
    c->bytes += bytes;
}

void worker_lead_cache_drop(worker_lead_cache *c, const char *lead_id)
{
    struct entry *e = g_hash_table_lookup(c->by_id, lead_id);
    if (e)
        remove_entry(c, e);
}

void worker_lead_cache_clear(worker_lead_cache *c)
{
    g_hash_table_remove_all(c->by_id);
    c->head = c->tail = NULL;
    c->bytes = 0;
}

size_t worker_lead_cache_count(const worker_lead_cache *c)
{
    return g_hash_table_size(c->by_id);
}

size_t worker_lead_cache_bytes(const worker_lead_cache *c)
{
    return c->bytes;
}
