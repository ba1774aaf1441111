/* due — see due.h; the scripts' contracts are the headers of lua/claim_due.lua, ack_due.lua
 * and queue_tasks.lua. */
#include "store/due.h"
#include "store/keys.h"
#include "store/scripts.h"

#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest decimal int64, terminator included. */
#define NUM_SIZE 24

int cadence_store_due_scripts_add(cadence_redis *r, cadence_store_due_scripts *out, char *errstr,
                                  size_t errstr_size)
{
    out->claim = cadence_redis_script_add(r, cadence_lua_claim_due, errstr, errstr_size);
    out->ack = cadence_redis_script_add(r, cadence_lua_ack_due, errstr, errstr_size);
    out->queue = cadence_redis_script_add(r, cadence_lua_queue_tasks, errstr, errstr_size);
    return out->claim && out->ack && out->queue ? 0 : -1;
}

/* ------------------------------------------------------------------ claim */

struct claim_call {
    cadence_store_claim_cb cb;
    void *arg;
};

static void on_claimed(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    struct claim_call c = *(struct claim_call *)arg;
    free(arg);
    if (error || !reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
        reply->element[0]->type != REDIS_REPLY_INTEGER || (reply->elements - 1) % 3 != 0) {
        c.cb(NULL, 0, 0, error ? error : "unexpected reply", c.arg);
        return;
    }
    size_t cap = (reply->elements - 1) / 3;
    cadence_store_claimed *tasks = calloc(cap ? cap : 1, sizeof(*tasks));
    char **owned = calloc(cap ? cap : 1, sizeof(*owned));
    if (!tasks || !owned) {
        free(tasks);
        free(owned);
        c.cb(NULL, 0, 0, "out of memory", c.arg);
        return;
    }
    size_t n = 0;
    for (size_t i = 1; i + 2 < reply->elements; i += 3) {
        const redisReply *id = reply->element[i], *json = reply->element[i + 1],
                         *re = reply->element[i + 2];
        if (id->type != REDIS_REPLY_STRING || json->type != REDIS_REPLY_STRING ||
            re->type != REDIS_REPLY_INTEGER)
            continue;
        /* stored as a zstd frame (store/codec.h); one that does not decode is handed over as
         * stored, and the scheduler drops it as an unreadable task */
        const char *text = json->str;
        size_t len = json->len;
        char why[128];
        if (cadence_redis_decode(r, json->str, json->len, "stored task", &text, &len, &owned[n],
                                 why, sizeof(why)) != 0) {
            text = json->str;
            len = json->len;
        }
        tasks[n] = (cadence_store_claimed){id->str, id->len, text, len, re->integer != 0};
        n++;
    }
    c.cb(tasks, n, (long)reply->element[0]->integer, NULL, c.arg);
    for (size_t i = 0; i < n; i++)
        free(owned[i]);
    free(owned);
    free(tasks);
}

enum cadence_redis_status cadence_store_claim_due(cadence_redis *r,
                                                  const cadence_store_due_scripts *s,
                                                  uint32_t shard, int64_t now_ms,
                                                  int64_t lease_deadline_ms, long limit,
                                                  cadence_store_claim_cb cb, void *arg)
{
    if (limit < 1 || lease_deadline_ms < now_ms)
        return CADENCE_REDIS_INVALID;
    struct claim_call *c = malloc(sizeof(*c));
    if (!c)
        return CADENCE_REDIS_NOMEM;
    *c = (struct claim_call){cb, arg};
    char k_due[CADENCE_KEY_MAX], k_tasks[CADENCE_KEY_MAX], k_inflight[CADENCE_KEY_MAX];
    char now[NUM_SIZE], deadline[NUM_SIZE], lim[NUM_SIZE];
    snprintf(now, sizeof(now), "%" PRId64, now_ms);
    snprintf(deadline, sizeof(deadline), "%" PRId64, lease_deadline_ms);
    snprintf(lim, sizeof(lim), "%ld", limit);
    const char *argv[] = {cadence_keys_due(k_due, shard),
                          cadence_keys_tasks(k_tasks, shard),
                          cadence_keys_inflight(k_inflight, shard),
                          now,
                          deadline,
                          lim};
    enum cadence_redis_status st =
        cadence_redis_evalsha(r, s->claim, 3, 6, argv, NULL, on_claimed, c);
    if (st != CADENCE_REDIS_OK)
        free(c);
    return st;
}

