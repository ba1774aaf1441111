/* reads — see reads.h. */
#include "store/reads.h"
#include "store/keys.h"

#include <stdio.h>
#include <stdlib.h>

struct leads_call {
    cadence_store_leads_cb cb;
    void *arg;
    size_t n;
};

struct emails_call {
    cadence_store_emails_cb cb;
    void *arg;
    size_t n;
};

/* True when `reply` is an array of `n` replies; otherwise sets *why. */
static int reply_ok(const redisReply *reply, const char *error, size_t n, const char *what,
                    const char **why)
{
    if (!error && reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == n)
        return 1;
    *why = error ? error : what;
    return 0;
}

/* Frees the `n` texts of `owned` (NULL entries too) and the array. */
static void free_texts(char **owned, size_t n)
{
    for (size_t i = 0; owned && i < n; i++)
        free(owned[i]);
    free(owned);
}

static void on_leads(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    struct leads_call c = *(struct leads_call *)arg;
    free(arg);
    const char *why = NULL;
    cadence_store_lead *leads = NULL;
    char **owned = NULL; /* the decoded states */
    if (!reply_ok(reply, error, c.n, "bad reply to the state read", &why) ||
        !(leads = calloc(c.n, sizeof(*leads))) || !(owned = calloc(c.n, sizeof(*owned)))) {
        free(leads);
        c.cb(NULL, c.n, why ? why : "out of memory", c.arg);
        return;
    }
    char bad[256] = "";
    for (size_t i = 0; i < c.n && !bad[0]; i++) {
        const redisReply *e = reply->element[i]; /* HMGET v s */
        if (e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
            e->element[0]->type == REDIS_REPLY_STRING &&
            e->element[1]->type == REDIS_REPLY_STRING) {
            leads[i].found = 1;
            leads[i].version = strtol(e->element[0]->str, NULL, 10);
            cadence_redis_decode(r, e->element[1]->str, e->element[1]->len,
                                 "unreadable stored lead state", &leads[i].state,
                                 &leads[i].state_len, &owned[i], bad, sizeof(bad));
        }
    }
    /* A state that does not decode fails the read (as one the engine cannot parse stops the
     * worker): nothing may overwrite it. */
    if (bad[0])
        c.cb(NULL, c.n, bad, c.arg);
    else
        c.cb(leads, c.n, NULL, c.arg);
    free_texts(owned, c.n);
    free(leads);
}

static void on_emails(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    struct emails_call c = *(struct emails_call *)arg;
    free(arg);
    const char *why = NULL;
    cadence_store_email_link *links = NULL;
    if (!reply_ok(reply, error, c.n, "bad reply to the email lookup", &why) ||
        !(links = calloc(c.n, sizeof(*links)))) {
        c.cb(NULL, c.n, why ? why : "out of memory", c.arg);
        return;
    }
    for (size_t i = 0; i < c.n; i++) {
        const redisReply *e = reply->element[i];
        if (e->type == REDIS_REPLY_STRING && e->len > 0) {
            links[i].lead_id = e->str;
            links[i].len = e->len;
        }
    }
    c.cb(links, c.n, NULL, c.arg);
    free(links);
}

/* Sends `b` with `cb`/`call`, freeing both on failure; frees `b` in any case. */
static enum cadence_redis_status send_batch(cadence_redis *r, cadence_redis_batch *b, int built,
                                            cadence_redis_cb cb, void *call)
{
    enum cadence_redis_status st = CADENCE_REDIS_INVALID;
    if (built && call)
        st = cadence_redis_batch_send(r, b, cb, call);
    if (st != CADENCE_REDIS_OK)
        free(call);
    cadence_redis_batch_free(b);
    return st;
}

enum cadence_redis_status cadence_store_read_leads(cadence_redis *r,
                                                   const cadence_store_lead_ref *refs, size_t n,
                                                   cadence_store_leads_cb cb, void *arg)
{
    struct leads_call *c = malloc(sizeof(*c));
    if (c)
        *c = (struct leads_call){cb, arg, n};
    cadence_redis_batch *b = cadence_redis_batch_new();
    int built = b != NULL && n > 0;
    char key[CADENCE_KEY_MAX];
    for (size_t i = 0; built && i < n; i++) {
        cadence_keys_lead_state(key, refs[i].shard, refs[i].lead_id);
        const char *argv[] = {"HMGET", key, "v", "s"};
        built = cadence_redis_batch_add_argv(b, 4, argv, NULL) == 0;
    }
    return send_batch(r, b, built, on_leads, c);
}

