/* alerts — see alerts.h; the append's contract is the header of lua/append_alert.lua. */
#include "store/alerts.h"
#include "store/keys.h"
#include "store/scripts.h"

#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest decimal int64 or stream id bound, terminator included. */
#define NUM_SIZE 48

const cadence_redis_script *cadence_store_append_alert_script(cadence_redis *r, char *errstr,
                                                              size_t errstr_size)
{
    return cadence_redis_script_add(r, cadence_lua_append_alert, errstr, errstr_size);
}

/* ------------------------------------------------------------------ append */

struct append_call {
    cadence_store_append_cb cb;
    void *arg;
    size_t n;
};

static void on_appended(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    struct append_call c = *(struct append_call *)arg;
    free(arg);
    int *appended = NULL;
    if (!error && (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != c.n))
        error = "unexpected reply";
    if (!error && !(appended = calloc(c.n, sizeof(*appended))))
        error = "out of memory";
    if (error) {
        c.cb(NULL, c.n, error, c.arg);
        return;
    }
    for (size_t i = 0; i < c.n; i++) {
        const redisReply *e = reply->element[i];
        appended[i] = e->type == REDIS_REPLY_INTEGER && e->integer == 1;
    }
    c.cb(appended, c.n, NULL, c.arg);
    free(appended);
}

enum cadence_redis_status
cadence_store_append_alerts(cadence_redis *r, const cadence_redis_script *script,
                            const cadence_store_alert_in *alerts, size_t n,
                            const cadence_store_alert_limits *limits, int64_t now_ms,
                            cadence_store_append_cb cb, void *arg)
{
    if (n == 0)
        return CADENCE_REDIS_INVALID;
    struct append_call *c = malloc(sizeof(*c));
    cadence_redis_batch *b = cadence_redis_batch_new();
    char now[NUM_SIZE], maxlen[NUM_SIZE], ids_max[NUM_SIZE];
    snprintf(now, sizeof(now), "%" PRId64, now_ms);
    snprintf(maxlen, sizeof(maxlen), "%ld", limits->stream_maxlen);
    snprintf(ids_max, sizeof(ids_max), "%ld", limits->ids_max);
    int built = c && b;
    for (size_t i = 0; built && i < n; i++) {
        char k_stream[CADENCE_KEY_MAX], k_ids[CADENCE_KEY_MAX];
        cadence_keys_rep_alerts(k_stream, alerts[i].rep_id);
        cadence_keys_rep_alert_ids(k_ids, alerts[i].rep_id);
        const char *argv[] = {k_stream, k_ids,  alerts[i].dedupe_id, alerts[i].json, now,
                              maxlen,   ids_max};
        size_t argvlen[] = {strlen(k_stream),   strlen(k_ids), strlen(alerts[i].dedupe_id),
                            alerts[i].json_len, strlen(now),   strlen(maxlen),
                            strlen(ids_max)};
        built = cadence_redis_batch_add_evalsha(b, script, 2, 7, argv, argvlen) == 0;
    }
    enum cadence_redis_status st = CADENCE_REDIS_NOMEM;
    if (built) {
        *c = (struct append_call){cb, arg, n};
        st = cadence_redis_batch_send(r, b, on_appended, c);
    }
    if (st != CADENCE_REDIS_OK)
        free(c);
    cadence_redis_batch_free(b);
    return st;
}

/* ------------------------------------------------------------------ reads */

/*
 * The entries of a stream reply ([[id, [field, value, ...]], ...]) in `out` (room for
 * entries->elements), oldest first (`reverse`: the reply is newest first). Returns how many.
 */
static size_t entries_of(const redisReply *entries, int reverse, cadence_store_alert *out)
{
    size_t k = 0, n = entries->elements;
    for (size_t j = 0; j < n; j++) {
        const redisReply *e = entries->element[reverse ? n - 1 - j : j];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
            e->element[0]->type != REDIS_REPLY_STRING)
            continue;
        cadence_store_alert a = {e->element[0]->str, NULL, 0};
        const redisReply *fields = e->element[1];
        for (size_t i = 0; fields->type == REDIS_REPLY_ARRAY && i + 1 < fields->elements; i += 2)
            if (fields->element[i]->str && strcmp(fields->element[i]->str, "alert") == 0) {
                a.json = fields->element[i + 1]->str;
                a.json_len = fields->element[i + 1]->len;
            }
        out[k++] = a;
    }
    return k;
}

struct range_call {
    cadence_store_alerts_cb cb;
    void *arg;
    int reverse; /* the reply is newest first */
};

static void on_range(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    struct range_call c = *(struct range_call *)arg;
    free(arg);
    if (!error && (!reply || reply->type != REDIS_REPLY_ARRAY))
        error = "unexpected reply";
    cadence_store_alert *out = NULL;
    if (!error && !(out = calloc(reply->elements ? reply->elements : 1, sizeof(*out))))
        error = "out of memory";
    if (error) {
        c.cb(NULL, 0, error, c.arg);
        return;
    }
    c.cb(out, entries_of(reply, c.reverse, out), NULL, c.arg);
    free(out);
}

