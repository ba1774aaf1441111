/*
 * The reps' lead search (store/search.h: lua/index_lead.lua, lua/search_leads.lua) and the read
 * of one open task (store/rep_tasks.h) through the async client against a private
 * redis-server: a lead is found by the start of its first, last or full name, company, email or
 * id, case-insensitively, only in its rep's index; re-indexing replaces the old terms (a renamed
 * lead is not found by its old name); a lead's several matching terms give one result; the
 * limit holds; the scripts refuse bad arguments before writing; a task is found only while it
 * is in the rep's queue.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "store/keys.h"
#include "store/rep_tasks.h"
#include "store/scripts.h"
#include "store/search.h"

#define STORE_FIXTURE_FIELDS cadence_store_search *s;
#include "store_fixture.h"

static void setup(void)
{
    char err[256];
    store_fixture_start("test_store_search");
    F.s = cadence_store_search_new(F.r, err, sizeof err);
    cr_assert_not_null(F.s, "%s", err);
    store_fixture_connect();
}

static void teardown(void)
{
    cadence_store_search_free(F.s);
    store_fixture_stop();
}

TestSuite(store_search, .init = setup, .fini = teardown, .timeout = 60);

static void on_done(const char *error, void *arg)
{
    int *calls = arg;
    cr_assert_null(error, "%s", error);
    (*calls)++;
}

static void index_lead(const char *rep, const char *lead, const char *first, const char *last,
                       const char *company, const char *email)
{
    int calls = 0;
    cadence_store_lead_card c = {lead, rep, first, last, company, email};
    cr_assert_eq(cadence_store_index_lead(F.s, &c, on_done, &calls), CADENCE_REDIS_OK);
    RUN_UNTIL(calls == 1);
    cr_assert_eq(calls, 1);
}

struct found {
    int calls;
    size_t n;
    char ids[8][64];
    char cards[8][256];
    char error[128];
};

static void on_hits(const cadence_store_search_hit *hits, size_t n, const char *error, void *arg)
{
    struct found *f = arg;
    f->calls++;
    snprintf(f->error, sizeof f->error, "%s", error ? error : "");
    f->n = n;
    for (size_t i = 0; i < n && i < 8; i++) {
        snprintf(f->ids[i], sizeof f->ids[i], "%s", hits[i].lead_id);
        snprintf(f->cards[i], sizeof f->cards[i], "%.*s", (int)hits[i].card_len, hits[i].card);
    }
}

static struct found search(const char *rep, const char *q, size_t limit)
{
    struct found f = {0};
    cr_assert_eq(cadence_store_search_leads(F.s, rep, q, limit, on_hits, &f), CADENCE_REDIS_OK);
    RUN_UNTIL(f.calls == 1);
    cr_assert_eq(f.calls, 1, "no answer");
    cr_assert_str_eq(f.error, "");
    return f;
}

Test(store_search, a_lead_is_found_by_the_start_of_any_of_its_names)
{
    index_lead("rep-1", "L-1", "Dana", "Okafor", "Northwind Freight", "Dana@Northwind.example");
    index_lead("rep-1", "L-2", "Lee", "Danvers", "Acme", "lee@acme.example");
    static const char *const only_l1[] = {
        "okaf", "NORTH", "northwind fr", "dana@north", "dana o", "  Dana   Okafor ", "l-1"};
    for (size_t i = 0; i < sizeof only_l1 / sizeof only_l1[0]; i++) {
        struct found f = search("rep-1", only_l1[i], 10);
        cr_assert_eq(f.n, 1, "\"%s\": %zu hits", only_l1[i], f.n);
        cr_assert_str_eq(f.ids[0], "L-1", "\"%s\"", only_l1[i]);
    }
    struct found f = search("rep-1", "dan", 10);
    cr_assert_eq(f.n, 2, "Dana (first name) and Danvers (last name), each once: %zu", f.n);
    cr_assert(strstr(f.cards[0], "\"company\""), "%s", f.cards[0]);
    cr_assert_eq(search("rep-1", "dan", 1).n, 1, "the limit holds");
    cr_assert_eq(search("rep-1", "zed", 10).n, 0);
    cr_assert_eq(search("rep-2", "dana", 10).n, 0, "another rep's index does not have it");
}

Test(store_search, indexing_again_replaces_the_old_terms)
{
    index_lead("rep-1", "L-1", "Dana", "Okafor", "Northwind", "dana@northwind.example");
    index_lead("rep-1", "L-1", "Dana", "Smith", "Contoso", "dana@contoso.example");
    cr_assert_eq(search("rep-1", "okafor", 10).n, 0, "the old name is gone");
    cr_assert_eq(search("rep-1", "northwind", 10).n, 0);
    struct found f = search("rep-1", "smi", 10);
    cr_assert_eq(f.n, 1);
    cr_assert(strstr(f.cards[0], "Contoso"), "%s", f.cards[0]);
    int calls = 0;
    cr_assert_eq(cadence_store_unindex_lead(F.s, "rep-1", "L-1", on_done, &calls),
                 CADENCE_REDIS_OK);
    RUN_UNTIL(calls == 1);
    cr_assert_eq(search("rep-1", "dana", 10).n, 0, "unindexed");
    char k[CADENCE_KEY_MAX];
    redisReply *r = redisCommand(F.sync, "ZCARD %s", cadence_keys_rep_lead_index(k, "rep-1"));
    cr_assert_eq(r->integer, 0, "no term left behind");
    freeReplyObject(r);
}

Test(store_search, bad_arguments_are_refused_before_any_write)
{
    cr_assert_eq(cadence_store_search_leads(F.s, "rep-1", "   ", 10, on_hits, NULL),
                 CADENCE_REDIS_INVALID);
    cr_assert_eq(cadence_store_search_leads(F.s, "rep-1", "a", 0, on_hits, NULL),
                 CADENCE_REDIS_INVALID);
    cr_assert_eq(
        cadence_store_search_leads(F.s, "rep-1", "a", CADENCE_STORE_SEARCH_MAX + 1, on_hits, NULL),
        CADENCE_REDIS_INVALID);
    /* the script's own checks */
    redisReply *r = redisCommand(F.sync, "EVAL %s 3 i c t L-1 {} %b", cadence_lua_index_lead,
                                 "a\1b", (size_t)3);
    cr_assert_eq(r->type, REDIS_REPLY_ERROR);
    freeReplyObject(r);
    r = redisCommand(F.sync, "EXISTS i c t");
    cr_assert_eq(r->integer, 0, "nothing written");
    freeReplyObject(r);
    r = redisCommand(F.sync, "EVAL %s 2 i c %s 1000", cadence_lua_search_leads, "a");
    cr_assert_eq(r->type, REDIS_REPLY_ERROR);
    freeReplyObject(r);
}

