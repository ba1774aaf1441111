/*
 * The apply script (common/store/lua/apply_event.lua) against a private redis-server:
 * one event applied once, a replay returns the recorded outbox, a redelivery below its
 * source's watermark is a duplicate however old, the watermark never passes an event still to
 * be applied, the lead's dedupe memory is bounded, a stale version is refused, bad arguments
 * are refused before any write, and the timeline keeps its newest 200 entries.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_suite.h"
#include "store/scripts.h"

TestSuite(apply_script, .init = redis_suite_setup, .fini = redis_suite_teardown);

/* One call of the script: event `ev` from source `src` ("" none) at `offset` with `floor`,
 * at `version`, with outputs `outbox`; drops task `cancel` ("" none), sets task `task`, adds a
 * timeline entry and one counter. */
struct call {
    const char *mode, *ev, *src;
    long offset, floor, version;
    const char *state, *outbox, *delta, *cancel, *task;
    const char *after;   /* a chained apply: the event that must have written `version` */
    const char *expire;  /* when the stats hash expires (NULL: "0", never) */
    const char *counter; /* the counter's name (NULL: "attempts") */
};

static redisReply *run(struct call c)
{
    char v[96], off[24], fl[24], timeline[96], cap[16], outs[16];
    if (c.after)
        snprintf(v, sizeof v, "%ld %s", c.version, c.after);
    else
        snprintf(v, sizeof v, "%ld", c.version);
    snprintf(off, sizeof off, "%ld", c.offset);
    snprintf(fl, sizeof fl, "%ld", c.floor);
    snprintf(timeline, sizeof timeline, "{\"event_id\":\"%s\"}", c.ev);
    snprintf(cap, sizeof cap, "%d", CADENCE_STORE_TIMELINE_CAP);
    snprintf(outs, sizeof outs, "%d", CADENCE_STORE_OUTBOXES);
    const char *argv[] = {"EVAL",
                          cadence_lua_apply_event,
                          "5",
                          "cad:{s0}:lead:L1",
                          "cad:{s0}:due",
                          "cad:{s0}:tasks",
                          "cad:{s0}:timeline:L1",
                          "cad:{s0}:stats",
                          c.mode ? c.mode : "apply",
                          c.ev,
                          c.src ? c.src : "",
                          off,
                          fl,
                          v,
                          c.state ? c.state : "{}",
                          c.outbox ? c.outbox
                                   : "[{\"topic\":\"alerts.v1\",\"key\":\"L1\",\"value\":{}}]",
                          "set",
                          c.cancel ? c.cancel : "",
                          c.task ? c.task : "task-1",
                          "1000",
                          "{\"task_id\":\"task-1\"}",
                          timeline,
                          cap,
                          outs,
                          c.expire ? c.expire : "0",
                          "1",
                          c.counter ? c.counter : "attempts",
                          c.delta ? c.delta : "1"};
    return cmd((int)(sizeof argv / sizeof argv[0]), argv);
}

static redisReply *apply_tasks(const char *ev, long version, const char *state, const char *delta,
                               const char *cancel, const char *task)
{
    return run((struct call){.ev = ev,
                             .offset = -1,
                             .floor = -1,
                             .version = version,
                             .state = state,
                             .delta = delta,
                             .cancel = cancel,
                             .task = task});
}

static redisReply *apply(const char *ev, long version, const char *state, const char *delta)
{
    return apply_tasks(ev, version, state, delta, "", "task-1");
}

static void assert_verdict(redisReply *r, const char *verdict)
{
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "type %d %s", r->type,
                 r->type == REDIS_REPLY_ERROR ? r->str : "");
    cr_assert_str_eq(r->element[0]->str, verdict);
}

static long long llen(const char *key)
{
    redisReply *r = CMD("LLEN", key);
    long long n = r->integer;
    freeReplyObject(r);
    return n;
}

Test(apply_script, applies_once_and_replays_the_outbox)
{
    redisReply *r = apply("e1", 0, "{\"s\":1}", "1");
    assert_verdict(r, "ok");
    cr_assert_str_eq(r->element[1]->str, "1");
    freeReplyObject(r);
    r = apply("e1", 1, "{\"s\":2}", "1"); /* the same event again */
    assert_verdict(r, "dup");
    cr_assert(strstr(r->element[1]->str, "\"topic\":\"alerts.v1\""));
    freeReplyObject(r);
    r = CMD("HGET", "cad:{s0}:lead:L1", "s");
    cr_assert_str_eq(r->str, "{\"s\":1}");
    freeReplyObject(r);
    r = CMD("HGET", "cad:{s0}:stats", "attempts");
    cr_assert_str_eq(r->str, "1");
    freeReplyObject(r);
    r = CMD("ZSCORE", "cad:{s0}:due", "task-1");
    cr_assert_str_eq(r->str, "1000");
    freeReplyObject(r);
    cr_assert_eq(llen("cad:{s0}:timeline:L1"), 1);
}

