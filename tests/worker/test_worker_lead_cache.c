/* Unit tests of the worker's lead cache and of the packed lead state it stores. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/state.h"
#include "lead_cache.h"

/* A state with some of everything, distinct per `seed`. */
static cadence_lead_state *sample(const char *lead_id, int seed, int hot, int pending)
{
    cadence_lead_state *st = malloc(sizeof(*st));
    cr_assert_not_null(st);
    cadence_lead_state_init(st, lead_id);
    snprintf(st->rep_id, sizeof st->rep_id, "rep-%d", seed);
    snprintf(st->email, sizeof st->email, "lead%d@example.com", seed);
    st->potential = seed % 100;
    st->n_attempts = 2;
    st->attempts[1].at = 1000 + seed;
    st->n_hot_views = hot;
    for (int i = 0; i < hot; i++) {
        st->hot_views[i].at = seed * 10 + i;
        snprintf(st->hot_views[i].url, sizeof st->hot_views[i].url, "https://x.example/p%d", i);
    }
    st->n_pending = pending;
    for (int i = 0; i < pending; i++) {
        memset(&st->pending[i], 0, sizeof st->pending[i]);
        snprintf(st->pending[i].event_id, sizeof st->pending[i].event_id, "ev-%d-%d", seed, i);
        st->pending[i].occurred_at = seed + i;
    }
    return st;
}

/* The JSON form is the state's meaning: equal JSON, equal state. */
static void assert_same(const cadence_lead_state *a, const cadence_lead_state *b)
{
    char *ja = cadence_lead_state_to_json(a), *jb = cadence_lead_state_to_json(b);
    cr_assert_str_eq(ja, jb);
    free(ja);
    free(jb);
}

Test(state_pack, round_trip_keeps_only_used_entries)
{
    cadence_lead_state *st = sample("L1", 7, 3, 2);
    size_t n = cadence_lead_state_packed_size(st);
    cr_assert_lt(n, sizeof(cadence_lead_state) / 3, "packed %zu bytes", n);
    void *buf = malloc(n);
    cadence_lead_state_pack(st, buf);
    cadence_lead_state *back = malloc(sizeof(*back));
    memset(back, 0xa5, sizeof(*back)); /* garbage must not leak through */
    cadence_lead_state_unpack(buf, back);
    assert_same(st, back);
    cr_assert_str_eq(back->pending[1].event_id, "ev-7-1");
    cr_assert_str_eq(back->hot_views[2].url, "https://x.example/p2");
    free(buf);
    free(back);
    free(st);
}

Test(lead_cache, get_returns_what_was_put)
{
    worker_lead_cache *c = worker_lead_cache_new(1 << 20);
    cadence_lead_state *st = sample("L1", 1, 1, 0), *out = malloc(sizeof(*out));
    long v = -1;
    cr_assert_eq(worker_lead_cache_get(c, "L1", &v, out), 0);
    cr_assert_eq(v, -1);
    worker_lead_cache_put(c, "L1", 42, st);
    cr_assert_eq(worker_lead_cache_get(c, "L1", &v, out), 1);
    cr_assert_eq(v, 42);
    assert_same(st, out);
    /* a put replaces */
    st->potential = 99;
    worker_lead_cache_put(c, "L1", 43, st);
    cr_assert_eq(worker_lead_cache_count(c), 1);
    cr_assert_eq(worker_lead_cache_get(c, "L1", &v, out), 1);
    cr_assert_eq(v, 43);
    cr_assert_eq(out->potential, 99);
    worker_lead_cache_drop(c, "L1");
    cr_assert_eq(worker_lead_cache_get(c, "L1", &v, out), 0);
    cr_assert_eq(worker_lead_cache_bytes(c), 0);
    worker_lead_cache_drop(c, "absent");
    free(st);
    free(out);
    worker_lead_cache_free(c);
}

Test(lead_cache, evicts_least_recently_used_within_the_byte_bound)
{
    cadence_lead_state *st = sample("x", 1, 0, 0), *out = malloc(sizeof(*out));
    size_t one = cadence_lead_state_packed_size(st) + 256; /* room for the entry header */
    worker_lead_cache *c = worker_lead_cache_new(3 * one);
    char id[16];
    for (int i = 0; i < 3; i++) {
        snprintf(id, sizeof id, "L%d", i);
        worker_lead_cache_put(c, id, i, st);
    }
    cr_assert_eq(worker_lead_cache_count(c), 3);
    long v;
    cr_assert_eq(worker_lead_cache_get(c, "L0", &v, out), 1); /* L0 is now the newest */
    worker_lead_cache_put(c, "L3", 3, st);                    /* evicts L1, the oldest */
    cr_assert_eq(worker_lead_cache_count(c), 3);
    cr_assert_leq(worker_lead_cache_bytes(c), 3 * one);
    cr_assert_eq(worker_lead_cache_get(c, "L1", &v, out), 0);
    cr_assert_eq(worker_lead_cache_get(c, "L0", &v, out), 1);
    cr_assert_eq(worker_lead_cache_get(c, "L2", &v, out), 1);
    cr_assert_eq(worker_lead_cache_get(c, "L3", &v, out), 1);
    cr_assert_eq(v, 3);
    /* a big state takes the room of several small ones */
    cadence_lead_state *big = sample("big", 2, 0, 1);
    worker_lead_cache_put(c, "big", 9, big);
    cr_assert_leq(worker_lead_cache_bytes(c), 3 * one);
    cr_assert_eq(worker_lead_cache_get(c, "big", &v, out), 1);
    assert_same(big, out);
    worker_lead_cache_clear(c);
    cr_assert_eq(worker_lead_cache_count(c), 0);
    cr_assert_eq(worker_lead_cache_bytes(c), 0);
    cr_assert_eq(worker_lead_cache_get(c, "big", &v, out), 0);
    free(big);
    free(st);
    free(out);
    worker_lead_cache_free(c);
}

Test(lead_cache, zero_bytes_keeps_nothing)
{
    worker_lead_cache *c = worker_lead_cache_new(0);
    cadence_lead_state *st = sample("L1", 1, 0, 0), *out = malloc(sizeof(*out));
    worker_lead_cache_put(c, "L1", 1, st);
    long v;
    cr_assert_eq(worker_lead_cache_get(c, "L1", &v, out), 0);
    cr_assert_eq(worker_lead_cache_count(c), 0);
    free(st);
    free(out);
    worker_lead_cache_free(c);
    worker_lead_cache_free(NULL);
}
