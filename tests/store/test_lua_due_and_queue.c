/*
 * The due-touch and rep-queue scripts (common/store/lua/claim_due, ack_due, queue_tasks)
 * against a private redis-server (a task leaves a rep's queue through cadence_store_unqueue_task,
 * tested in test_store_ops.c):
 * what a claim takes, what an ack keeps, how the rep's queue is kept.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <string.h>

#include "redis_suite.h"
#include "store/scripts.h"

TestSuite(scheduler_scripts, .init = redis_suite_setup, .fini = redis_suite_teardown);

static void put_task(const char *id, const char *due)
{
    char json[128];
    snprintf(json, sizeof(json), "{\"task_id\":\"%s\"}", id);
    freeReplyObject(CMD("ZADD", "cad:{s0}:due", due, id));
    freeReplyObject(CMD("HSET", "cad:{s0}:tasks", id, json));
}

/* Runs the ack script for one task; returns its verdict (1 open, 0 cancelled). */
static long long ack1(const char *id, const char *lease)
{
    redisReply *r =
        CMD("EVAL", cadence_lua_ack_due, "2", "cad:{s0}:inflight", "cad:{s0}:tasks", id, lease);
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "%s", r->type == REDIS_REPLY_ERROR ? r->str : "");
    cr_assert_eq(r->elements, 1);
    long long v = r->element[0]->integer;
    freeReplyObject(r);
    return v;
}

static redisReply *claim(const char *now, const char *deadline, const char *limit)
{
    redisReply *r = CMD("EVAL", cadence_lua_claim_due, "3", "cad:{s0}:due", "cad:{s0}:tasks",
                        "cad:{s0}:inflight", now, deadline, limit);
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "%s", r->type == REDIS_REPLY_ERROR ? r->str : "");
    return r;
}

Test(scheduler_scripts, a_claim_takes_due_entries_into_flight_with_the_lease)
{
    put_task("t1", "1000");
    put_task("t2", "2000");
    put_task("t3", "9000"); /* not due yet */
    redisReply *r = claim("5000", "35000", "10");
    cr_assert_eq(r->element[0]->integer, 2, "two entries looked at");
    cr_assert_eq(r->elements, 1 + 2 * 3);
    cr_assert_str_eq(r->element[1]->str, "t1");
    cr_assert_str_eq(r->element[2]->str, "{\"task_id\":\"t1\"}");
    cr_assert_eq(r->element[3]->integer, 0, "not a re-claim");
    cr_assert_str_eq(r->element[4]->str, "t2");
    freeReplyObject(r);
    cr_assert_eq(integer(CMD("ZCARD", "cad:{s0}:due")), 1, "t3 waits");
    redisReply *s = CMD("ZSCORE", "cad:{s0}:inflight", "t1");
    cr_assert_str_eq(s->str, "35000");
    freeReplyObject(s);
    r = claim("5000", "35000", "10");
    cr_assert_eq(r->elements, 1, "a second claimer gets nothing: claims are disjoint");
    freeReplyObject(r);
}

Test(scheduler_scripts, a_full_batch_says_so_and_the_next_claim_takes_the_rest)
{
    char id[16];
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof(id), "t%d", i);
        put_task(id, "100");
    }
    redisReply *r = claim("5000", "6000", "3");
    cr_assert_eq(r->element[0]->integer, 3, "scanned == limit: claim again");
    freeReplyObject(r);
    r = claim("5000", "6000", "3");
    cr_assert_eq(r->element[0]->integer, 2);
    cr_assert_eq(r->elements, 1 + 2 * 3);
    freeReplyObject(r);
}

Test(scheduler_scripts, an_expired_lease_is_claimed_again_unless_the_task_was_cancelled)
{
    put_task("kept", "100");
    put_task("cancelled", "100");
    freeReplyObject(claim("1000", "2000", "10"));
    freeReplyObject(CMD("HDEL", "cad:{s0}:tasks", "cancelled"));
    redisReply *r = claim("1500", "2500", "10");
    cr_assert_eq(r->elements, 1, "leases not expired yet");
    freeReplyObject(r);
    r = claim("2000", "32000", "10");
    cr_assert_eq(r->elements, 1 + 3);
    cr_assert_str_eq(r->element[1]->str, "kept");
    cr_assert_eq(r->element[3]->integer, 1, "flagged as re-claimed");
    freeReplyObject(r);
    cr_assert_eq(integer(CMD("ZCARD", "cad:{s0}:inflight")), 1, "the cancelled one is dropped");
    redisReply *s = CMD("ZSCORE", "cad:{s0}:inflight", "kept");
    cr_assert_str_eq(s->str, "32000", "the new lease");
    freeReplyObject(s);
}

