/* rep_tasks — see rep_tasks.h. */
#include "store/rep_tasks.h"

#include <stdlib.h>

#include "store/keys.h"

struct task_call {
    cadence_store_rep_task_cb cb;
    void *arg;
};

static void on_task(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    struct task_call c = *(struct task_call *)arg;
    free(arg);
    if (!error && (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2))
        error = "bad reply to a task read";
    for (size_t i = 0; !error && i < 2; i++)
        if (reply->element[i]->type == REDIS_REPLY_ERROR)
            error = reply->element[i]->str;
    if (error) {
        c.cb(NULL, 0, 0, error, c.arg);
        return;
    }
    const redisReply *score = reply->element[0], *task = reply->element[1];
    /* queued (a score) and described (JSON): the hash may keep entries that left the queue */
    if (score->type != REDIS_REPLY_STRING || task->type != REDIS_REPLY_STRING || !task->len) {
        c.cb(NULL, 0, 0, NULL, c.arg);
        return;
    }
    c.cb(task->str, task->len, strtoll(score->str, NULL, 10), NULL, c.arg);
}

enum cadence_redis_status cadence_store_read_rep_task(cadence_redis *r, const char *rep_id,
                                                      const char *task_id,
                                                      cadence_store_rep_task_cb cb, void *arg)
{
    if (!rep_id || !*rep_id || !task_id || !*task_id)
        return CADENCE_REDIS_INVALID;
    struct task_call *c = malloc(sizeof(*c));
    cadence_redis_batch *b = cadence_redis_batch_new();
    char queue[CADENCE_KEY_MAX], tasks[CADENCE_KEY_MAX];
    const char *zscore[] = {"ZSCORE", cadence_keys_rep_queue(queue, rep_id), task_id};
    const char *hget[] = {"HGET", cadence_keys_rep_tasks(tasks, rep_id), task_id};
    enum cadence_redis_status st = CADENCE_REDIS_NOMEM;
    if (c && b && cadence_redis_batch_add_argv(b, 3, zscore, NULL) == 0 &&
        cadence_redis_batch_add_argv(b, 3, hget, NULL) == 0) {
        c->cb = cb;
        c->arg = arg;
        st = cadence_redis_batch_send(r, b, on_task, c);
    }
    if (st != CADENCE_REDIS_OK)
        free(c);
    cadence_redis_batch_free(b);
    return st;
}
