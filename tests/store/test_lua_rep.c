/*
 * The gateway's rep scripts (common/store/lua/read_queue.lua, append_alert.lua) against a
 * private redis-server: the queue read returns due tasks in order with their JSON (or '' when
 * the JSON is gone) up to its limit; an alert is appended to the rep's stream once per alert id,
 * and the dedupe set keeps only the newest ids.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "redis_suite.h"
#include "store/scripts.h"

TestSuite(rep_scripts, .init = redis_suite_setup, .fini = redis_suite_teardown);

#define Q "cad:{r:rep-1}:queue"
#define H "cad:{r:rep-1}:tasks"
#define S "cad:{r:rep-1}:alerts"
#define IDS "cad:{r:rep-1}:alert_ids"

static long long integer(redisReply *r)
{
    cr_assert_eq(r->type, REDIS_REPLY_INTEGER, "type %d %s", r->type,
                 r->type == REDIS_REPLY_ERROR ? r->str : "");
    long long n = r->integer;
    freeReplyObject(r);
    return n;
}

Test(rep_scripts, the_queue_read_takes_due_tasks_in_order_with_their_json)
{
    freeReplyObject(CMD("ZADD", Q, "300", "c", "100", "a", "200", "b", "900", "late"));
    freeReplyObject(CMD("HSET", H, "a", "{\"a\":1}", "c", "{\"c\":1}", "late", "{}"));
    redisReply *r = CMD("EVAL", cadence_lua_read_queue, "2", Q, H, "500", "10");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 9, "three due tasks, three fields each: %zu", r->elements);
    const char *want[] = {"a", "100", "{\"a\":1}", "b", "200", "", "c", "300", "{\"c\":1}"};
    for (size_t i = 0; i < 9; i++)
        cr_assert_str_eq(r->element[i]->str, want[i], "element %zu", i);
    freeReplyObject(r);

    r = CMD("EVAL", cadence_lua_read_queue, "2", Q, H, "500", "2");
    cr_assert_eq(r->elements, 6, "the limit counts tasks: %zu", r->elements);
    cr_assert_str_eq(r->element[3]->str, "b");
    freeReplyObject(r);
}

static long long append(const char *id, const char *json, const char *now, const char *keep)
{
    return integer(CMD("EVAL", cadence_lua_append_alert, "2", S, IDS, id, json, now, "1000", keep));
}

Test(rep_scripts, an_alert_is_appended_once_per_alert_id)
{
    cr_assert_eq(append("al-1", "{\"alert_id\":\"al-1\"}", "1000", "10"), 1);
    cr_assert_eq(append("al-1", "{\"alert_id\":\"al-1\"}", "1001", "10"), 0, "a repeat is refused");
    cr_assert_eq(append("al-2", "{\"alert_id\":\"al-2\"}", "1002", "10"), 1);
    cr_assert_eq(integer(CMD("XLEN", S)), 2);

    redisReply *r = CMD("XRANGE", S, "-", "+");
    cr_assert_eq(r->elements, 2);
    redisReply *fields = r->element[0]->element[1];
    cr_assert_str_eq(fields->element[0]->str, "alert");
    cr_assert_str_eq(fields->element[1]->str, "{\"alert_id\":\"al-1\"}");
    freeReplyObject(r);
}

Test(rep_scripts, the_dedupe_set_keeps_the_newest_ids)
{
    char id[16], now[16];
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof id, "al-%d", i);
        snprintf(now, sizeof now, "%d", 1000 + i);
        cr_assert_eq(append(id, "{}", now, "3"), 1);
    }
    cr_assert_eq(integer(CMD("ZCARD", IDS)), 3);
    redisReply *r = CMD("ZSCORE", IDS, "al-0");
    cr_assert_eq(r->type, REDIS_REPLY_NIL, "the oldest id was dropped");
    freeReplyObject(r);
    cr_assert_eq(integer(CMD("XLEN", S)), 5, "the stream itself is bounded by MAXLEN, not the ids");
}
