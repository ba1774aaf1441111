/* writes — see writes.h. */
#include "store/writes.h"
#include "store/keys.h"

#include <stdlib.h>

struct done_call {
    cadence_store_done_cb cb;
    void *arg;
};

static struct done_call *done_call_new(cadence_store_done_cb cb, void *arg)
{
    struct done_call *c = malloc(sizeof(*c));
    if (c) {
        c->cb = cb;
        c->arg = arg;
    }
    return c;
}

/* One reply or a batch's array of replies: the first error found, or NULL. */
static const char *first_error(const redisReply *reply, const char *error)
{
    if (error)
        return error;
    if (!reply)
        return "no reply";
    if (reply->type == REDIS_REPLY_ERROR)
        return reply->str;
    return NULL;
}

static void on_done(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    struct done_call c = *(struct done_call *)arg;
    free(arg);
    c.cb(first_error(reply, error), c.arg);
}

static void on_batch_done(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    struct done_call c = *(struct done_call *)arg;
    free(arg);
    const char *why = first_error(reply, error);
    for (size_t i = 0; !why && reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++)
        why = first_error(reply->element[i], NULL);
    c.cb(why, c.arg);
}

enum cadence_redis_status cadence_store_link_email(cadence_redis *r, const char *email,
                                                   uint32_t shards, const char *lead_id,
                                                   cadence_store_done_cb cb, void *arg)
{
    struct done_call *c = done_call_new(cb, arg);
    if (!c)
        return CADENCE_REDIS_INVALID;
    char key[CADENCE_KEY_MAX];
    cadence_keys_email(key, email, shards);
    const char *argv[] = {"SET", key, lead_id};
    enum cadence_redis_status st = cadence_redis_command_argv(r, on_done, c, 3, argv, NULL);
    if (st != CADENCE_REDIS_OK)
        free(c);
    return st;
}

enum cadence_redis_status cadence_store_link_emails(cadence_redis *r,
                                                    const cadence_store_email_lead *links, size_t n,
                                                    uint32_t shards, cadence_store_done_cb cb,
                                                    void *arg)
{
    struct done_call *c = n > 0 ? done_call_new(cb, arg) : NULL;
    cadence_redis_batch *b = cadence_redis_batch_new();
    int built = c && b;
    for (size_t i = 0; built && i < n; i++) {
        char key[CADENCE_KEY_MAX];
        const char *argv[] = {"SET", cadence_keys_email(key, links[i].email, shards),
                              links[i].lead_id};
        built = cadence_redis_batch_add_argv(b, 3, argv, NULL) == 0;
    }
    enum cadence_redis_status st =
        built ? cadence_redis_batch_send(r, b, on_batch_done, c) : CADENCE_REDIS_INVALID;
    if (st != CADENCE_REDIS_OK)
        free(c);
    cadence_redis_batch_free(b);
    return st;
}
