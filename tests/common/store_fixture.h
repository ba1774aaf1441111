/*
 * store_fixture — test helper for Criterion suites of the store's typed operations (common/store/)
 * through the async client: per test, a private redis-server (redis_server.h), a sync hiredis
 * context on it for checking what the scripts wrote, an async cadence_redis on a libevent base,
 * and RUN_UNTIL(cond) to run that base until `cond` holds or WAIT_MS pass (a deadline, never a
 * fixed sleep).
 *
 * All lives in one static `F`; a test file adds its own members (script handles, what its
 * callbacks record) by defining STORE_FIXTURE_FIELDS before the include. Its setup registers its
 * scripts between start and connect (the client loads them when it connects); a teardown frees
 * what the file made, then calls store_fixture_stop().
 *
 *   #define STORE_FIXTURE_FIELDS const cadence_redis_script *apply;
 *   #include "store_fixture.h"
 *
 *   static void setup(void)
 *   {
 *       char err[256];
 *       store_fixture_start("test_store_ops");
 *       F.apply = cadence_store_apply_script(F.r, err, sizeof err);
 *       cr_assert_not_null(F.apply, "%s", err);
 *       store_fixture_connect();
 *   }
 *
 *   TestSuite(store_ops, .init = setup, .fini = store_fixture_stop, .timeout = 60);
 */
#ifndef CADENCE_TEST_STORE_FIXTURE_H
#define CADENCE_TEST_STORE_FIXTURE_H

#include <criterion/criterion.h>

#include <event2/event.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "redis_server.h"
#include "store/redis.h"

/* How long RUN_UNTIL waits for its condition. */
#define WAIT_MS 5000

#ifndef STORE_FIXTURE_FIELDS
#define STORE_FIXTURE_FIELDS
#endif

static struct store_fixture {
    struct event_base *base;
    cadence_test_redis srv;
    redisContext *sync; /* for checks: redisCommand(F.sync, ...) */
    cadence_redis *r;
    int ready; /* the client's last state */
    STORE_FIXTURE_FIELDS
} F;

/* Runs the event loop until `cond` holds or WAIT_MS pass; the caller asserts `cond`. */
#define RUN_UNTIL(cond)                                                                            \
    do {                                                                                           \
        long long dl_ = cadence_test_now_ms() + WAIT_MS;                                           \
        while (!(cond) && cadence_test_now_ms() < dl_)                                             \
            event_base_loop(F.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);                                \
    } while (0)

static inline void store_fixture_on_state(cadence_redis *r, int ready, const char *reason,
                                          void *arg)
{
    (void)r;
    (void)reason;
    (void)arg;
    F.ready = ready;
}

/* Zeroes F, logs warnings as `log_name`, starts the server, opens the sync context and creates
 * the async client (not yet connected: register scripts now, then store_fixture_connect()). */
static inline void store_fixture_start(const char *log_name)
{
    memset(&F, 0, sizeof(F));
    cadence_log_init(log_name, CADENCE_LOG_WARN);
    cr_assert_eq(cadence_test_redis_start(&F.srv, NULL), 0, "redis-server did not start");
    F.sync = cadence_test_redis_connect(&F.srv);
    cr_assert_not_null(F.sync);
    F.base = event_base_new();
    char url[128], err[256];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", F.srv.port);
    cadence_redis_url u;
    cr_assert_eq(cadence_redis_url_parse(url, &u, err, sizeof err), 0, "%s", err);
    cadence_redis_options o = {.state_cb = store_fixture_on_state};
    F.r = cadence_redis_new(F.base, &u, &o, err, sizeof err);
    cr_assert_not_null(F.r, "%s", err);
}

/* Waits (WAIT_MS at most) for the client to be ready. */
static inline void store_fixture_connect(void)
{
    RUN_UNTIL(F.ready);
    cr_assert(F.ready, "the client did not connect");
}

/* Frees the client, the base and the sync context and stops the server; what the test file
 * made on the client (search, capacity, ...) must be freed before. */
static inline void store_fixture_stop(void)
{
    cadence_redis_free(F.r);
    if (F.base)
        event_base_free(F.base);
    if (F.sync)
        redisFree(F.sync);
    cadence_test_redis_stop(&F.srv);
}

#endif