Test(apply_script, refuses_a_stale_version)
{
    freeReplyObject(apply("e1", 0, "{\"s\":1}", "1"));
    redisReply *r = apply("e2", 0, "{\"s\":2}", "1"); /* computed from version 0 again */
    assert_verdict(r, "conflict");
    cr_assert_str_eq(r->element[1]->str, "1");
    freeReplyObject(r);
    r = CMD("HEXISTS", "cad:{s0}:lead:L1", "x:e2");
    cr_assert_eq(r->integer, 0, "a refused event leaves no record");
    freeReplyObject(r);
    cr_assert_eq(llen("cad:{s0}:timeline:L1"), 1);
}

/* Two workers: ours sends e1 (expects 0) and e2 chained to it (expects 1 after e1) together,
 * while the other worker's e-other already wrote version 1. e1 is refused; e2 must be too,
 * not overwrite e-other's write because the version number matches. */
Test(apply_script, a_chained_apply_after_a_refused_one_is_refused_too)
{
    freeReplyObject(apply("e-other", 0, "{\"by\":\"other\"}", "1"));
    redisReply *r = apply("e1", 0, "{\"by\":\"us-1\"}", "1");
    assert_verdict(r, "conflict");
    freeReplyObject(r);
    r = run((struct call){.ev = "e2",
                          .offset = -1,
                          .floor = -1,
                          .version = 1,
                          .state = "{\"by\":\"us-2\"}",
                          .after = "e1"});
    assert_verdict(r, "conflict");
    freeReplyObject(r);
    r = CMD("HGET", "cad:{s0}:lead:L1", "s");
    cr_assert_str_eq(r->str, "{\"by\":\"other\"}", "the other worker's write stands");
    freeReplyObject(r);
    /* The same chain when its first apply goes through: both apply. */
    r = run((struct call){.ev = "e3",
                          .offset = -1,
                          .floor = -1,
                          .version = 1,
                          .state = "{\"by\":\"us-3\"}",
                          .after = "e-other"});
    assert_verdict(r, "ok");
    freeReplyObject(r);
    r = run((struct call){.ev = "e4",
                          .offset = -1,
                          .floor = -1,
                          .version = 2,
                          .state = "{\"by\":\"us-4\"}",
                          .after = "e3"});
    assert_verdict(r, "ok");
    cr_assert_str_eq(r->element[1]->str, "3");
    freeReplyObject(r);
}

Test(apply_script, bad_arguments_write_nothing)
{
    redisReply *r = apply("e1", 0, "{\"s\":1}", "not-a-number");
    cr_assert_eq(r->type, REDIS_REPLY_ERROR);
    cr_assert(strstr(r->str, "bad counter delta"), "%s", r->str);
    freeReplyObject(r);
    r = CMD("DBSIZE");
    cr_assert_eq(r->integer, 0, "validated before the first write");
    freeReplyObject(r);
}

Test(apply_script, timeline_keeps_the_newest_entries)
{
    int n = CADENCE_STORE_TIMELINE_CAP + 7;
    for (int i = 0; i < n; i++) {
        char ev[16];
        snprintf(ev, sizeof ev, "e%d", i);
        redisReply *r = apply(ev, i, "{}", "1");
        assert_verdict(r, "ok");
        freeReplyObject(r);
    }
    cr_assert_eq(llen("cad:{s0}:timeline:L1"), CADENCE_STORE_TIMELINE_CAP);
    redisReply *r = CMD("LINDEX", "cad:{s0}:timeline:L1", "0");
    char newest[64];
    snprintf(newest, sizeof newest, "{\"event_id\":\"e%d\"}", n - 1);
    cr_assert_str_eq(r->str, newest);
    freeReplyObject(r);
    r = CMD("LINDEX", "cad:{s0}:timeline:L1", "-1");
    char oldest[64];
    snprintf(oldest, sizeof oldest, "{\"event_id\":\"e%d\"}", n - CADENCE_STORE_TIMELINE_CAP);
    cr_assert_str_eq(r->str, oldest);
    freeReplyObject(r);
}

