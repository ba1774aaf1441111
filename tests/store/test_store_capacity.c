/*
 * The rep capacity operations (store/capacity.h, lua/take_capacity.lua and lua/defer_task.lua)
 * through the async client against a private redis-server: places in a rep's day are handed
 * out in the order asked, callbacks ("must") always get one, a re-asked task keeps its place
 * and counts once, the day's set expires; a deferred task is due again at its new time with
 * its new JSON, but only while the lease is ours and the worker has not changed it.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "store/capacity.h"
#include "store/codec.h"
#include "store/keys.h"

#define STORE_FIXTURE_FIELDS                                                                       \
    cadence_store_capacity *cap;                                                                   \
    int done, granted[16], moved;                                                                  \
    size_t n;                                                                                      \
    char error[256];
#include "store_fixture.h"

static void setup(void)
{
    char err[256];
    store_fixture_start("test_store_capacity");
    F.cap = cadence_store_capacity_new(F.r, err, sizeof err);
    cr_assert_not_null(F.cap, "%s", err);
    store_fixture_connect();
}

static void teardown(void)
{
    cadence_store_capacity_free(F.cap);
    store_fixture_stop();
}

TestSuite(store_capacity, .init = setup, .fini = teardown, .timeout = 60);

static void on_take(const char *error, const int *granted, size_t n, void *arg)
{
    (void)arg;
    snprintf(F.error, sizeof F.error, "%s", error ? error : "");
    for (size_t i = 0; i < n && i < 16; i++)
        F.granted[i] = granted[i];
    F.n = n;
    F.done = 1;
}

static void take(long capacity, size_t n, const char *const *ids, const int *must)
{
    F.done = 0;
    cr_assert_eq(cadence_store_capacity_take(F.cap, "rep-1", "2026-12-02", capacity, 600, n, ids,
                                             must, on_take, NULL),
                 CADENCE_REDIS_OK);
    RUN_UNTIL(F.done);
    cr_assert(F.done);
    cr_assert_str_eq(F.error, "");
    cr_assert_eq(F.n, n);
}

static long long sync_int(const char *fmt, const char *a)
{
    redisReply *rep = redisCommand(F.sync, fmt, a);
    cr_assert(rep && rep->type == REDIS_REPLY_INTEGER, "%s", fmt);
    long long v = rep->integer;
    freeReplyObject(rep);
    return v;
}

Test(store_capacity, places_go_in_the_order_asked_and_callbacks_always_get_one)
{
    const char *ids[] = {"cb", "w1", "c1", "f1"};
    const int must[] = {1, 0, 0, 0};
    take(2, 4, ids, must);
    cr_assert(F.granted[0] && F.granted[1] && !F.granted[2] && !F.granted[3],
              "capacity 2: the callback and the first asked");
    /* a full day: a new callback still gets a place, a first-time call does not */
    const char *more[] = {"cb2", "c2"};
    const int more_must[] = {1, 0};
    take(2, 2, more, more_must);
    cr_assert(F.granted[0] && !F.granted[1]);
    cr_assert_eq(sync_int("SCARD %s", "cad:{r:rep-1}:cap:2026-12-02"), 3);
    cr_assert_gt(sync_int("TTL %s", "cad:{r:rep-1}:cap:2026-12-02"), 0, "the day expires");
}

Test(store_capacity, a_task_asked_again_keeps_its_place_and_counts_once)
{
    const char *ids[] = {"t1", "t2"};
    const int must[] = {0, 0};
    take(2, 2, ids, must);
    cr_assert(F.granted[0] && F.granted[1]);
    take(2, 2, ids, must); /* re-claimed after a lease: the same answer */
    cr_assert(F.granted[0] && F.granted[1]);
    const char *other[] = {"t3"};
    take(2, 1, other, must);
    cr_assert(!F.granted[0]);
}

Test(store_capacity, bad_arguments_are_refused_before_any_call)
{
    const char *ids[] = {"t1"}, *bad[] = {"bad id"};
    const int must[] = {0};
    cr_assert_eq(cadence_store_capacity_take(F.cap, "rep-1", "2026-12-2", 2, 600, 1, ids, must,
                                             on_take, NULL),
                 CADENCE_REDIS_INVALID);
    cr_assert_eq(cadence_store_capacity_take(F.cap, "rep-1", "2026-12-02", 0, 600, 1, ids, must,
                                             on_take, NULL),
                 CADENCE_REDIS_INVALID);
    cr_assert_eq(cadence_store_capacity_take(F.cap, "rep 1", "2026-12-02", 2, 600, 1, ids, must,
                                             on_take, NULL),
                 CADENCE_REDIS_INVALID);
    cr_assert_eq(cadence_store_capacity_take(F.cap, "rep-1", "2026-12-02", 2, 600, 1, bad, must,
                                             on_take, NULL),
                 CADENCE_REDIS_INVALID);
}

