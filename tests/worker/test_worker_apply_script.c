/*
 * The worker's apply script (services/worker/apply_script.c) against a private redis-server:
 * one event applied once, a replay returns the recorded outbox, a stale version is refused,
 * bad arguments are refused before any write, and the timeline keeps its newest 200 entries.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "apply_script.h"
#include "pipeline.h"
#include "redis_suite.h"

TestSuite(apply_script, .init = redis_suite_setup, .fini = redis_suite_teardown);

/* Applies event `ev` at `version`: drops task `cancel` ("" none), sets task `task`, adds a
 * timeline entry and one counter; mode "apply". */
static redisReply *apply_tasks(const char *ev, long version, const char *state, const char *delta,
                               const char *cancel, const char *task)
{
    char evkey[96], v[24], timeline[96];
    snprintf(evkey, sizeof evkey, "cad:{s0}:ev:%s", ev);
    snprintf(v, sizeof v, "%ld", version);
    snprintf(timeline, sizeof timeline, "{\"event_id\":\"%s\"}", ev);
    char ttl[16], cap[16];
    snprintf(ttl, sizeof ttl, "%d", WORKER_EVENT_RECORD_TTL_S);
    snprintf(cap, sizeof cap, "%d", WORKER_TIMELINE_CAP);
    const char *argv[] = {"EVAL",
                          worker_apply_lua,
                          "6",
                          "cad:{s0}:lead:L1",
                          evkey,
                          "cad:{s0}:due",
                          "cad:{s0}:tasks",
                          "cad:{s0}:timeline:L1",
                          "cad:{s0}:stats",
                          "apply",
                          v,
                          state,
                          "[{\"topic\":\"alerts.v1\",\"key\":\"L1\",\"value\":{}}]",
                          ttl,
                          "set",
                          cancel,
                          task,
                          "1000",
                          "{\"task_id\":\"task-1\"}",
                          timeline,
                          cap,
                          "1",
                          "attempts",
                          delta};
    return cmd((int)(sizeof argv / sizeof argv[0]), argv);
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
    r = CMD("EXISTS", "cad:{s0}:ev:e2");
    cr_assert_eq(r->integer, 0, "a refused event leaves no record");
    freeReplyObject(r);
    cr_assert_eq(llen("cad:{s0}:timeline:L1"), 1);
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
    int n = WORKER_TIMELINE_CAP + 7;
    for (int i = 0; i < n; i++) {
        char ev[16];
        snprintf(ev, sizeof ev, "e%d", i);
        redisReply *r = apply(ev, i, "{}", "1");
        assert_verdict(r, "ok");
        freeReplyObject(r);
    }
    cr_assert_eq(llen("cad:{s0}:timeline:L1"), WORKER_TIMELINE_CAP);
    redisReply *r = CMD("LINDEX", "cad:{s0}:timeline:L1", "0");
    char newest[64];
    snprintf(newest, sizeof newest, "{\"event_id\":\"e%d\"}", n - 1);
    cr_assert_str_eq(r->str, newest);
    freeReplyObject(r);
    r = CMD("LINDEX", "cad:{s0}:timeline:L1", "-1");
    char oldest[64];
    snprintf(oldest, sizeof oldest, "{\"event_id\":\"e%d\"}", n - WORKER_TIMELINE_CAP);
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
