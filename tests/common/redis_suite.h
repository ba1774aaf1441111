/*
 * redis_suite — test helper for Criterion suites that run Lua scripts or commands against one
 * private redis-server per test (redis_server.h): the suite's server and connection, its
 * init/fini, and CMD(...) to send a command given as strings (the caller frees the reply).
 *
 *   TestSuite(my_scripts, .init = redis_suite_setup, .fini = redis_suite_teardown);
 *   redisReply *r = CMD("HGET", "key", "field");
 *   long long n = integer(CMD("ZCARD", "key"));
 */
#ifndef CADENCE_TEST_REDIS_SUITE_H
#define CADENCE_TEST_REDIS_SUITE_H

#include <criterion/criterion.h>

#include "redis_server.h"

static cadence_test_redis srv;
static redisContext *rc;

static inline void redis_suite_setup(void)
{
    cr_assert_eq(cadence_test_redis_start(&srv, NULL), 0);
    rc = cadence_test_redis_connect(&srv);
    cr_assert_not_null(rc);
}

static inline void redis_suite_teardown(void)
{
    if (rc)
        redisFree(rc);
    rc = NULL;
    cadence_test_redis_stop(&srv);
}

/* Runs a command given as argv; the caller frees the reply. */
static inline redisReply *cmd(int argc, const char **argv)
{
    redisReply *r = redisCommandArgv(rc, argc, argv, NULL);
    cr_assert_not_null(r);
    return r;
}

/* The integer of an integer reply (asserting its type), freeing the reply. */
static inline long long integer(redisReply *r)
{
    cr_assert_eq(r->type, REDIS_REPLY_INTEGER, "type %d %s", r->type,
                 r->type == REDIS_REPLY_ERROR ? r->str : "");
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

#define CMD(...)                                                                                   \
    cmd((int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)),                       \
        (const char *[]){__VA_ARGS__})

#endif