Test(store_search, queries_are_normalised_and_cut_on_a_character_boundary)
{
    char out[CADENCE_STORE_SEARCH_QUERY_MAX + 1];
    cr_assert_eq(cadence_store_search_normalize("  Ana \t  SMITH ", out), 9);
    cr_assert_str_eq(out, "ana smith");
    char long_q[200];
    memset(long_q, 'a', 63);
    strcpy(long_q + 63, "\xc3\xa9tude"); /* é straddles the 64-byte cut */
    size_t n = cadence_store_search_normalize(long_q, out);
    cr_assert_eq(n, 63, "the cut byte of é is dropped whole: %zu", n);
}

struct task_got {
    int calls;
    char json[128];
    long long due;
    char error[128];
};

static void on_task(const char *json, size_t len, long long due_ms, const char *error, void *arg)
{
    struct task_got *g = arg;
    g->calls++;
    snprintf(g->json, sizeof g->json, "%.*s", (int)len, json ? json : "");
    g->due = due_ms;
    snprintf(g->error, sizeof g->error, "%s", error ? error : "");
}

Test(store_search, a_task_is_read_only_while_it_is_in_the_reps_queue)
{
    char q[CADENCE_KEY_MAX], t[CADENCE_KEY_MAX];
    cadence_keys_rep_queue(q, "rep-1");
    cadence_keys_rep_tasks(t, "rep-1");
    freeReplyObject(redisCommand(F.sync, "ZADD %s 1700 task-1", q));
    freeReplyObject(redisCommand(F.sync, "HSET %s task-1 {\"a\":1} task-2 {\"b\":2}", t));
    struct task_got g = {0};
    cr_assert_eq(cadence_store_read_rep_task(F.r, "rep-1", "task-1", on_task, &g),
                 CADENCE_REDIS_OK);
    RUN_UNTIL(g.calls == 1);
    cr_assert_str_eq(g.json, "{\"a\":1}");
    cr_assert_eq(g.due, 1700);
    struct task_got h = {0};
    cr_assert_eq(cadence_store_read_rep_task(F.r, "rep-1", "task-2", on_task, &h),
                 CADENCE_REDIS_OK);
    RUN_UNTIL(h.calls == 1);
    cr_assert_str_eq(h.json, "", "in the hash but not in the queue: not open");
    cr_assert_str_eq(h.error, "");
    struct task_got k = {0};
    cr_assert_eq(cadence_store_read_rep_task(F.r, "rep-2", "task-1", on_task, &k),
                 CADENCE_REDIS_OK);
    RUN_UNTIL(k.calls == 1);
    cr_assert_str_eq(k.json, "", "another rep's queue does not have it");
}