/* ------------------------------------------------------------------ queue and ack */

/* An item's place in the ack scripts: by shard, then by position (a stable order). */
struct slot {
    uint32_t shard;
    size_t index;
};

static int by_shard(const void *a, const void *b)
{
    const struct slot *x = a, *y = b;
    if (x->shard != y->shard)
        return x->shard < y->shard ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index ? 1 : 0;
}

struct ack_call {
    cadence_store_ack_cb cb;
    void *arg;
    size_t n;
    size_t nrep;        /* replies of the queue scripts (one per rep), before the ack scripts */
    struct slot *slots; /* the items in the ack scripts' order */
};

static void ack_call_free(struct ack_call *c)
{
    if (c)
        free(c->slots);
    free(c);
}

/* End of the run of one shard's slots starting at i. */
static size_t run_end(const struct ack_call *c, size_t i)
{
    size_t j = i + 1;
    while (j < c->n && c->slots[j].shard == c->slots[i].shard)
        j++;
    return j;
}

/* NULL when every reply is there and well formed (each shard's verdicts checked before any
 * is used), else why not. */
static const char *check_acks(const redisReply *reply, const struct ack_call *c)
{
    if (!reply || reply->type != REDIS_REPLY_ARRAY)
        return "no reply";
    for (size_t i = 0; i < reply->elements; i++)
        if (reply->element[i]->type == REDIS_REPLY_ERROR)
            return reply->element[i]->str;
    size_t g = c->nrep;
    for (size_t i = 0; i < c->n; g++) {
        size_t j = run_end(c, i);
        const redisReply *v = g < reply->elements ? reply->element[g] : NULL;
        if (!v || v->type != REDIS_REPLY_ARRAY || v->elements != j - i)
            return "unexpected reply";
        for (size_t k = 0; k < v->elements; k++)
            if (v->element[k]->type != REDIS_REPLY_INTEGER)
                return "unexpected reply";
        i = j;
    }
    return NULL;
}

static void on_acked(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    struct ack_call *c = arg;
    const char *why = error ? error : check_acks(reply, c);
    int *open = why ? NULL : calloc(c->n, sizeof(*open));
    if (!why && !open)
        why = "out of memory";
    if (why) {
        c->cb(NULL, c->n, why, c->arg);
        ack_call_free(c);
        return;
    }
    size_t g = c->nrep;
    for (size_t i = 0; i < c->n; g++) {
        size_t j = run_end(c, i);
        for (size_t k = i; k < j; k++)
            open[c->slots[k].index] = reply->element[g]->element[k - i]->integer != 0;
        i = j;
    }
    c->cb(open, c->n, NULL, c->arg);
    free(open);
    ack_call_free(c);
}

/* Argument lists of one script call: 2 keys, then the arguments. */
struct args {
    const char **v;
    size_t *len;
    size_t n;
};

static void args_add(struct args *a, const char *s, size_t len)
{
    a->v[a->n] = s;
    a->len[a->n++] = len;
}

