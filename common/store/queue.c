/* queue — see queue.h; the read's contract is the header of lua/read_queue.lua. */
#include "store/queue.h"
#include "store/keys.h"
#include "store/scripts.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

const cadence_redis_script *cadence_store_read_queue_script(cadence_redis *r, char *errstr,
                                                            size_t errstr_size)
{
    return cadence_redis_script_add(r, cadence_lua_read_queue, errstr, errstr_size);
}

struct queue_call {
    cadence_store_queue_cb cb;
    void *arg;
};

struct done_call {
    cadence_store_done_cb cb;
    void *arg;
};

static void on_queue(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    struct queue_call c = *(struct queue_call *)arg;
    free(arg);
    cadence_store_queue_cb cb = c.cb;
    if (error || !reply || reply->type != REDIS_REPLY_ARRAY) {
        cb(NULL, 0, error ? error : "unexpected reply", c.arg);
        return;
    }
    size_t cap = reply->elements / 3;
    cadence_store_queued *tasks = calloc(cap ? cap : 1, sizeof(*tasks));
    if (!tasks) {
        cb(NULL, 0, "out of memory", c.arg);
        return;
    }
    for (size_t i = 0, k = 0; i + 2 < reply->elements; i += 3, k++) {
        const redisReply *id = reply->element[i], *score = reply->element[i + 1],
                         *json = reply->element[i + 2];
        tasks[k].task_id = id->str ? id->str : "";
        tasks[k].task_id_len = id->str ? id->len : 0;
        tasks[k].due_ms = score->str ? strtoll(score->str, NULL, 10) : 0;
        if (json->str && json->len) {
            tasks[k].task_json = json->str;
            tasks[k].task_json_len = json->len;
        }
    }
    cb(tasks, cap, NULL, c.arg);
    free(tasks);
}

enum cadence_redis_status cadence_store_read_queue(cadence_redis *r,
                                                   const cadence_redis_script *script,
                                                   const char *rep_id, int64_t until_ms, long limit,
                                                   cadence_store_queue_cb cb, void *arg)
{
    if (limit < 1)
        return CADENCE_REDIS_INVALID;
    struct queue_call *c = malloc(sizeof(*c));
    if (!c)
        return CADENCE_REDIS_NOMEM;
    *c = (struct queue_call){cb, arg};
    char k_queue[CADENCE_KEY_MAX], k_tasks[CADENCE_KEY_MAX], max[24], lim[24];
    snprintf(max, sizeof(max), "%" PRId64, until_ms);
    snprintf(lim, sizeof(lim), "%ld", limit);
    const char *argv[] = {cadence_keys_rep_queue(k_queue, rep_id),
                          cadence_keys_rep_tasks(k_tasks, rep_id), max, lim};
    enum cadence_redis_status st = cadence_redis_evalsha(r, script, 2, 4, argv, NULL, on_queue, c);
    if (st != CADENCE_REDIS_OK)
        free(c);
    return st;
}

/* A batch's array of replies: the first error found, or NULL. */
static const char *batch_error(const redisReply *reply, const char *error)
{
    if (error)
        return error;
    if (!reply || reply->type != REDIS_REPLY_ARRAY)
        return "no reply";
    for (size_t i = 0; i < reply->elements; i++)
        if (reply->element[i]->type == REDIS_REPLY_ERROR)
            return reply->element[i]->str;
    return NULL;
}

static void on_unqueued(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    struct done_call c = *(struct done_call *)arg;
    free(arg);
    c.cb(batch_error(reply, error), c.arg);
}

enum cadence_redis_status cadence_store_unqueue_task(cadence_redis *r, const char *rep_id,
                                                     const char *task_id, cadence_store_done_cb cb,
                                                     void *arg)
{
    struct done_call *c = malloc(sizeof(*c));
    if (c)
        *c = (struct done_call){cb, arg};
    cadence_redis_batch *b = cadence_redis_batch_new();
    char queue[CADENCE_KEY_MAX], tasks[CADENCE_KEY_MAX];
    const char *zrem[] = {"ZREM", cadence_keys_rep_queue(queue, rep_id), task_id};
    const char *hdel[] = {"HDEL", cadence_keys_rep_tasks(tasks, rep_id), task_id};
    enum cadence_redis_status st = CADENCE_REDIS_NOMEM;
    if (c && b && cadence_redis_batch_add_argv(b, 3, zrem, NULL) == 0 &&
        cadence_redis_batch_add_argv(b, 3, hdel, NULL) == 0)
        st = cadence_redis_batch_send(r, b, on_unqueued, c);
    if (st != CADENCE_REDIS_OK)
        free(c);
    cadence_redis_batch_free(b);
    return st;
}