/* The script says whether the task it dropped was still due (never claimed by a scheduler,
 * so in no rep's queue): the worker then skips the rep-queue clean-up. */
Test(apply_script, tells_whether_a_dropped_task_was_never_claimed)
{
    freeReplyObject(apply_tasks("e1", 0, "{}", "1", "", "task-1"));
    redisReply *r = apply_tasks("e2", 1, "{}", "1", "task-1", "task-2");
    assert_verdict(r, "ok");
    cr_assert_eq(r->elements, 3);
    cr_assert_eq(r->element[2]->integer, 1, "task-1 was still due");
    freeReplyObject(r);
    freeReplyObject(CMD("ZREM", "cad:{s0}:due", "task-2")); /* a scheduler claims task-2 */
    r = apply_tasks("e3", 2, "{}", "1", "task-2", "task-3");
    assert_verdict(r, "ok");
    cr_assert_eq(r->element[2]->integer, 0, "task-2 was claimed: its rep's queue needs the fix");
    freeReplyObject(r);
    r = CMD("HEXISTS", "cad:{s0}:tasks", "task-2");
    cr_assert_eq(r->integer, 0);
    freeReplyObject(r);
}

static long long hlen(void)
{
    redisReply *r = CMD("HLEN", "cad:{s0}:lead:L1");
    long long n = r->integer;
    freeReplyObject(r);
    return n;
}

/* A crash after the apply, before the offsets were stored: the same offset comes again, long
 * after its id left the engine's ring of ids in the state (32). */
Test(apply_script, a_redelivery_at_or_below_the_watermark_is_a_duplicate)
{
    int n = 40;
    for (int i = 0; i < n; i++) {
        char ev[16];
        snprintf(ev, sizeof ev, "e%d", i);
        redisReply *r = run((struct call){.ev = ev,
                                          .src = "leads.v1:3",
                                          .offset = 100 + i,
                                          .floor = 100 + i,
                                          .version = i,
                                          .outbox = "[]"});
        assert_verdict(r, "ok");
        freeReplyObject(r);
    }
    redisReply *r = run(
        (struct call){.ev = "e0", .src = "leads.v1:3", .offset = 100, .floor = 100, .version = n});
    assert_verdict(r, "dup");
    cr_assert_str_eq(r->element[1]->str, "", "no outputs were recorded");
    freeReplyObject(r);
    /* the same offset of another partition is another event */
    r = run(
        (struct call){.ev = "f0", .src = "leads.v1:4", .offset = 100, .floor = 100, .version = n});
    assert_verdict(r, "ok");
    freeReplyObject(r);
    r = CMD("HGET", "cad:{s0}:stats", "attempts");
    cr_assert_eq(atoi(r->str), n + 1);
    freeReplyObject(r);
}

/* A producer retry: the same event id at another offset while its outputs are unacknowledged
 * is a duplicate, and the outbox comes back with it (once they are acknowledged, the engine's
 * ring of ids in the state recognises the id before any write). */
Test(apply_script, the_same_event_id_at_another_offset_is_a_duplicate)
{
    freeReplyObject(
        run((struct call){.ev = "e1", .src = "visits:0", .offset = 7, .floor = 7, .version = 0}));
    redisReply *r =
        run((struct call){.ev = "e1", .src = "visits:0", .offset = 9, .floor = 9, .version = 1});
    assert_verdict(r, "dup");
    cr_assert(strstr(r->element[1]->str, "alerts.v1"), "%s", r->element[1]->str);
    freeReplyObject(r);
    r = run((struct call){
        .mode = "check", .ev = "e1", .src = "visits:2", .offset = 1, .floor = 1, .version = 1});
    assert_verdict(r, "dup");
    freeReplyObject(r);
    r = run((struct call){
        .mode = "check", .ev = "e2", .src = "visits:0", .offset = 10, .floor = 10, .version = 1});
    assert_verdict(r, "noop");
    freeReplyObject(r);
}

/* The worker applies a lead's events in time order: offset 12 first with floor 10 (offset 11
 * is still to come), then 11; the watermark never claims 11 before it is applied. */
