/*
 * The store's typed operations on due touches, reps' queues, alerts and the gateway's lead
 * view (store/due.h, queue.h, alerts.h, reads.h) through the async
 * client against a private redis-server: each names its keys (store/keys.h), packs its
 * arguments and parses its replies, so callers see ids, times and JSON only.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/alerts.h"
#include "store/due.h"
#include "store/keys.h"
#include "store/queue.h"
#include "store/reads.h"
#include "store/writes.h"

#define STORE_FIXTURE_FIELDS                                                                       \
    cadence_store_due_scripts due;                                                                 \
    const cadence_redis_script *read_queue, *append;
#include "store_fixture.h"

static void setup(void)
{
    char err[256];
    store_fixture_start("test_store_rep");
    cr_assert_eq(cadence_store_due_scripts_add(F.r, &F.due, err, sizeof err), 0, "%s", err);
    F.read_queue = cadence_store_read_queue_script(F.r, err, sizeof err);
    F.append = cadence_store_append_alert_script(F.r, err, sizeof err);
    cr_assert(F.read_queue && F.append, "%s", err);
    store_fixture_connect();
}

TestSuite(store_rep, .init = setup, .fini = store_fixture_stop, .timeout = 60);

static long long integer(const char *fmt, const char *a, const char *b)
{
    redisReply *r = redisCommand(F.sync, fmt, a, b);
    cr_assert_not_null(r);
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer
                  : r->str                       ? strtoll(r->str, NULL, 10)
                                                 : -1;
    freeReplyObject(r);
    return v;
}

/* Schedules task `id` of `shard` due at `due` with JSON `json`, as the apply script does. */
static void schedule(uint32_t shard, const char *id, const char *due, const char *json)
{
    char k_due[CADENCE_KEY_MAX], k_tasks[CADENCE_KEY_MAX];
    freeReplyObject(redisCommand(F.sync, "ZADD %s %s %s", cadence_keys_due(k_due, shard), due, id));
    freeReplyObject(
        redisCommand(F.sync, "HSET %s %s %s", cadence_keys_tasks(k_tasks, shard), id, json));
}

/* ------------------------------------------------------------------ claim, queue, ack */

struct claim_got {
    int calls;
    size_t n;
    long scanned;
    char ids[8][32];
    char json[8][64];
    int reclaimed[8];
    char error[128];
};

static void on_claim(const cadence_store_claimed *tasks, size_t n, long scanned, const char *error,
                     void *arg)
{
    struct claim_got *g = arg;
    g->calls++;
    g->n = n;
    g->scanned = scanned;
    snprintf(g->error, sizeof g->error, "%s", error ? error : "");
    for (size_t i = 0; tasks && i < n && i < 8; i++) {
        snprintf(g->ids[i], sizeof g->ids[i], "%.*s", (int)tasks[i].task_id_len, tasks[i].task_id);
        snprintf(g->json[i], sizeof g->json[i], "%.*s", (int)tasks[i].task_json_len,
                 tasks[i].task_json);
        g->reclaimed[i] = tasks[i].reclaimed;
    }
}

Test(store_rep, a_claim_returns_the_due_touches_under_the_lease)
{
    schedule(1, "t1", "1000", "{\"task_id\":\"t1\"}");
    schedule(1, "t2", "2000", "{\"task_id\":\"t2\"}");
    schedule(1, "t3", "9000", "{\"task_id\":\"t3\"}");
    struct claim_got g = {0};
    cr_assert_eq(cadence_store_claim_due(F.r, &F.due, 1, 5000, 65000, 10, on_claim, &g),
                 CADENCE_REDIS_OK);
    RUN_UNTIL(g.calls == 1);
    cr_assert_str_eq(g.error, "");
    cr_assert_eq(g.n, 2);
    cr_assert_eq(g.scanned, 2);
    cr_assert_str_eq(g.ids[0], "t1");
    cr_assert_str_eq(g.json[1], "{\"task_id\":\"t2\"}");
    cr_assert_eq(g.reclaimed[0], 0);
    char k[CADENCE_KEY_MAX];
    cr_assert_eq(integer("ZSCORE %s %s", cadence_keys_inflight(k, 1), "t1"), 65000);

    /* the lease runs out: the next claim takes both again, as re-claimed */
    struct claim_got again = {0};
    cr_assert_eq(cadence_store_claim_due(F.r, &F.due, 1, 70000, 99000, 10, on_claim, &again),
                 CADENCE_REDIS_OK);
    RUN_UNTIL(again.calls == 1);
    cr_assert_eq(again.n, 3, "t1, t2 re-claimed and t3 now due");
    cr_assert_eq(again.reclaimed[0] + again.reclaimed[1] + again.reclaimed[2], 2);
}

