/*
 * The managers' counters in the store (store/stats.h) against a private redis-server: an apply
 * writes "<rep>|<counter>" into the shard's hash of the local day and gives it an expiry at
 * the end of the retention; a read over a range of days sums nothing itself but hands every
 * stored counter with its day index, of one rep or of all, across more hashes than one
 * pipelined chunk holds; day texts are checked.
 */
#include <criterion/criterion.h>

#include <event2/event.h>
#include <stdio.h>
#include <string.h>

#include "store/apply.h"
#include "store/keys.h"
#include "store/stats.h"

#define STORE_FIXTURE_FIELDS const cadence_redis_script *apply;
#include "store_fixture.h"

static void setup(void)
{
    char err[256];
    store_fixture_start("test_store_stats");
    F.apply = cadence_store_apply_script(F.r, err, sizeof err);
    cr_assert_not_null(F.apply, "%s", err);
    store_fixture_connect();
}

TestSuite(store_stats, .init = setup, .fini = store_fixture_stop, .timeout = 60);

static long long sync_int(const char *fmt, const char *a, const char *b)
{
    redisReply *r = redisCommand(F.sync, fmt, a, b);
    cr_assert_not_null(r);
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer
                  : r->str                       ? strtoll(r->str, NULL, 10)
                                                 : -99;
    freeReplyObject(r);
    return v;
}

static int applied;
static void on_apply(const cadence_store_apply_result *res, void *arg)
{
    (void)arg;
    applied = res->verdict == CADENCE_STORE_APPLIED ? 1 : -1;
}

