/*
 * The store's typed operations (store/apply.h, reads.h, writes.h) through the async client
 * against a private redis-server: the apply packs its arguments and names its keys so that the
 * script writes the lead, the outbox, the touch, the timeline and the counters; its reply is
 * parsed into applied / duplicate (with the outbox) / not applied / conflict; the batched reads
 * return each lead and each email link in order; the email link and
 * the rep-task removal write the keys of store/keys.h.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "store/apply.h"
#include "store/codec.h"
#include "store/keys.h"
#include "store/reads.h"
#include "store/queue.h"
#include "store/writes.h"

#define STORE_FIXTURE_FIELDS const cadence_redis_script *apply;
#include "store_fixture.h"

static void setup(void)
{
    char err[256];
    store_fixture_start("test_store_ops");
    F.apply = cadence_store_apply_script(F.r, err, sizeof err);
    cr_assert_not_null(F.apply, "%s", err);
    store_fixture_connect();
}

TestSuite(store_ops, .init = setup, .fini = store_fixture_stop, .timeout = 60);

struct got {
    int calls;
    cadence_store_apply_result res;
    char outbox[256];
    char error[256];
};

static void on_apply(const cadence_store_apply_result *res, void *arg)
{
    struct got *g = arg;
    g->calls++;
    g->res = *res;
    snprintf(g->outbox, sizeof g->outbox, "%.*s", (int)res->outbox_len,
             res->outbox ? res->outbox : "");
    snprintf(g->error, sizeof g->error, "%s", res->error ? res->error : "");
    g->res.outbox = NULL;
    g->res.error = NULL;
}

static struct got apply(const cadence_store_apply_args *a)
{
    struct got g = {0};
    cr_assert_eq(cadence_store_apply(F.r, F.apply, a, on_apply, &g), CADENCE_REDIS_OK);
    RUN_UNTIL(g.calls == 1);
    cr_assert_eq(g.calls, 1, "no answer");
    return g;
}

static char *get(const char *fmt, const char *key, const char *field)
{
    redisReply *r = field ? redisCommand(F.sync, fmt, key, field) : redisCommand(F.sync, fmt, key);
    cr_assert_not_null(r);
    char *s = r->str ? strdup(r->str) : NULL;
    freeReplyObject(r);
    return s;
}

/* A value the store keeps compressed (a lead's state, an outbox, a task, a timeline entry):
 * checked to be a zstd frame (store/codec.h), returned decoded. */
static char *get_stored(const char *fmt, const char *key, const char *field)
{
    redisReply *r = field ? redisCommand(F.sync, fmt, key, field) : redisCommand(F.sync, fmt, key);
    cr_assert(r && r->type == REDIS_REPLY_STRING);
    cr_assert(cadence_store_codec_is_frame(r->str, r->len), "not a zstd frame");
    cadence_store_codec *c = cadence_store_codec_new();
    cr_assert_not_null(c);
    const char *json = NULL;
    size_t n = 0;
    char *owned = NULL, err[128];
    int rc = cadence_store_codec_decode(c, r->str, r->len, &json, &n, &owned, err, sizeof err);
    char *s = rc == 0 ? strndup(json, n) : NULL;
    free(owned);
    cadence_store_codec_free(c);
    freeReplyObject(r);
    cr_assert_eq(rc, 0, "%s", err);
    return s;
}

static void assert_str(char *got, const char *want)
{
    cr_assert_not_null(got, "want %s", want);
    cr_assert_str_eq(got, want);
    free(got);
}

static const cadence_store_counter counters[] = {{"attempts", 1, NULL}, {"wins", 2, NULL}};

static cadence_store_apply_args args(const char *event_id, long version)
{
    return (cadence_store_apply_args){
        .shard = cadence_keys_shard("L1", 4),
        .lead_id = "L1",
        .event_id = event_id,
        .expected_version = version,
        .state_json = "{\"s\":1}",
        .outbox = "[\"out\"]",
        .touch = CADENCE_STORE_TOUCH_SET,
        .task_id = "task-1",
        .task_due_ms = 5000,
        .task_json = "{\"task_id\":\"task-1\"}",
        .timeline_json = "{\"event_id\":\"e1\"}",
        .counters = counters,
        .n_counters = 2,
    };
}