Test(store_rep, a_claim_refuses_bad_arguments_before_sending)
{
    struct claim_got g = {0};
    cr_assert_eq(cadence_store_claim_due(F.r, &F.due, 0, 5000, 4000, 10, on_claim, &g),
                 CADENCE_REDIS_INVALID);
    cr_assert_eq(cadence_store_claim_due(F.r, &F.due, 0, 5000, 6000, 0, on_claim, &g),
                 CADENCE_REDIS_INVALID);
    cr_assert_eq(g.calls, 0);
}

struct ack_got {
    int calls;
    size_t n;
    int open[8];
    char error[128];
};

static void on_ack(const int *open, size_t n, const char *error, void *arg)
{
    struct ack_got *g = arg;
    g->calls++;
    g->n = n;
    snprintf(g->error, sizeof g->error, "%s", error ? error : "");
    for (size_t i = 0; open && i < n && i < 8; i++)
        g->open[i] = open[i];
}

Test(store_rep, queue_and_ack_queues_per_rep_acks_per_shard_and_answers_in_item_order)
{
    schedule(2, "a1", "1000", "{\"task_id\":\"a1\"}");
    schedule(0, "b1", "1000", "{\"task_id\":\"b1\"}");
    schedule(2, "a2", "1000", "{\"task_id\":\"a2\"}");
    schedule(0, "bad", "1000", "not json");
    struct claim_got c0 = {0}, c2 = {0};
    cadence_store_claim_due(F.r, &F.due, 0, 5000, 65000, 10, on_claim, &c0);
    cadence_store_claim_due(F.r, &F.due, 2, 5000, 65000, 10, on_claim, &c2);
    RUN_UNTIL(c0.calls == 1 && c2.calls == 1);
    /* the worker cancels a2 between claim and ack */
    char k[CADENCE_KEY_MAX];
    freeReplyObject(redisCommand(F.sync, "HDEL %s a2", cadence_keys_tasks(k, 2)));

    const cadence_store_ack_item items[] = {
        {2, "a1", 65000, "rep.ann", 1500, "{\"task_id\":\"a1\"}", 17},
        {0, "b1", 65000, "rep.bob", 1000, "{\"task_id\":\"b1\"}", 17},
        {2, "a2", 65000, "rep.ann", 1200, "{\"task_id\":\"a2\"}", 17},
        {0, "bad", 65000, NULL, 0, NULL, 0},
    };
    struct ack_got g = {0};
    cr_assert_eq(cadence_store_queue_and_ack(F.r, &F.due, items, 4, on_ack, &g), CADENCE_REDIS_OK);
    RUN_UNTIL(g.calls == 1);
    cr_assert_str_eq(g.error, "");
    cr_assert_eq(g.n, 4);
    cr_assert_eq(g.open[0], 1);
    cr_assert_eq(g.open[1], 1);
    cr_assert_eq(g.open[2], 0, "cancelled meanwhile");
    cr_assert_eq(g.open[3], 1, "its JSON is still there: acknowledged, never queued");
    cr_assert_eq(integer("ZCARD %s%s", cadence_keys_inflight(k, 2), ""), 0);
    cr_assert_eq(integer("ZCARD %s%s", cadence_keys_inflight(k, 0), ""), 0);
    cr_assert_eq(integer("ZSCORE %s %s", cadence_keys_rep_queue(k, "rep.ann"), "a1"), 1500);
    cr_assert_eq(integer("ZSCORE %s %s", cadence_keys_rep_queue(k, "rep.ann"), "a2"), 1200,
                 "queued before the ack found it cancelled (the caller unqueues it)");
    cr_assert_eq(integer("ZSCORE %s %s", cadence_keys_rep_queue(k, "rep.bob"), "b1"), 1000);
}