Test(store_stats, an_apply_counts_per_rep_in_the_hash_of_the_day_which_expires)
{
    static const cadence_store_counter c[] = {
        {"dials", 2, "rep.ana"}, {"connects", 1, "rep.ana"}, {"dials", 1, "rep.bo"}};
    cadence_store_apply_args a = {
        .shard = 3,
        .lead_id = "L1",
        .event_id = "e1",
        .state_json = "{}",
        .outbox = "[]",
        .touch = CADENCE_STORE_TOUCH_KEEP,
        .counters = c,
        .n_counters = 3,
        .stats_day = "2026-11-02",
        .stats_retention_days = 400,
    };
    applied = 0;
    cr_assert_eq(cadence_store_apply(F.r, F.apply, &a, on_apply, NULL), CADENCE_REDIS_OK);
    RUN_UNTIL(applied != 0);
    cr_assert_eq(applied, 1);
    /* the EXPIREAT rides behind the script: wait until it is there */
    long long deadline = cadence_test_now_ms() + WAIT_MS;
    while (sync_int("EXPIRETIME %s", "cad:{s3}:stats:2026-11-02", NULL) < 0 &&
           cadence_test_now_ms() < deadline)
        event_base_loop(F.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    cr_assert_eq(sync_int("HGET %s %s", "cad:{s3}:stats:2026-11-02", "rep.ana|dials"), 2);
    cr_assert_eq(sync_int("HGET %s %s", "cad:{s3}:stats:2026-11-02", "rep.bo|dials"), 1);
    /* 2026-11-02 is day 20759 since 1970-01-01; + 400 + 2 days */
    cr_assert_eq(sync_int("EXPIRETIME %s", "cad:{s3}:stats:2026-11-02", NULL),
                 (20759LL + 402) * 86400);
}

Test(store_stats, a_day_past_its_retention_is_dropped)
{
    static const cadence_store_counter c[] = {{"dials", 1, "rep.ana"}};
    cadence_store_apply_args a = {
        .shard = 0,
        .lead_id = "L1",
        .event_id = "e1",
        .state_json = "{}",
        .outbox = "[]",
        .touch = CADENCE_STORE_TOUCH_KEEP,
        .counters = c,
        .n_counters = 1,
        .stats_day = "2001-01-01",
        .stats_retention_days = 30,
    };
    applied = 0;
    cr_assert_eq(cadence_store_apply(F.r, F.apply, &a, on_apply, NULL), CADENCE_REDIS_OK);
    RUN_UNTIL(applied != 0);
    cr_assert_eq(applied, 1);
    long long deadline = cadence_test_now_ms() + WAIT_MS;
    while (sync_int("EXISTS %s", "cad:{s0}:stats:2001-01-01", NULL) == 1 &&
           cadence_test_now_ms() < deadline)
        event_base_loop(F.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    cr_assert_eq(sync_int("EXISTS %s", "cad:{s0}:stats:2001-01-01", NULL), 0);
}

struct sums {
    long long by_day[40];
    long long ana, bo, cells;
    int done;
    char error[128];
};

static void each(const cadence_store_stats_cell *c, void *arg)
{
    struct sums *s = arg;
    cr_assert_lt(c->day, 40);
    s->by_day[c->day] += c->value;
    if (c->rep_len == 7 && memcmp(c->rep, "rep.ana", 7) == 0)
        s->ana += c->value;
    if (c->rep_len == 6 && memcmp(c->rep, "rep.bo", 6) == 0)
        s->bo += c->value;
    cr_assert_eq(c->counter_len, 5);
    cr_assert(memcmp(c->counter, "dials", 5) == 0);
    s->cells++;
}

static void done(const char *error, void *arg)
{
    struct sums *s = arg;
    s->done = 1;
    snprintf(s->error, sizeof s->error, "%s", error ? error : "");
}

Test(store_stats, a_read_hands_every_counter_of_the_range_with_its_day)
{
    /* 64 shards × 31 days = 1984 hashes: more than one chunk */
    redisReply *r;
    for (int s = 0; s < 64; s += 7) {
        char k1[64], k2[64], k3[64];
        snprintf(k1, sizeof k1, "cad:{s%d}:stats:2026-10-31", s); /* before the range */
        snprintf(k2, sizeof k2, "cad:{s%d}:stats:2026-11-01", s);
        snprintf(k3, sizeof k3, "cad:{s%d}:stats:2026-12-01", s); /* the range's last day */
        r = redisCommand(F.sync, "HSET %s rep.ana|dials 100", k1);
        freeReplyObject(r);
        r = redisCommand(F.sync, "HSET %s rep.ana|dials 1 rep.bo|dials 10 legacy 5", k2);
        freeReplyObject(r);
        r = redisCommand(F.sync, "HSET %s rep.bo|dials 3", k3);
        freeReplyObject(r);
    }
    struct sums s = {0};
    cr_assert_eq(cadence_store_read_stats(F.r, 64, "2026-11-01", 31, NULL, each, done, &s),
                 CADENCE_REDIS_OK);
    RUN_UNTIL(s.done);
    cr_assert(s.done);
    cr_assert_str_eq(s.error, "");
    cr_assert_eq(s.by_day[0], 10 * 11);
    cr_assert_eq(s.by_day[30], 10 * 3);
    cr_assert_eq(s.ana, 10 * 1);
    cr_assert_eq(s.bo, 10 * 13);

    struct sums one = {0};
    cr_assert_eq(cadence_store_read_stats(F.r, 64, "2026-11-01", 31, "rep.bo", each, done, &one),
                 CADENCE_REDIS_OK);
    RUN_UNTIL(one.done);
    cr_assert_eq(one.ana, 0);
    cr_assert_eq(one.bo, 10 * 13);
    cr_assert_eq(one.cells, 20);
}

Test(store_stats, day_texts_are_checked)
{
    cr_assert(cadence_store_stats_day_valid("2026-02-28"));
    cr_assert(cadence_store_stats_day_valid("2028-02-29"));
    cr_assert_not(cadence_store_stats_day_valid("2026-02-29"));
    cr_assert_not(cadence_store_stats_day_valid("2026-13-01"));
    cr_assert_not(cadence_store_stats_day_valid("2026-1-01"));
    cr_assert_not(cadence_store_stats_day_valid("2026-01-01x"));
    cr_assert_not(cadence_store_stats_day_valid("+026-01-01"));
    cr_assert_not(cadence_store_stats_day_valid("1969-12-31"));
    cr_assert_not(cadence_store_stats_day_valid(""));
    cr_assert_eq(cadence_store_stats_day_number("1970-01-01"), 0);
    char t[11];
    cadence_store_stats_day_text(20759, t);
    cr_assert_str_eq(t, "2026-11-02");
    cr_assert_eq(cadence_store_read_stats(F.r, 4, "2026-02-30", 1, NULL, each, done, NULL),
                 CADENCE_REDIS_INVALID);
}