Test(store_ops, an_apply_writes_every_key_of_the_lead_once)
{
    cadence_store_apply_args a = args("e1", 0);
    struct got g = apply(&a);
    cr_assert_eq(g.res.verdict, CADENCE_STORE_APPLIED, "verdict %d %s", g.res.verdict, g.error);
    cr_assert_eq(g.res.version, 1);
    cr_assert_eq(g.res.unqueued, 0);

    char k[CADENCE_KEY_MAX];
    assert_str(get_stored("HGET %s %s", cadence_keys_lead_state(k, a.shard, "L1"), "s"),
               "{\"s\":1}");
    assert_str(get_stored("HGET %s %s", cadence_keys_lead_state(k, a.shard, "L1"), "x:e1"),
               "[\"out\"]");
    assert_str(get("ZSCORE %s %s", cadence_keys_due(k, a.shard), "task-1"), "5000");
    assert_str(get_stored("HGET %s %s", cadence_keys_tasks(k, a.shard), "task-1"),
               "{\"task_id\":\"task-1\"}");
    assert_str(get_stored("LINDEX %s 0", cadence_keys_timeline(k, a.shard, "L1"), NULL),
               "{\"event_id\":\"e1\"}");
    assert_str(get("HGET %s %s", cadence_keys_stats(k, a.shard), "wins"), "2");

    /* The same event again: a duplicate, with the outbox recorded the first time. */
    g = apply(&a);
    cr_assert_eq(g.res.verdict, CADENCE_STORE_DUPLICATE);
    cr_assert_str_eq(g.outbox, "[\"out\"]");
    assert_str(get("HGET %s %s", cadence_keys_stats(k, a.shard), "wins"), "2");
}

static void on_forgotten(const char *error, void *arg)
{
    int *done = arg;
    *done = error ? -1 : 1;
}

/* A crash before the offsets were stored: the same message (offset) is a duplicate with its
 * outbox; once Kafka acknowledged the outputs the worker drops the outbox, and the redelivery
 * is still a duplicate, with nothing to produce again. */
Test(store_ops, a_redelivery_is_a_duplicate_before_and_after_the_outbox_is_dropped)
{
    cadence_store_apply_args a = args("e1", 0);
    a.source_topic = "leads.v1";
    a.source_partition = 2;
    a.source_offset = a.source_floor = 41;
    cr_assert_eq(apply(&a).res.verdict, CADENCE_STORE_APPLIED);
    cadence_store_apply_args again = a;
    again.expected_version = 1;
    struct got g = apply(&again);
    cr_assert_eq(g.res.verdict, CADENCE_STORE_DUPLICATE);
    cr_assert_str_eq(g.outbox, "[\"out\"]");

    cadence_store_outbox_ref ref = {a.shard, "L1", "e1"};
    int done = 0;
    cr_assert_eq(cadence_store_forget_outboxes(F.r, &ref, 1, on_forgotten, &done),
                 CADENCE_REDIS_OK);
    RUN_UNTIL(done != 0);
    cr_assert_eq(done, 1);
    char k[CADENCE_KEY_MAX];
    redisReply *r =
        redisCommand(F.sync, "HEXISTS %s x:e1", cadence_keys_lead_state(k, a.shard, "L1"));
    cr_assert_eq(r->integer, 0);
    freeReplyObject(r);
    g = apply(&again);
    cr_assert_eq(g.res.verdict, CADENCE_STORE_DUPLICATE);
    cr_assert_str_eq(g.outbox, "");
    assert_str(get("HGET %s %s", cadence_keys_stats(k, a.shard), "wins"), "2");
}

Test(store_ops, a_stale_version_is_a_conflict_and_a_check_writes_nothing)
{
    cadence_store_apply_args a = args("e1", 0);
    cr_assert_eq(apply(&a).res.verdict, CADENCE_STORE_APPLIED);

    cadence_store_apply_args stale = args("e2", 0);
    struct got g = apply(&stale);
    cr_assert_eq(g.res.verdict, CADENCE_STORE_CONFLICT);
    cr_assert_eq(g.res.version, 1, "the stored version");

    cadence_store_apply_args check = args("e3", 1);
    check.check_only = 1;
    cr_assert_eq(apply(&check).res.verdict, CADENCE_STORE_NOT_APPLIED);
    char k[CADENCE_KEY_MAX];
    assert_str(get("HGET %s %s", cadence_keys_lead_state(k, a.shard, "L1"), "v"), "1");
}

Test(store_ops, dropping_an_unclaimed_task_says_it_was_unqueued)
{
    cadence_store_apply_args a = args("e1", 0);
    cr_assert_eq(apply(&a).res.verdict, CADENCE_STORE_APPLIED);
    cadence_store_apply_args cancel = args("e2", 1);
    cancel.touch = CADENCE_STORE_TOUCH_CANCEL;
    cancel.drop_task_id = "task-1";
    struct got g = apply(&cancel);
    cr_assert_eq(g.res.verdict, CADENCE_STORE_APPLIED);
    cr_assert_eq(g.res.unqueued, 1);
}