Test(store_rep, an_ack_leaves_a_lease_it_does_not_hold)
{
    schedule(3, "t1", "1000", "{}");
    struct claim_got c = {0};
    cadence_store_claim_due(F.r, &F.due, 3, 5000, 65000, 10, on_claim, &c);
    RUN_UNTIL(c.calls == 1);
    const cadence_store_ack_item item = {3, "t1", 64000, NULL, 0, NULL, 0};
    struct ack_got g = {0};
    cr_assert_eq(cadence_store_queue_and_ack(F.r, &F.due, &item, 1, on_ack, &g), CADENCE_REDIS_OK);
    RUN_UNTIL(g.calls == 1);
    char k[CADENCE_KEY_MAX];
    cr_assert_eq(integer("ZSCORE %s %s", cadence_keys_inflight(k, 3), "t1"), 65000);
}

/* ------------------------------------------------------------------ the rep's queue */

struct queue_got {
    int calls;
    size_t n;
    char ids[8][32];
    long long due[8];
    char json[8][64];
    char error[128];
};

static void on_queue(const cadence_store_queued *t, size_t n, const char *error, void *arg)
{
    struct queue_got *g = arg;
    g->calls++;
    g->n = n;
    snprintf(g->error, sizeof g->error, "%s", error ? error : "");
    for (size_t i = 0; t && i < n && i < 8; i++) {
        snprintf(g->ids[i], sizeof g->ids[i], "%.*s", (int)t[i].task_id_len, t[i].task_id);
        g->due[i] = t[i].due_ms;
        if (t[i].task_json)
            snprintf(g->json[i], sizeof g->json[i], "%.*s", (int)t[i].task_json_len,
                     t[i].task_json);
        else
            snprintf(g->json[i], sizeof g->json[i], "(null)");
    }
}

static void on_done(const char *error, void *arg)
{
    int *calls = arg;
    cr_assert_null(error, "%s", error);
    (*calls)++;
}

Test(store_rep, the_queue_reads_due_tasks_in_order_and_an_unqueued_task_leaves_it)
{
    char q[CADENCE_KEY_MAX], t[CADENCE_KEY_MAX];
    cadence_keys_rep_queue(q, "rep.ann");
    cadence_keys_rep_tasks(t, "rep.ann");
    freeReplyObject(redisCommand(F.sync, "ZADD %s 300 t3 100 t1 200 t2 900 t9", q));
    freeReplyObject(redisCommand(F.sync, "HSET %s t1 {\"a\":1} t3 {\"c\":3}", t));
    struct queue_got g = {0};
    cr_assert_eq(cadence_store_read_queue(F.r, F.read_queue, "rep.ann", 500, 10, on_queue, &g),
                 CADENCE_REDIS_OK);
    RUN_UNTIL(g.calls == 1);
    cr_assert_str_eq(g.error, "");
    cr_assert_eq(g.n, 3, "t9 is not due yet");
    cr_assert_str_eq(g.ids[0], "t1");
    cr_assert_eq(g.due[0], 100);
    cr_assert_str_eq(g.json[0], "{\"a\":1}");
    cr_assert_str_eq(g.json[1], "(null)", "no JSON for t2");
    cr_assert_str_eq(g.ids[2], "t3");

    int calls = 0;
    cr_assert_eq(cadence_store_unqueue_task(F.r, "rep.ann", "t1", on_done, &calls),
                 CADENCE_REDIS_OK);
    RUN_UNTIL(calls == 1);
    cr_assert_eq(integer("ZSCORE %s %s", q, "t1"), -1);
    cr_assert_eq(integer("HEXISTS %s %s", t, "t1"), 0);
    struct queue_got after = {0};
    cadence_store_read_queue(F.r, F.read_queue, "rep.ann", 500, 1, on_queue, &after);
    RUN_UNTIL(after.calls == 1);
    cr_assert_eq(after.n, 1, "the limit holds");
    cr_assert_str_eq(after.ids[0], "t2");
}