Test(apply_script, the_watermark_never_passes_an_event_still_to_be_applied)
{
    redisReply *r =
        run((struct call){.ev = "late", .src = "o:1", .offset = 12, .floor = 10, .version = 0});
    assert_verdict(r, "ok");
    freeReplyObject(r);
    r = run((struct call){.ev = "early", .src = "o:1", .offset = 11, .floor = 12, .version = 1});
    assert_verdict(r, "ok");
    freeReplyObject(r);
    r = CMD("HGET", "cad:{s0}:lead:L1", "w:o:1");
    cr_assert_str_eq(r->str, "12");
    freeReplyObject(r);
    r = run((struct call){.ev = "again", .src = "o:1", .offset = 11, .floor = 11, .version = 2});
    assert_verdict(r, "dup");
    freeReplyObject(r);
}

/* However many events a lead gets, its hash keeps a bounded number of ids and outboxes. */
Test(apply_script, a_leads_dedupe_memory_is_bounded)
{
    int n = 100;
    for (int i = 0; i < n; i++) {
        char ev[16];
        snprintf(ev, sizeof ev, "ev-%d", i);
        redisReply *r =
            run((struct call){.ev = ev, .src = "t:0", .offset = i, .floor = i, .version = i});
        assert_verdict(r, "ok");
        freeReplyObject(r);
    }
    /* v, s, e, one watermark, xr and the last outboxes (none dropped by a worker here) */
    cr_assert_eq(hlen(), 5 + CADENCE_STORE_OUTBOXES);
    char last[32];
    snprintf(last, sizeof last, "x:ev-%d", n - 1);
    redisReply *r = CMD("HEXISTS", "cad:{s0}:lead:L1", last);
    cr_assert_eq(r->integer, 1);
    freeReplyObject(r);
    r = CMD("DBSIZE");
    cr_assert_eq(r->integer, 5, "lead, due, tasks, timeline, stats: no key per event");
    freeReplyObject(r);
}

Test(apply_script, a_malformed_event_id_is_refused)
{
    redisReply *r = run((struct call){.ev = "a b", .offset = -1, .floor = -1});
    cr_assert_eq(r->type, REDIS_REPLY_ERROR);
    cr_assert(strstr(r->str, "bad event"), "%s", r->str);
    freeReplyObject(r);
    r = run((struct call){.ev = "", .offset = -1, .floor = -1});
    cr_assert_eq(r->type, REDIS_REPLY_ERROR);
    freeReplyObject(r);
    r = CMD("DBSIZE");
    cr_assert_eq(r->integer, 0);
    freeReplyObject(r);
}

Test(apply_script, the_stats_hash_gets_its_expiry_when_a_counter_creates_a_field)
{
    redisReply *r = run(
        (struct call){.ev = "e1", .offset = -1, .floor = -1, .version = 0, .expire = "4102444800"});
    cr_assert_str_eq(r->element[0]->str, "ok");
    freeReplyObject(r);
    r = CMD("EXPIRETIME", "cad:{s0}:stats");
    cr_assert_eq(r->integer, 4102444800LL, "the new hash expires");
    freeReplyObject(r);
    /* Without an expiry now, a counter that only grows an existing field leaves it so: the
     * script does not repeat EXPIREAT on every apply. */
    freeReplyObject(CMD("PERSIST", "cad:{s0}:stats"));
    r = run((struct call){.ev = "e2",
                          .offset = -1,
                          .floor = -1,
                          .version = 1,
                          .expire = "4102444800",
                          .cancel = "task-1",
                          .task = "task-2"});
    cr_assert_str_eq(r->element[0]->str, "ok");
    freeReplyObject(r);
    r = CMD("EXPIRETIME", "cad:{s0}:stats");
    cr_assert_eq(r->integer, -1, "no EXPIREAT for a field that existed");
    freeReplyObject(r);
    r = run((struct call){.ev = "e3",
                          .offset = -1,
                          .floor = -1,
                          .version = 2,
                          .expire = "4102444800",
                          .cancel = "task-2",
                          .task = "task-3",
                          .counter = "dials"});
    cr_assert_str_eq(r->element[0]->str, "ok");
    freeReplyObject(r);
    r = CMD("EXPIRETIME", "cad:{s0}:stats");
    cr_assert_eq(r->integer, 4102444800LL, "a new field sets it again");
    freeReplyObject(r);
    r = CMD("HGET", "cad:{s0}:stats", "attempts");
    cr_assert_str_eq(r->str, "2");
    freeReplyObject(r);
}
