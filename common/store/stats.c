/* stats — see stats.h. */
#include "store/stats.h"
#include "store/keys.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

struct stats_call {
    cadence_store_stats_cb cb;
    void *arg;
};

static void on_stats(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    struct stats_call c = *(struct stats_call *)arg;
    free(arg);
    if (!error && (!reply || reply->type != REDIS_REPLY_ARRAY))
        error = "unexpected reply";
    if (error) {
        c.cb(NULL, 0, error, c.arg);
        return;
    }
    /* name (borrowed from the reply) → index in `sums` */
    GHashTable *index = g_hash_table_new(g_str_hash, g_str_equal);
    GArray *sums = g_array_new(FALSE, FALSE, sizeof(cadence_store_stat));
    for (size_t s = 0; s < reply->elements; s++) {
        const redisReply *h = reply->element[s];
        for (size_t i = 0; h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2) {
            const char *name = h->element[i]->str;
            if (!name)
                continue;
            int64_t v = h->element[i + 1]->str ? strtoll(h->element[i + 1]->str, NULL, 10) : 0;
            gpointer at;
            if (g_hash_table_lookup_extended(index, name, NULL, &at)) {
                g_array_index(sums, cadence_store_stat, GPOINTER_TO_SIZE(at)).value += v;
            } else {
                g_hash_table_insert(index, (gpointer)name, GSIZE_TO_POINTER(sums->len));
                cadence_store_stat st = {name, v};
                g_array_append_val(sums, st);
            }
        }
    }
    c.cb((const cadence_store_stat *)(void *)sums->data, sums->len, NULL, c.arg);
    g_array_free(sums, TRUE);
    g_hash_table_destroy(index);
}

enum cadence_redis_status cadence_store_read_stats(cadence_redis *r, uint32_t shards,
                                                   cadence_store_stats_cb cb, void *arg)
{
    if (shards == 0)
        return CADENCE_REDIS_INVALID;
    struct stats_call *c = malloc(sizeof(*c));
    cadence_redis_batch *b = cadence_redis_batch_new();
    int built = c && b;
    for (uint32_t s = 0; built && s < shards; s++) {
        char key[CADENCE_KEY_MAX];
        const char *argv[] = {"HGETALL", cadence_keys_stats(key, s)};
        built = cadence_redis_batch_add_argv(b, 2, argv, NULL) == 0;
    }
    enum cadence_redis_status st = CADENCE_REDIS_NOMEM;
    if (built) {
        *c = (struct stats_call){cb, arg};
        st = cadence_redis_batch_send(r, b, on_stats, c);
    }
    if (st != CADENCE_REDIS_OK)
        free(c);
    cadence_redis_batch_free(b);
    return st;
}