/* ------------------------------------------------------------------ alerts */

struct alerts_got {
    int calls;
    size_t n;
    int appended[8];
    char ids[8][40];
    char json[8][64];
    char error[128];
};

static void on_append(const int *appended, size_t n, const char *error, void *arg)
{
    struct alerts_got *g = arg;
    g->calls++;
    g->n = n;
    snprintf(g->error, sizeof g->error, "%s", error ? error : "");
    for (size_t i = 0; appended && i < n && i < 8; i++)
        g->appended[i] = appended[i];
}

static void on_alerts(const cadence_store_alert *e, size_t n, const char *error, void *arg)
{
    struct alerts_got *g = arg;
    g->calls++;
    g->n = n;
    snprintf(g->error, sizeof g->error, "%s", error ? error : "");
    for (size_t i = 0; e && i < n && i < 8; i++) {
        snprintf(g->ids[i], sizeof g->ids[i], "%s", e[i].id);
        snprintf(g->json[i], sizeof g->json[i], "%.*s", (int)e[i].json_len,
                 e[i].json ? e[i].json : "(null)");
    }
}

struct poll_got {
    int calls;
    size_t reps;
    size_t n[4];
    char first[4][64];
};

static void on_poll(const cadence_store_alert *const *e, const size_t *n, size_t reps,
                    const char *error, void *arg)
{
    struct poll_got *g = arg;
    cr_assert_null(error, "%s", error);
    g->calls++;
    g->reps = reps;
    for (size_t i = 0; i < reps && i < 4; i++) {
        g->n[i] = n[i];
        snprintf(g->first[i], sizeof g->first[i], "%.*s", n[i] ? (int)e[i][0].json_len : 0,
                 n[i] ? e[i][0].json : "");
    }
}

static const cadence_store_alert_limits limits = {1000, 10000};

Test(store_rep, alerts_are_appended_once_per_dedupe_id_and_read_back_in_order)
{
    const cadence_store_alert_in in[] = {
        {"rep.ann", "al-1", "{\"n\":1}", 7},
        {"rep.ann", "al-2", "{\"n\":2}", 7},
        {"rep.ann", "al-1", "{\"n\":1}", 7},
        {"rep.bob", "al-3", "{\"n\":3}", 7},
    };
    struct alerts_got g = {0};
    cr_assert_eq(cadence_store_append_alerts(F.r, F.append, in, 4, &limits, 1000, on_append, &g),
                 CADENCE_REDIS_OK);
    RUN_UNTIL(g.calls == 1);
    cr_assert_str_eq(g.error, "");
    cr_assert_eq(g.n, 4);
    cr_assert_eq(g.appended[0] + g.appended[1] + g.appended[2] + g.appended[3], 3);
    cr_assert_eq(g.appended[2], 0, "the same alert id again");

    struct alerts_got all = {0}, newest = {0}, after = {0};
    cadence_store_read_alerts_after(F.r, "rep.ann", "0-0", 10, on_alerts, &all);
    cadence_store_read_alerts_newest(F.r, "rep.ann", 1, on_alerts, &newest);
    RUN_UNTIL(all.calls == 1 && newest.calls == 1);
    cr_assert_eq(all.n, 2);
    cr_assert_str_eq(all.json[0], "{\"n\":1}");
    cr_assert_str_eq(all.json[1], "{\"n\":2}");
    cr_assert_eq(newest.n, 1);
    cr_assert_str_eq(newest.json[0], "{\"n\":2}");
    cadence_store_read_alerts_after(F.r, "rep.ann", all.ids[0], 10, on_alerts, &after);
    RUN_UNTIL(after.calls == 1);
    cr_assert_eq(after.n, 1, "after is exclusive");
    cr_assert_str_eq(after.ids[0], all.ids[1]);

    const cadence_store_alert_cursor cur[] = {
        {"rep.ann", all.ids[0]}, {"rep.bob", "0-0"}, {"rep.cy", "0-0"}};
    struct poll_got p = {0};
    cr_assert_eq(cadence_store_poll_alerts(F.r, cur, 3, 100, on_poll, &p), CADENCE_REDIS_OK);
    RUN_UNTIL(p.calls == 1);
    cr_assert_eq(p.reps, 3);
    cr_assert_eq(p.n[0], 1);
    cr_assert_str_eq(p.first[0], "{\"n\":2}");
    cr_assert_eq(p.n[1], 1);
    cr_assert_str_eq(p.first[1], "{\"n\":3}");
    cr_assert_eq(p.n[2], 0, "a rep without a stream has nothing new");
}