/* Appends one queue_tasks call per rep (rep slot). Returns the calls added, or -1. */
static long add_queues(cadence_redis_batch *b, const cadence_store_due_scripts *s,
                       const cadence_store_ack_item *items, size_t n, struct args *a,
                       char (*dues)[NUM_SIZE])
{
    GHashTable *reps =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)g_array_unref);
    for (size_t i = 0; i < n; i++) {
        if (!items[i].rep_id)
            continue;
        GArray *list = g_hash_table_lookup(reps, items[i].rep_id);
        if (!list) {
            list = g_array_new(FALSE, FALSE, sizeof(size_t));
            g_hash_table_insert(reps, (gpointer)items[i].rep_id, list);
        }
        g_array_append_val(list, i);
    }
    long calls = 0;
    GHashTableIter it;
    gpointer key, val;
    g_hash_table_iter_init(&it, reps);
    while (calls >= 0 && g_hash_table_iter_next(&it, &key, &val)) {
        GArray *list = val;
        char k_queue[CADENCE_KEY_MAX], k_tasks[CADENCE_KEY_MAX];
        a->n = 0;
        cadence_keys_rep_queue(k_queue, key);
        cadence_keys_rep_tasks(k_tasks, key);
        args_add(a, k_queue, strlen(k_queue));
        args_add(a, k_tasks, strlen(k_tasks));
        for (guint k = 0; k < list->len; k++) {
            const cadence_store_ack_item *t = &items[g_array_index(list, size_t, k)];
            snprintf(dues[k], NUM_SIZE, "%" PRId64, t->due_ms);
            args_add(a, dues[k], strlen(dues[k]));
            args_add(a, t->task_id, strlen(t->task_id));
            args_add(a, t->task_json, t->task_json_len);
        }
        if (cadence_redis_batch_add_evalsha(b, s->queue, 2, (int)a->n, a->v, a->len) == 0)
            calls++;
        else
            calls = -1;
    }
    g_hash_table_destroy(reps);
    return calls;
}

/* Appends one ack_due call per shard (shard slot), in the order of c->slots. 0 or -1. */
static int add_acks(cadence_redis_batch *b, const cadence_store_due_scripts *s,
                    const cadence_store_ack_item *items, const struct ack_call *c, struct args *a,
                    char (*leases)[NUM_SIZE])
{
    for (size_t i = 0; i < c->n;) {
        size_t j = run_end(c, i);
        char k_inflight[CADENCE_KEY_MAX], k_tasks[CADENCE_KEY_MAX];
        a->n = 0;
        cadence_keys_inflight(k_inflight, c->slots[i].shard);
        cadence_keys_tasks(k_tasks, c->slots[i].shard);
        args_add(a, k_inflight, strlen(k_inflight));
        args_add(a, k_tasks, strlen(k_tasks));
        for (size_t k = i; k < j; k++) {
            const cadence_store_ack_item *t = &items[c->slots[k].index];
            snprintf(leases[k], NUM_SIZE, "%" PRId64, t->lease_ms);
            args_add(a, t->task_id, strlen(t->task_id));
            args_add(a, leases[k], strlen(leases[k]));
        }
        if (cadence_redis_batch_add_evalsha(b, s->ack, 2, (int)a->n, a->v, a->len) != 0)
            return -1;
        i = j;
    }
    return 0;
}

enum cadence_redis_status cadence_store_queue_and_ack(cadence_redis *r,
                                                      const cadence_store_due_scripts *s,
                                                      const cadence_store_ack_item *items, size_t n,
                                                      cadence_store_ack_cb cb, void *arg)
{
    if (n == 0)
        return CADENCE_REDIS_INVALID;
    struct ack_call *c = calloc(1, sizeof(*c));
    cadence_redis_batch *b = cadence_redis_batch_new();
    struct args a = {malloc((2 + 3 * n) * sizeof(*a.v)), malloc((2 + 3 * n) * sizeof(*a.len)), 0};
    char(*nums)[NUM_SIZE] = malloc(n * sizeof(*nums));
    enum cadence_redis_status st = CADENCE_REDIS_NOMEM;
    if (c)
        c->slots = malloc(n * sizeof(*c->slots));
    if (c && c->slots && b && a.v && a.len && nums) {
        *c = (struct ack_call){cb, arg, n, 0, c->slots};
        for (size_t i = 0; i < n; i++)
            c->slots[i] = (struct slot){items[i].shard, i};
        qsort(c->slots, n, sizeof(*c->slots), by_shard);
        long nrep = add_queues(b, s, items, n, &a, nums);
        c->nrep = nrep > 0 ? (size_t)nrep : 0;
        st = nrep >= 0 && add_acks(b, s, items, c, &a, nums) == 0
                 ? cadence_redis_batch_send(r, b, on_acked, c)
                 : CADENCE_REDIS_INVALID;
    }
    if (st != CADENCE_REDIS_OK)
        ack_call_free(c);
    cadence_redis_batch_free(b);
    free(a.v);
    free(a.len);
    free(nums);
    return st;
}
