/*
 * search — see search.h. Terms are built here (the scripts take them ready), so the lower-case
 * rule lives in one place: cadence_store_search_normalize, used for terms and queries alike.
 */
#include "store/search.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/keys.h"
#include "store/scripts.h"

/* Terms one lead is found by: first, last, "first last", company, email, lead id. */
#define TERMS_MAX 6
#define TERM_MAX 256

struct cadence_store_search {
    cadence_redis *r;
    const cadence_redis_script *index, *search;
};

cadence_store_search *cadence_store_search_new(cadence_redis *r, char *errstr, size_t errstr_size)
{
    cadence_store_search *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    s->r = r;
    s->index = cadence_redis_script_add(r, cadence_lua_index_lead, errstr, errstr_size);
    s->search = s->index
                    ? cadence_redis_script_add(r, cadence_lua_search_leads, errstr, errstr_size)
                    : NULL;
    if (!s->search) {
        free(s);
        return NULL;
    }
    return s;
}

void cadence_store_search_free(cadence_store_search *s)
{
    free(s);
}

/* Normalises `in` into `out` (capacity `cap` + 1). */
static size_t normalize(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    int space = 0;
    for (const unsigned char *p = (const unsigned char *)(in ? in : ""); *p; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p < 0x20) {
            space = n > 0;
            continue;
        }
        size_t need = space ? 2 : 1;
        if (n + need > cap)
            break;
        if (space)
            out[n++] = ' ';
        space = 0;
        out[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    }
    /* never end inside a UTF-8 sequence */
    size_t end = n;
    while (end > 0 && ((unsigned char)out[end - 1] & 0xC0) == 0x80)
        end--;
    if (end > 0 && ((unsigned char)out[end - 1] & 0x80)) {
        unsigned char lead = (unsigned char)out[end - 1];
        size_t len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        n = n - (end - 1) >= len ? n : end - 1;
    }
    out[n] = '\0';
    return n;
}

size_t cadence_store_search_normalize(const char *query, char *out)
{
    return normalize(query, out, CADENCE_STORE_SEARCH_QUERY_MAX);
}

struct done_call {
    cadence_store_done_cb cb;
    void *arg;
};

static void on_done(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    struct done_call c = *(struct done_call *)arg;
    free(arg);
    if (!error && (!reply || reply->type == REDIS_REPLY_ERROR))
        error = reply ? reply->str : "no reply";
    c.cb(error, c.arg);
}

static enum cadence_redis_status run_index(cadence_store_search *s, const char *rep_id, int argc,
                                           const char **argv, cadence_store_done_cb cb, void *arg)
{
    struct done_call *c = malloc(sizeof(*c));
    if (!c)
        return CADENCE_REDIS_NOMEM;
    c->cb = cb;
    c->arg = arg;
    char k_index[CADENCE_KEY_MAX], k_cards[CADENCE_KEY_MAX], k_terms[CADENCE_KEY_MAX];
    argv[0] = cadence_keys_rep_lead_index(k_index, rep_id);
    argv[1] = cadence_keys_rep_lead_cards(k_cards, rep_id);
    argv[2] = cadence_keys_rep_lead_terms(k_terms, rep_id);
    enum cadence_redis_status st =
        cadence_redis_evalsha(s->r, s->index, 3, argc, argv, NULL, on_done, c);
    if (st != CADENCE_REDIS_OK)
        free(c);
    return st;
}

/* Adds `term` (normalised) to terms unless empty or already there. */
static void add_term(char terms[TERMS_MAX][TERM_MAX + 1], int *n, const char *term)
{
    char t[TERM_MAX + 1];
    if (*n >= TERMS_MAX || normalize(term, t, TERM_MAX) == 0)
        return;
    for (int i = 0; i < *n; i++)
        if (strcmp(terms[i], t) == 0)
            return;
    memcpy(terms[(*n)++], t, sizeof(t));
}