/* ------------------------------------------------------------------ stats, lead view, links */

struct view_got {
    int calls;
    char state[64];
    int has_state;
    size_t n;
    char first[64];
};

static void on_view(const cadence_store_lead_view *v, const char *error, void *arg)
{
    struct view_got *g = arg;
    cr_assert_null(error, "%s", error);
    g->calls++;
    g->has_state = v->state != NULL;
    snprintf(g->state, sizeof g->state, "%.*s", (int)v->state_len, v->state ? v->state : "");
    g->n = v->n_timeline;
    if (v->n_timeline)
        snprintf(g->first, sizeof g->first, "%.*s", (int)v->timeline_len[0], v->timeline[0]);
}

Test(store_rep, the_lead_view_reads_state_and_newest_timeline_entries)
{
    uint32_t shard = cadence_keys_shard("L-7", 4);
    char k[CADENCE_KEY_MAX];
    freeReplyObject(redisCommand(F.sync, "HSET %s v 3 s {\"rep_id\":\"rep.ann\"}",
                                 cadence_keys_lead_state(k, shard, "L-7")));
    freeReplyObject(redisCommand(F.sync, "LPUSH %s {\"e\":1} {\"e\":2} {\"e\":3}",
                                 cadence_keys_timeline(k, shard, "L-7")));
    struct view_got g = {0}, none = {0};
    cr_assert_eq(cadence_store_read_lead_view(F.r, "L-7", 4, 2, on_view, &g), CADENCE_REDIS_OK);
    cr_assert_eq(cadence_store_read_lead_view(F.r, "L-8", 4, 2, on_view, &none), CADENCE_REDIS_OK);
    RUN_UNTIL(g.calls == 1 && none.calls == 1);
    cr_assert_str_eq(g.state, "{\"rep_id\":\"rep.ann\"}");
    cr_assert_eq(g.n, 2, "timeline_max entries");
    cr_assert_str_eq(g.first, "{\"e\":3}", "newest first");
    cr_assert_eq(none.has_state, 0);
    cr_assert_eq(none.n, 0);
}

Test(store_rep, several_emails_are_linked_in_one_call)
{
    const cadence_store_email_lead links[] = {{"Ann@Example.com", "L1"}, {"bob@example.com", "L2"}};
    int calls = 0;
    cr_assert_eq(cadence_store_link_emails(F.r, links, 2, 4, on_done, &calls), CADENCE_REDIS_OK);
    RUN_UNTIL(calls == 1);
    char k[CADENCE_KEY_MAX];
    redisReply *r = redisCommand(F.sync, "GET %s", cadence_keys_email(k, "ann@example.com", 4));
    cr_assert_str_eq(r->str, "L1");
    freeReplyObject(r);
    r = redisCommand(F.sync, "GET %s", cadence_keys_email(k, "bob@example.com", 4));
    cr_assert_str_eq(r->str, "L2");
    freeReplyObject(r);
}