static void on_defer(const char *error, int moved, void *arg)
{
    (void)arg;
    snprintf(F.error, sizeof F.error, "%s", error ? error : "");
    F.moved = moved;
    F.done = 1;
}

/* The task t1 of `tasks` as stored: a zstd frame whose text is `want`. */
static void stored_is(const char *tasks, const char *want)
{
    redisReply *rep = redisCommand(F.sync, "HGET %s t1", tasks);
    cr_assert(rep && rep->type == REDIS_REPLY_STRING);
    cr_assert(cadence_store_codec_is_frame(rep->str, rep->len), "stored as a frame");
    cadence_store_codec *c = cadence_store_codec_new();
    const char *text = NULL;
    size_t len = 0;
    char *owned = NULL, err[128];
    cr_assert_eq(
        cadence_store_codec_decode(c, rep->str, rep->len, &text, &len, &owned, err, sizeof err), 0,
        "%s", err);
    cr_assert_eq(len, strlen(want));
    cr_assert(memcmp(text, want, len) == 0);
    free(owned);
    cadence_store_codec_free(c);
    freeReplyObject(rep);
}

static void defer(int64_t lease, const char *claimed, const char *json)
{
    F.done = 0;
    cr_assert_eq(cadence_store_capacity_defer(F.cap, 3, "t1", lease, claimed, strlen(claimed), 2000,
                                              json, on_defer, NULL),
                 CADENCE_REDIS_OK);
    RUN_UNTIL(F.done);
    cr_assert(F.done);
    cr_assert_str_eq(F.error, "");
}

Test(store_capacity, a_deferred_task_is_due_again_at_its_new_time_with_its_new_json)
{
    char due[CADENCE_KEY_MAX], tasks[CADENCE_KEY_MAX], inflight[CADENCE_KEY_MAX];
    cadence_keys_due(due, 3);
    cadence_keys_tasks(tasks, 3);
    cadence_keys_inflight(inflight, 3);
    freeReplyObject(redisCommand(F.sync, "HSET %s t1 old", tasks));
    freeReplyObject(redisCommand(F.sync, "ZADD %s 500 t1", inflight));
    defer(400, "old", "new"); /* not our lease: nothing */
    cr_assert_eq(F.moved, 0);
    cr_assert_eq(sync_int("ZCARD %s", inflight), 1);
    defer(500, "old", "new");
    cr_assert_eq(F.moved, 1);
    cr_assert_eq(sync_int("ZCARD %s", inflight), 0);
    stored_is(tasks, "new"); /* written as a frame (store/codec.h) */
    redisReply *rep = redisCommand(F.sync, "ZSCORE %s t1", due);
    cr_assert_str_eq(rep->str, "2000");
    freeReplyObject(rep);
    /* claimed again: the stored frame is the one claimed (the first defer compared the plain
     * JSON an older version stored) */
    freeReplyObject(redisCommand(F.sync, "ZREM %s t1", due));
    freeReplyObject(redisCommand(F.sync, "ZADD %s 600 t1", inflight));
    defer(600, "new", "newer");
    cr_assert_eq(F.moved, 1);
    stored_is(tasks, "newer");
}

Test(store_capacity, a_task_the_worker_changed_meanwhile_is_left_to_the_worker)
{
    char due[CADENCE_KEY_MAX], tasks[CADENCE_KEY_MAX], inflight[CADENCE_KEY_MAX];
    cadence_keys_due(due, 3);
    cadence_keys_tasks(tasks, 3);
    cadence_keys_inflight(inflight, 3);
    freeReplyObject(redisCommand(F.sync, "HSET %s t1 replanned", tasks));
    freeReplyObject(redisCommand(F.sync, "ZADD %s 900 t1", due));
    freeReplyObject(redisCommand(F.sync, "ZADD %s 500 t1", inflight));
    defer(500, "old", "new");
    cr_assert_eq(F.moved, 0);
    cr_assert_eq(sync_int("ZCARD %s", inflight), 0, "our lease is dropped");
    redisReply *rep = redisCommand(F.sync, "HGET %s t1", tasks);
    cr_assert_str_eq(rep->str, "replanned");
    freeReplyObject(rep);
    rep = redisCommand(F.sync, "ZSCORE %s t1", due);
    cr_assert_str_eq(rep->str, "900");
    freeReplyObject(rep);
}