Test(store_ops, a_script_error_is_reported_as_failed)
{
    cadence_store_apply_args a = args("e1", 0);
    a.touch = CADENCE_STORE_TOUCH_SET;
    a.task_id = ""; /* the script refuses a SET without a task */
    struct got g = apply(&a);
    cr_assert_eq(g.res.verdict, CADENCE_STORE_FAILED);
    cr_assert_eq(g.res.script_error, 1);
    cr_assert(strstr(g.error, "bad touch"), "%s", g.error);
}

static void on_done(const char *error, void *arg)
{
    int *calls = arg;
    cr_assert_null(error, "%s", error);
    (*calls)++;
}

Test(store_ops, the_email_link_and_the_rep_task_removal_write_their_keys)
{
    int calls = 0;
    cr_assert_eq(cadence_store_link_email(F.r, "Ann@Example.com", 4, "L1", on_done, &calls),
                 CADENCE_REDIS_OK);
    RUN_UNTIL(calls == 1);
    char k[CADENCE_KEY_MAX];
    assert_str(get("GET %s", cadence_keys_email(k, "ann@example.com", 4), NULL), "L1");

    char q[CADENCE_KEY_MAX], t[CADENCE_KEY_MAX];
    cadence_keys_rep_queue(q, "rep-1");
    cadence_keys_rep_tasks(t, "rep-1");
    freeReplyObject(redisCommand(F.sync, "ZADD %s 1 task-1 2 task-2", q));
    freeReplyObject(redisCommand(F.sync, "HSET %s task-1 {} task-2 {}", t));
    cr_assert_eq(cadence_store_unqueue_task(F.r, "rep-1", "task-1", on_done, &calls),
                 CADENCE_REDIS_OK);
    RUN_UNTIL(calls == 2);
    cr_assert_eq(calls, 2);
    cr_assert_null(get("ZSCORE %s %s", q, "task-1"));
    cr_assert_null(get("HGET %s %s", t, "task-1"));
    assert_str(get("ZSCORE %s %s", q, "task-2"), "2");
}

struct read_got {
    int calls;
    size_t n;
    int found[4];
    long version[4];
    char text[4][64];
    char error[128];
};

static void on_leads(const cadence_store_lead *leads, size_t n, const char *error, void *arg)
{
    struct read_got *g = arg;
    g->calls++;
    g->n = n;
    snprintf(g->error, sizeof g->error, "%s", error ? error : "");
    for (size_t i = 0; leads && i < n && i < 4; i++) {
        g->found[i] = leads[i].found;
        g->version[i] = leads[i].version;
        snprintf(g->text[i], sizeof g->text[i], "%s", leads[i].state ? leads[i].state : "");
    }
}

static void on_links(const cadence_store_email_link *links, size_t n, const char *error, void *arg)
{
    struct read_got *g = arg;
    g->calls++;
    g->n = n;
    snprintf(g->error, sizeof g->error, "%s", error ? error : "");
    for (size_t i = 0; links && i < n && i < 4; i++) {
        g->found[i] = links[i].lead_id != NULL;
        snprintf(g->text[i], sizeof g->text[i], "%.*s", (int)links[i].len,
                 links[i].lead_id ? links[i].lead_id : "");
    }
}

Test(store_ops, reading_leads_returns_each_stored_version_and_state_in_order)
{
    cadence_store_apply_args a = args("e1", 0);
    cr_assert_eq(apply(&a).res.verdict, CADENCE_STORE_APPLIED);
    cadence_store_lead_ref refs[] = {{cadence_keys_shard("nobody", 4), "nobody"}, {a.shard, "L1"}};
    struct read_got g = {0};
    cr_assert_eq(cadence_store_read_leads(F.r, refs, 2, on_leads, &g), CADENCE_REDIS_OK);
    RUN_UNTIL(g.calls == 1);
    cr_assert_eq(g.calls, 1);
    cr_assert_str_eq(g.error, "");
    cr_assert_eq(g.n, 2);
    cr_assert_eq(g.found[0], 0, "a lead never written has no state");
    cr_assert_eq(g.found[1], 1);
    cr_assert_eq(g.version[1], 1);
    cr_assert_str_eq(g.text[1], "{\"s\":1}");
}

/* Older versions stored plain JSON: it still reads; a stored frame that does not decode fails
 * the whole read with a reason (the worker then stops rather than overwrite the lead). */