enum cadence_redis_status cadence_store_index_lead(cadence_store_search *s,
                                                   const cadence_store_lead_card *card,
                                                   cadence_store_done_cb cb, void *arg)
{
    if (!s || !card || !card->lead_id || !*card->lead_id || !card->rep_id || !*card->rep_id)
        return CADENCE_REDIS_INVALID;
    char terms[TERMS_MAX][TERM_MAX + 1];
    int n = 0;
    char full[2 * TERM_MAX + 2];
    snprintf(full, sizeof(full), "%s %s", card->first_name ? card->first_name : "",
             card->last_name ? card->last_name : "");
    /* no term of its own for the first name: it starts the full name, which a prefix
     * search finds as well (one member less per lead in the rep's index) */
    add_term(terms, &n, card->last_name);
    add_term(terms, &n, full);
    add_term(terms, &n, card->company);
    add_term(terms, &n, card->email);
    add_term(terms, &n, card->lead_id);
    json_t *j =
        json_pack("{s:s,s:s,s:s,s:s,s:s}", "lead_id", card->lead_id, "first_name",
                  card->first_name ? card->first_name : "", "last_name",
                  card->last_name ? card->last_name : "", "company",
                  card->company ? card->company : "", "email", card->email ? card->email : "");
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text)
        return CADENCE_REDIS_NOMEM;
    const char *argv[5 + TERMS_MAX];
    argv[3] = card->lead_id;
    argv[4] = text;
    for (int i = 0; i < n; i++)
        argv[5 + i] = terms[i];
    enum cadence_redis_status st = run_index(s, card->rep_id, 5 + n, argv, cb, arg);
    free(text);
    return st;
}

enum cadence_redis_status cadence_store_unindex_lead(cadence_store_search *s, const char *rep_id,
                                                     const char *lead_id, cadence_store_done_cb cb,
                                                     void *arg)
{
    if (!s || !rep_id || !*rep_id || !lead_id || !*lead_id)
        return CADENCE_REDIS_INVALID;
    const char *argv[5] = {NULL, NULL, NULL, lead_id, ""};
    return run_index(s, rep_id, 5, argv, cb, arg);
}

struct search_call {
    cadence_store_search_cb cb;
    void *arg;
};

static void on_search(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    struct search_call c = *(struct search_call *)arg;
    free(arg);
    if (!error && (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements % 2))
        error = reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "bad reply to a search";
    if (error) {
        c.cb(NULL, 0, error, c.arg);
        return;
    }
    size_t n = reply->elements / 2;
    cadence_store_search_hit *hits = calloc(n ? n : 1, sizeof(*hits));
    if (!hits) {
        c.cb(NULL, 0, "out of memory", c.arg);
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const redisReply *id = reply->element[2 * i], *card = reply->element[2 * i + 1];
        if (id->type != REDIS_REPLY_STRING || card->type != REDIS_REPLY_STRING)
            continue;
        hits[k].lead_id = id->str;
        hits[k].card = card->str;
        hits[k].card_len = card->len;
        k++;
    }
    c.cb(hits, k, NULL, c.arg);
    free(hits);
}

enum cadence_redis_status cadence_store_search_leads(cadence_store_search *s, const char *rep_id,
                                                     const char *query, size_t limit,
                                                     cadence_store_search_cb cb, void *arg)
{
    char q[CADENCE_STORE_SEARCH_QUERY_MAX + 1];
    if (!s || !rep_id || !*rep_id || limit < 1 || limit > CADENCE_STORE_SEARCH_MAX ||
        cadence_store_search_normalize(query, q) == 0)
        return CADENCE_REDIS_INVALID;
    struct search_call *c = malloc(sizeof(*c));
    if (!c)
        return CADENCE_REDIS_NOMEM;
    c->cb = cb;
    c->arg = arg;
    char k_index[CADENCE_KEY_MAX], k_cards[CADENCE_KEY_MAX], lim[16];
    snprintf(lim, sizeof(lim), "%zu", limit);
    const char *argv[] = {cadence_keys_rep_lead_index(k_index, rep_id),
                          cadence_keys_rep_lead_cards(k_cards, rep_id), q, lim};
    enum cadence_redis_status st =
        cadence_redis_evalsha(s->r, s->search, 2, 4, argv, NULL, on_search, c);
    if (st != CADENCE_REDIS_OK)
        free(c);
    return st;
}
