/* capacity — see capacity.h. */
#include "store/capacity.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/id.h"
#include "store/codec.h"
#include "store/keys.h"

/* Embedded from lua/take_capacity.lua and lua/defer_task.lua (store/embed_lua.cmake). */
extern const char cadence_lua_take_capacity[];
extern const char cadence_lua_defer_task[];

struct cadence_store_capacity {
    cadence_redis *redis;
    const cadence_redis_script *take, *defer;
};

cadence_store_capacity *cadence_store_capacity_new(cadence_redis *r, char *errstr,
                                                   size_t errstr_size)
{
    cadence_store_capacity *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    c->redis = r;
    c->take = cadence_redis_script_add(r, cadence_lua_take_capacity, errstr, errstr_size);
    c->defer =
        c->take ? cadence_redis_script_add(r, cadence_lua_defer_task, errstr, errstr_size) : NULL;
    if (!c->defer) {
        free(c);
        return NULL;
    }
    return c;
}

void cadence_store_capacity_free(cadence_store_capacity *c)
{
    free(c);
}

/* "YYYY-MM-DD" */
static int valid_day(const char *d)
{
    if (!d || strlen(d) != 10 || d[4] != '-' || d[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (d[i] < '0' || d[i] > '9'))
            return 0;
    return 1;
}

struct take_call {
    cadence_store_take_cb cb;
    void *arg;
    size_t n;
};

static void on_take(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    struct take_call *c = arg;
    int granted[CADENCE_STORE_CAPACITY_MAX_TAKE];
    const char *why = error;
    if (!why && (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != c->n))
        why = reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply";
    for (size_t i = 0; !why && i < c->n; i++) {
        if (reply->element[i]->type != REDIS_REPLY_INTEGER)
            why = "unexpected reply";
        else
            granted[i] = reply->element[i]->integer != 0;
    }
    c->cb(why, why ? NULL : granted, why ? 0 : c->n, c->arg);
    free(c);
}

enum cadence_redis_status cadence_store_capacity_take(cadence_store_capacity *c, const char *rep_id,
                                                      const char *day, long capacity, long ttl_s,
                                                      size_t n, const char *const *task_ids,
                                                      const int *must, cadence_store_take_cb cb,
                                                      void *arg)
{
    if (!c || !cadence_id_valid(rep_id) || !valid_day(day) || capacity < 1 || ttl_s < 1 || n < 1 ||
        n > CADENCE_STORE_CAPACITY_MAX_TAKE || !task_ids || !must || !cb)
        return CADENCE_REDIS_INVALID;
    char key[CADENCE_KEY_MAX], cap[24], ttl[24];
    /* the rep's slot, as the rep's queue (store/keys.h) */
    snprintf(key, sizeof(key), "cad:{r:%.64s}:cap:%s", rep_id, day);
    snprintf(cap, sizeof(cap), "%ld", capacity);
    snprintf(ttl, sizeof(ttl), "%ld", ttl_s);
    size_t argc = 3 + 2 * n;
    const char **argv = malloc(argc * sizeof(*argv));
    struct take_call *call = malloc(sizeof(*call));
    enum cadence_redis_status st = CADENCE_REDIS_NOMEM;
    if (argv && call) {
        argv[0] = key;
        argv[1] = cap;
        argv[2] = ttl;
        st = CADENCE_REDIS_OK;
        for (size_t i = 0; i < n; i++) {
            if (!cadence_id_valid(task_ids[i]))
                st = CADENCE_REDIS_INVALID;
            argv[3 + 2 * i] = task_ids[i];
            argv[4 + 2 * i] = must[i] ? "1" : "0";
        }
        call->cb = cb;
        call->arg = arg;
        call->n = n;
        if (st == CADENCE_REDIS_OK)
            st = cadence_redis_evalsha(c->redis, c->take, 1, (int)argc, argv, NULL, on_take, call);
    }
    if (st != CADENCE_REDIS_OK)
        free(call);
    free(argv);
    return st;
}

struct defer_call {
    cadence_store_defer_cb cb;
    void *arg;
};

static void on_defer(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    struct defer_call c = *(struct defer_call *)arg;
    free(arg);
    const char *why = error;
    if (!why && (!reply || reply->type != REDIS_REPLY_INTEGER))
        why = reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply";
    c.cb(why, why ? 0 : reply->integer == 1, c.arg);
}

enum cadence_redis_status cadence_store_capacity_defer(cadence_store_capacity *c, uint32_t shard,
                                                       const char *task_id, int64_t lease_ms,
                                                       const char *claimed_json, size_t claimed_len,
                                                       int64_t due_ms, const char *new_json,
                                                       cadence_store_defer_cb cb, void *arg)
{
    if (!c || !cadence_id_valid(task_id) || lease_ms <= 0 || !claimed_json || !new_json ||
        !new_json[0] || !cb)
        return CADENCE_REDIS_INVALID;
    char k_due[CADENCE_KEY_MAX], k_tasks[CADENCE_KEY_MAX], k_inflight[CADENCE_KEY_MAX], due[24];
    cadence_keys_due(k_due, shard);
    cadence_keys_tasks(k_tasks, shard);
    cadence_keys_inflight(k_inflight, shard);
    snprintf(due, sizeof(due), "%lld", (long long)due_ms);
    /* Tasks are stored as zstd frames (store/codec.h); encoding is deterministic, so the frame
     * of the claimed JSON is the stored one. The plain JSON goes too: a task an older version
     * stored as JSON still compares. */
    cadence_store_codec *codec = cadence_redis_codec(c->redis);
    size_t claimed_frame_len = 0, new_frame_len = 0;
    char err[128];
    char *claimed_frame = codec ? cadence_store_codec_encode(codec, claimed_json, claimed_len,
                                                             &claimed_frame_len, err, sizeof(err))
                                : NULL;
    char *new_frame = codec ? cadence_store_codec_encode(codec, new_json, strlen(new_json),
                                                         &new_frame_len, err, sizeof(err))
                            : NULL;
    struct defer_call *call = malloc(sizeof(*call));
    if (!call || !claimed_frame || !new_frame) {
        free(call);
        free(claimed_frame);
        free(new_frame);
        return CADENCE_REDIS_NOMEM;
    }
    call->cb = cb;
    call->arg = arg;
    char lease[24];
    snprintf(lease, sizeof(lease), "%" PRId64, lease_ms);
    const char *argv[] = {k_due,         k_tasks, k_inflight, task_id,     lease,
                          claimed_frame, due,     new_frame,  claimed_json};
    size_t lens[] = {strlen(k_due),   strlen(k_tasks), strlen(k_inflight),
                     strlen(task_id), strlen(lease),   claimed_frame_len,
                     strlen(due),     new_frame_len,   claimed_len};
    enum cadence_redis_status st =
        cadence_redis_evalsha(c->redis, c->defer, 3, 9, argv, lens, on_defer, call);
    if (st != CADENCE_REDIS_OK)
        free(call);
    free(claimed_frame);
    free(new_frame);
    return st;
}