enum cadence_redis_status cadence_store_find_leads_by_email(cadence_redis *r,
                                                            const char *const *emails, size_t n,
                                                            uint32_t shards,
                                                            cadence_store_emails_cb cb, void *arg)
{
    struct emails_call *c = malloc(sizeof(*c));
    if (c)
        *c = (struct emails_call){cb, arg, n};
    cadence_redis_batch *b = cadence_redis_batch_new();
    int built = b != NULL && n > 0;
    char key[CADENCE_KEY_MAX];
    for (size_t i = 0; built && i < n; i++) {
        cadence_keys_email(key, emails[i], shards);
        const char *argv[] = {"GET", key};
        built = cadence_redis_batch_add_argv(b, 2, argv, NULL) == 0;
    }
    return send_batch(r, b, built, on_emails, c);
}

struct view_call {
    cadence_store_lead_view_cb cb;
    void *arg;
};

static void on_view(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    struct view_call c = *(struct view_call *)arg;
    free(arg);
    const char *why = NULL;
    if (!reply_ok(reply, error, 2, "bad reply to the lead read", &why)) {
        c.cb(NULL, why, c.arg);
        return;
    }
    const redisReply *st = reply->element[0], *tl = reply->element[1];
    size_t n = tl->type == REDIS_REPLY_ARRAY ? tl->elements : 0;
    const char **texts = calloc(n ? n : 1, sizeof(*texts));
    size_t *lens = calloc(n ? n : 1, sizeof(*lens));
    char **owned = calloc(n + 1, sizeof(*owned)); /* the decoded texts: the state last */
    if (!texts || !lens || !owned) {
        free(texts);
        free(lens);
        free(owned);
        c.cb(NULL, "out of memory", c.arg);
        return;
    }
    cadence_store_lead_view v = {NULL, 0, texts, lens, 0};
    char bad[256] = "";
    if (st->type == REDIS_REPLY_STRING)
        cadence_redis_decode(r, st->str, st->len, "unreadable stored lead state", &v.state,
                             &v.state_len, &owned[n], bad, sizeof(bad));
    for (size_t i = 0; i < n && !bad[0]; i++)
        if (tl->element[i]->str) {
            if (cadence_redis_decode(r, tl->element[i]->str, tl->element[i]->len,
                                     "unreadable stored timeline entry", &texts[v.n_timeline],
                                     &lens[v.n_timeline], &owned[i], bad, sizeof(bad)) == 0)
                v.n_timeline++;
        }
    if (bad[0])
        c.cb(NULL, bad, c.arg);
    else
        c.cb(&v, NULL, c.arg);
    free_texts(owned, n + 1);
    free(texts);
    free(lens);
}

enum cadence_redis_status cadence_store_read_lead_view(cadence_redis *r, const char *lead_id,
                                                       uint32_t shards, long timeline_max,
                                                       cadence_store_lead_view_cb cb, void *arg)
{
    if (timeline_max < 1 || shards == 0)
        return CADENCE_REDIS_INVALID;
    struct view_call *c = malloc(sizeof(*c));
    if (c)
        *c = (struct view_call){cb, arg};
    cadence_redis_batch *b = cadence_redis_batch_new();
    char k_state[CADENCE_KEY_MAX], k_tl[CADENCE_KEY_MAX], last[24];
    snprintf(last, sizeof(last), "%ld", timeline_max - 1);
    uint32_t shard = cadence_keys_shard(lead_id, shards);
    const char *get[] = {"HGET", cadence_keys_lead_state(k_state, shard, lead_id), "s"};
    const char *range[] = {"LRANGE", cadence_keys_timeline(k_tl, shard, lead_id), "0", last};
    int built = b && cadence_redis_batch_add_argv(b, 3, get, NULL) == 0 &&
                cadence_redis_batch_add_argv(b, 4, range, NULL) == 0;
    return send_batch(r, b, built, on_view, c);
}