static enum cadence_redis_status send_range(cadence_redis *r, const char **argv, int reverse,
                                            cadence_store_alerts_cb cb, void *arg)
{
    struct range_call *c = malloc(sizeof(*c));
    if (!c)
        return CADENCE_REDIS_NOMEM;
    *c = (struct range_call){cb, arg, reverse};
    enum cadence_redis_status st = cadence_redis_command_argv(r, on_range, c, 6, argv, NULL);
    if (st != CADENCE_REDIS_OK)
        free(c);
    return st;
}

enum cadence_redis_status cadence_store_read_alerts_after(cadence_redis *r, const char *rep_id,
                                                          const char *after, long count,
                                                          cadence_store_alerts_cb cb, void *arg)
{
    char key[CADENCE_KEY_MAX], from[NUM_SIZE], cnt[NUM_SIZE];
    snprintf(from, sizeof(from), "(%s", after);
    snprintf(cnt, sizeof(cnt), "%ld", count);
    const char *argv[] = {"XRANGE", cadence_keys_rep_alerts(key, rep_id), from, "+", "COUNT", cnt};
    return send_range(r, argv, 0, cb, arg);
}

enum cadence_redis_status cadence_store_read_alerts_newest(cadence_redis *r, const char *rep_id,
                                                           long count, cadence_store_alerts_cb cb,
                                                           void *arg)
{
    char key[CADENCE_KEY_MAX], cnt[NUM_SIZE];
    snprintf(cnt, sizeof(cnt), "%ld", count);
    const char *argv[] = {"XREVRANGE", cadence_keys_rep_alerts(key, rep_id), "+", "-", "COUNT",
                          cnt};
    return send_range(r, argv, 1, cb, arg);
}

/* ------------------------------------------------------------------ poll */

struct poll_call {
    cadence_store_poll_cb cb;
    void *arg;
    size_t reps;
};

/* The entry array of one XREAD reply ([[key, entries]]), or NULL when it has none. */
static const redisReply *xread_entries(const redisReply *x)
{
    if (x->type != REDIS_REPLY_ARRAY || x->elements < 1)
        return NULL;
    const redisReply *stream = x->element[0];
    if (stream->type != REDIS_REPLY_ARRAY || stream->elements < 2 ||
        stream->element[1]->type != REDIS_REPLY_ARRAY)
        return NULL;
    return stream->element[1];
}

static void on_poll(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    struct poll_call c = *(struct poll_call *)arg;
    free(arg);
    if (!error && (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != c.reps))
        error = "unexpected reply";
    size_t total = 0;
    for (size_t i = 0; !error && i < c.reps; i++) {
        const redisReply *e = xread_entries(reply->element[i]);
        total += e ? e->elements : 0;
    }
    cadence_store_alert *all = NULL;
    const cadence_store_alert **per = NULL;
    size_t *n = NULL;
    if (!error) {
        all = calloc(total ? total : 1, sizeof(*all));
        per = g_new0(const cadence_store_alert *, c.reps);
        n = calloc(c.reps, sizeof(*n));
        if (!all || !per || !n)
            error = "out of memory";
    }
    if (error) {
        c.cb(NULL, NULL, c.reps, error, c.arg);
    } else {
        size_t used = 0;
        for (size_t i = 0; i < c.reps; i++) {
            const redisReply *e = xread_entries(reply->element[i]);
            per[i] = all + used;
            n[i] = e ? entries_of(e, 0, all + used) : 0;
            used += n[i];
        }
        c.cb(per, n, c.reps, NULL, c.arg);
    }
    free(all);
    g_free(per);
    free(n);
}

enum cadence_redis_status cadence_store_poll_alerts(cadence_redis *r,
                                                    const cadence_store_alert_cursor *cursors,
                                                    size_t reps, long count,
                                                    cadence_store_poll_cb cb, void *arg)
{
    if (reps == 0)
        return CADENCE_REDIS_INVALID;
    struct poll_call *c = malloc(sizeof(*c));
    cadence_redis_batch *b = cadence_redis_batch_new();
    char cnt[NUM_SIZE];
    snprintf(cnt, sizeof(cnt), "%ld", count);
    int built = c && b;
    for (size_t i = 0; built && i < reps; i++) {
        char key[CADENCE_KEY_MAX];
        const char *argv[] = {"XREAD",
                              "COUNT",
                              cnt,
                              "STREAMS",
                              cadence_keys_rep_alerts(key, cursors[i].rep_id),
                              cursors[i].cursor};
        built = cadence_redis_batch_add_argv(b, 6, argv, NULL) == 0;
    }
    enum cadence_redis_status st = CADENCE_REDIS_NOMEM;
    if (built) {
        *c = (struct poll_call){cb, arg, reps};
        st = cadence_redis_batch_send(r, b, on_poll, c);
    }
    if (st != CADENCE_REDIS_OK)
        free(c);
    cadence_redis_batch_free(b);
    return st;
}