Test(store_ops, reading_leads_reads_plain_json_and_refuses_a_corrupt_frame)
{
    char k[CADENCE_KEY_MAX];
    uint32_t s1 = cadence_keys_shard("P1", 4), s2 = cadence_keys_shard("Z1", 4);
    freeReplyObject(
        redisCommand(F.sync, "HSET %s v 4 s {\"plain\":1}", cadence_keys_lead_state(k, s1, "P1")));
    cadence_store_lead_ref refs[] = {{s1, "P1"}};
    struct read_got g = {0};
    cr_assert_eq(cadence_store_read_leads(F.r, refs, 1, on_leads, &g), CADENCE_REDIS_OK);
    RUN_UNTIL(g.calls == 1);
    cr_assert_str_eq(g.error, "");
    cr_assert_eq(g.version[0], 4);
    cr_assert_str_eq(g.text[0], "{\"plain\":1}");

    static const char bad[] = "\x28\xb5\x2f\xfd\x20\x10garbage";
    freeReplyObject(redisCommand(F.sync, "HSET %s v 2 s %b", cadence_keys_lead_state(k, s2, "Z1"),
                                 bad, sizeof bad - 1));
    cadence_store_lead_ref both[] = {{s1, "P1"}, {s2, "Z1"}};
    struct read_got e = {0};
    cr_assert_eq(cadence_store_read_leads(F.r, both, 2, on_leads, &e), CADENCE_REDIS_OK);
    RUN_UNTIL(e.calls == 1);
    cr_assert(strstr(e.error, "unreadable stored lead state: codec: ") != NULL, "%s", e.error);
}

struct view_got {
    int calls;
    char error[128];
    char state[64];
    size_t n;
    char entries[3][64];
};

static void on_view(const cadence_store_lead_view *v, const char *error, void *arg)
{
    struct view_got *g = arg;
    g->calls++;
    snprintf(g->error, sizeof g->error, "%s", error ? error : "");
    if (!v)
        return;
    cr_assert_eq(v->state[v->state_len], '\0');
    snprintf(g->state, sizeof g->state, "%s", v->state);
    g->n = v->n_timeline;
    for (size_t i = 0; i < v->n_timeline && i < 3; i++) {
        cr_assert_eq(v->timeline[i][v->timeline_len[i]], '\0');
        snprintf(g->entries[i], sizeof g->entries[i], "%s", v->timeline[i]);
    }
}

/* The gateway's view decodes the state and every timeline entry, frames and plain alike. */
Test(store_ops, the_lead_view_decodes_stored_frames_and_plain_entries)
{
    cadence_store_apply_args a = args("e1", 0);
    cr_assert_eq(apply(&a).res.verdict, CADENCE_STORE_APPLIED);
    char k[CADENCE_KEY_MAX];
    cadence_keys_timeline(k, a.shard, "L1");
    freeReplyObject(redisCommand(F.sync, "RPUSH %s {\"older\":1}", k)); /* an older version's */
    struct view_got g = {0};
    cr_assert_eq(cadence_store_read_lead_view(F.r, "L1", 4, 10, on_view, &g), CADENCE_REDIS_OK);
    RUN_UNTIL(g.calls == 1);
    cr_assert_str_eq(g.error, "");
    cr_assert_str_eq(g.state, "{\"s\":1}");
    cr_assert_eq(g.n, 2);
    cr_assert_str_eq(g.entries[0], "{\"event_id\":\"e1\"}");
    cr_assert_str_eq(g.entries[1], "{\"older\":1}");

    freeReplyObject(redisCommand(F.sync, "LPUSH %s %b", k, "\x28\xb5\x2f\xfd\x00", (size_t)5));
    struct view_got e = {0};
    cr_assert_eq(cadence_store_read_lead_view(F.r, "L1", 4, 10, on_view, &e), CADENCE_REDIS_OK);
    RUN_UNTIL(e.calls == 1);
    cr_assert(strstr(e.error, "unreadable stored timeline entry: codec: ") != NULL, "%s", e.error);
}

Test(store_ops, an_email_lookup_finds_the_linked_lead_whatever_the_case)
{
    int calls = 0;
    cr_assert_eq(cadence_store_link_email(F.r, "ann@example.com", 4, "L1", on_done, &calls),
                 CADENCE_REDIS_OK);
    RUN_UNTIL(calls == 1);
    const char *emails[] = {"ANN@example.com", "bob@example.com"};
    struct read_got g = {0};
    cr_assert_eq(cadence_store_find_leads_by_email(F.r, emails, 2, 4, on_links, &g),
                 CADENCE_REDIS_OK);
    RUN_UNTIL(g.calls == 1);
    cr_assert_eq(g.calls, 1);
    cr_assert_str_eq(g.error, "");
    cr_assert_eq(g.found[0], 1);
    cr_assert_str_eq(g.text[0], "L1");
    cr_assert_eq(g.found[1], 0, "an unknown email links to nothing");
}