Test(scheduler_scripts, an_ack_drops_only_its_own_lease_and_says_whether_the_task_is_open)
{
    put_task("t1", "100");
    freeReplyObject(claim("1000", "2000", "10"));
    const char *k1 = "cad:{s0}:inflight", *k2 = "cad:{s0}:tasks";
    cr_assert_eq(ack1("t1", "1999"), 1);
    cr_assert_eq(integer(CMD("ZCARD", k1)), 1, "another lease (re-claimed) is left alone");
    cr_assert_eq(ack1("t1", "2000"), 1);
    cr_assert_eq(integer(CMD("ZCARD", k1)), 0);
    cr_assert_eq(integer(CMD("HEXISTS", k2, "t1")), 1, "an open task keeps its JSON");
    freeReplyObject(CMD("HDEL", k2, "t1"));
    cr_assert_eq(ack1("t1", "2000"), 0, "cancelled meanwhile");
}

Test(scheduler_scripts, one_ack_call_answers_for_many_tasks_in_order)
{
    put_task("a", "100");
    put_task("b", "100");
    put_task("c", "100");
    freeReplyObject(claim("1000", "2000", "10"));
    freeReplyObject(CMD("HDEL", "cad:{s0}:tasks", "b"));
    redisReply *r = CMD("EVAL", cadence_lua_ack_due, "2", "cad:{s0}:inflight", "cad:{s0}:tasks",
                        "a", "2000", "b", "2000", "c", "2000");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 3);
    cr_assert_eq(r->element[0]->integer, 1);
    cr_assert_eq(r->element[1]->integer, 0, "b was cancelled");
    cr_assert_eq(r->element[2]->integer, 1);
    freeReplyObject(r);
    cr_assert_eq(integer(CMD("ZCARD", "cad:{s0}:inflight")), 0);
    const char *q = "cad:{r:rep.a}:queue", *h = "cad:{r:rep.a}:tasks";
    cr_assert_eq(integer(CMD("EVAL", cadence_lua_queue_tasks, "2", q, h, "300", "a", "{\"a\":1}",
                             "100", "c", "{\"c\":1}")),
                 2);
    r = CMD("ZRANGE", q, "0", "-1");
    cr_assert_eq(r->elements, 2);
    cr_assert_str_eq(r->element[0]->str, "c", "ordered by due time");
    freeReplyObject(r);
}

Test(scheduler_scripts, the_rep_queue_orders_by_due_and_prunes_stale_json)
{
    const char *q = "cad:{r:rep.a}:queue", *h = "cad:{r:rep.a}:tasks";
    char id[16], due[16];
    for (int i = 0; i < 40; i++) {
        snprintf(id, sizeof(id), "t%d", i);
        snprintf(due, sizeof(due), "%d", 1000 - i);
        cr_assert_eq(integer(CMD("EVAL", cadence_lua_queue_tasks, "2", q, h, due, id, "{}")), 1);
        /* the worker answers every task but the last: ZREM from the queue only */
        if (i < 39)
            freeReplyObject(CMD("ZREM", q, id));
    }
    cr_assert_eq(integer(CMD("ZCARD", q)), 1);
    cr_assert_leq(integer(CMD("HLEN", h)), 2 * 1 + 16 + 1, "stale JSON is pruned");
    cr_assert_eq(integer(CMD("HEXISTS", h, "t39")), 1, "the open task's JSON stays");
}

Test(scheduler_scripts, bad_arguments_are_refused_before_any_write)
{
    put_task("t1", "100");
    redisReply *r = CMD("EVAL", cadence_lua_claim_due, "3", "cad:{s0}:due", "cad:{s0}:tasks",
                        "cad:{s0}:inflight", "x", "2000", "10");
    cr_assert_eq(r->type, REDIS_REPLY_ERROR);
    freeReplyObject(r);
    cr_assert_eq(integer(CMD("ZCARD", "cad:{s0}:due")), 1);
}
