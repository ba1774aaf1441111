/*
 * The scheduler's pure decisions (services/scheduler/plan.h): sweep order, claim arguments,
 * reading a stored task.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "plan.h"

Test(scheduler_plan, a_sweep_visits_every_shard_exactly_once)
{
    for (uint32_t shards = 1; shards <= 64; shards++)
        for (uint64_t seed = 0; seed < 5; seed++) {
            uint32_t start = scheduler_plan_sweep_start(seed * 7919, seed, shards);
            cr_assert_lt(start, shards);
            int seen[64] = {0};
            for (uint32_t i = 0; i < shards; i++)
                seen[scheduler_plan_sweep_shard(start, i, shards)]++;
            for (uint32_t k = 0; k < shards; k++)
                cr_assert_eq(seen[k], 1, "shards %u: shard %u visited %d times", shards, k,
                             seen[k]);
        }
}

Test(scheduler_plan, sweeps_start_at_a_different_shard_each_time_and_per_process)
{
    uint32_t a0 = scheduler_plan_sweep_start(3, 0, 16);
    uint32_t a1 = scheduler_plan_sweep_start(3, 1, 16);
    uint32_t b0 = scheduler_plan_sweep_start(4, 0, 16);
    cr_assert_neq(a0, a1, "the start rotates from sweep to sweep");
    cr_assert_neq(a0, b0, "two processes with different seeds start apart");
    cr_assert_eq(scheduler_plan_sweep_start(3, 16, 16), a0, "a full rotation comes back");
    cr_assert_eq(scheduler_plan_sweep_start(~0ULL, ~0ULL, 1), 0);
}

Test(scheduler_plan, claim_arguments_carry_now_the_lease_deadline_and_the_limit)
{
    scheduler_claim_args a;
    cr_assert_eq(scheduler_plan_claim_args(&a, 1795000000123LL, 30000, 256), 0);
    cr_assert_eq(a.now_ms, 1795000000123LL);
    cr_assert_eq(a.deadline_ms, 1795000030123LL);
    cr_assert_eq(a.limit, 256);
    cr_assert_eq(scheduler_plan_claim_args(&a, 1, 0, 256), -1, "a lease must be positive");
    cr_assert_eq(scheduler_plan_claim_args(&a, 1, 100, 0), -1, "a limit must be positive");
}

Test(scheduler_plan, a_stored_task_yields_its_key_rep_and_due_time)
{
    const char *j = "{\"task_id\":\"t1\",\"lead_id\":\"L-1\",\"rep_id\":\"rep.ana\","
                    "\"due_at\":\"2026-11-23T09:00:00-05:00\",\"channel\":\"call\"}";
    scheduler_task_info info;
    char err[128];
    cr_assert_eq(scheduler_plan_task_read(j, strlen(j), &info, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(info.task_id, "t1");
    cr_assert_str_eq(info.lead_id, "L-1");
    cr_assert_str_eq(info.rep_id, "rep.ana");
    cr_assert_eq(info.due_ms, 1795442400000LL); /* 2026-11-23T14:00:00Z */
}

struct bad_task {
    const char *json;
    const char *error;
};

Test(scheduler_plan, unreadable_tasks_are_refused_with_the_reason)
{
    static const struct bad_task cases[] = {
        {"not json", "not a JSON object"},
        {"[1]", "not a JSON object"},
        {"{\"lead_id\":\"L\",\"rep_id\":\"r\",\"due_at\":\"2026-11-23T09:00:00Z\"}", "task_id"},
        {"{\"task_id\":\"t\",\"rep_id\":\"r\",\"due_at\":\"2026-11-23T09:00:00Z\"}", "lead_id"},
        {"{\"task_id\":\"t\",\"lead_id\":\"L\",\"rep_id\":\"r}x\",\"due_at\":\"2026-11-23T09:00:"
         "00Z\"}",
         "rep_id"},
        {"{\"task_id\":\"t\",\"lead_id\":\"L\",\"rep_id\":\"r\",\"due_at\":\"tomorrow\"}",
         "due_at"},
        {"{\"task_id\":\"t\",\"lead_id\":\"L\",\"rep_id\":\"r\"}", "due_at"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        scheduler_task_info info;
        char err[128] = "";
        cr_assert_eq(
            scheduler_plan_task_read(cases[i].json, strlen(cases[i].json), &info, err, sizeof(err)),
            -1, "%s", cases[i].json);
        cr_assert_not_null(strstr(err, cases[i].error), "%s: %s", cases[i].json, err);
    }
}

Test(scheduler_plan, lag_is_seconds_past_due_and_never_negative)
{
    cr_assert_float_eq(scheduler_plan_lag_seconds(10500, 10000), 0.5, 1e-9);
    cr_assert_float_eq(scheduler_plan_lag_seconds(10000, 10500), 0.0, 1e-9);
}

/* ------------------------------------------------------------ rep capacity */

#include <jansson.h>
#include <stdlib.h>

static cadence_playbook *shipped_playbook(void)
{
    char err[512];
    json_t *doc = json_load_file(CADENCE_DATA_DIR "/examples/playbook.json", 0, NULL);
    cr_assert(doc);
    cadence_playbook *pb = cadence_playbook_load_json(doc, err, sizeof err);
    json_decref(doc);
    cr_assert(pb, "%s", err);
    return pb;
}

static int64_t at(const char *text)
{
    int64_t ms = 0;
    cr_assert_eq(cadence_rfc3339_parse(text, &ms), 0, "%s", text);
    return ms;
}

Test(scheduler_plan, callbacks_come_first_then_warm_then_cold_first_time_calls_then_follow_ups)
{
    cr_assert_eq(scheduler_plan_priority(1, "follow_up", "cold"), SCHEDULER_PRIORITY_CALLBACK);
    cr_assert_eq(scheduler_plan_priority(1, "first_time_call", "warm"),
                 SCHEDULER_PRIORITY_CALLBACK);
    cr_assert_eq(scheduler_plan_priority(0, "first_time_call", "warm"),
                 SCHEDULER_PRIORITY_WARM_FIRST);
    cr_assert_eq(scheduler_plan_priority(0, "first_time_call", "cold"),
                 SCHEDULER_PRIORITY_COLD_FIRST);
    cr_assert_eq(scheduler_plan_priority(0, "first_time_call", NULL), SCHEDULER_PRIORITY_COLD_FIRST,
                 "an unknown type counts as cold");
    cr_assert_eq(scheduler_plan_priority(0, "follow_up", "warm"), SCHEDULER_PRIORITY_FOLLOW_UP);
    cr_assert_eq(scheduler_plan_priority(0, "re_evaluate", "warm"), SCHEDULER_PRIORITY_FOLLOW_UP);
}

Test(scheduler_plan, a_stored_touch_gives_its_class_rep_and_zone)
{
    const char *j =
        "{\"task_id\":\"t1\",\"rep_id\":\"r1\",\"due_at\":\"2026-12-01T09:00:00-05:00\","
        "\"objective\":\"first_time_call\",\"lead_type\":\"warm\","
        "\"lead\":{\"timezone\":\"Europe/Berlin\"}}";
    scheduler_touch_class c;
    char err[128];
    cr_assert_eq(scheduler_plan_touch_class(j, strlen(j), &c, err, sizeof err), 0, "%s", err);
    cr_assert_eq(c.priority, SCHEDULER_PRIORITY_WARM_FIRST);
    cr_assert_str_eq(c.rep, "r1");
    cr_assert_str_eq(c.zone, "Europe/Berlin");
    cr_assert_eq(c.due_ms, at("2026-12-01T14:00:00Z"));
    const char *cb = "{\"rep_id\":\"r1\",\"due_at\":\"2026-12-01T09:00:00Z\",\"callback\":true,"
                     "\"objective\":\"follow_up\"}";
    cr_assert_eq(scheduler_plan_touch_class(cb, strlen(cb), &c, err, sizeof err), 0, "%s", err);
    cr_assert_eq(c.priority, SCHEDULER_PRIORITY_CALLBACK);
    cr_assert_str_eq(c.zone, "", "no zone: the playbook's default applies later");
    cr_assert_eq(scheduler_plan_touch_class("{\"rep_id\":\"r1\"}", 15, &c, err, sizeof err), -1);
    cr_assert(strstr(err, "due_at"), "%s", err);
    cr_assert_eq(scheduler_plan_touch_class("[1]", 3, &c, err, sizeof err), -1);
}

Test(scheduler_plan, a_full_day_keeps_touches_by_rep_day_then_priority_due_time_and_id)
{
    scheduler_touch_class t[6];
    memset(t, 0, sizeof t);
    const struct {
        const char *rep, *day, *id;
        int priority;
        int64_t due;
    } in[] = {
        {"r1", "2026-12-01", "f", SCHEDULER_PRIORITY_FOLLOW_UP, 1},
        {"r1", "2026-12-01", "c2", SCHEDULER_PRIORITY_COLD_FIRST, 5},
        {"r2", "2026-12-01", "x", SCHEDULER_PRIORITY_CALLBACK, 1},
        {"r1", "2026-12-01", "c1", SCHEDULER_PRIORITY_COLD_FIRST, 5},
        {"r1", "2026-12-01", "cb", SCHEDULER_PRIORITY_CALLBACK, 9},
        {"r1", "2026-12-01", "w", SCHEDULER_PRIORITY_WARM_FIRST, 7},
    };
    for (int i = 0; i < 6; i++) {
        snprintf(t[i].rep, sizeof t[i].rep, "%s", in[i].rep);
        snprintf(t[i].day, sizeof t[i].day, "%s", in[i].day);
        t[i].id = in[i].id;
        t[i].priority = in[i].priority;
        t[i].due_ms = in[i].due;
    }
    size_t order[6];
    scheduler_plan_rank(t, 6, order);
    const char *want[] = {"cb", "w", "c1", "c2", "f", "x"};
    for (int i = 0; i < 6; i++)
        cr_assert_str_eq(t[order[i]].id, want[i], "position %d", i);
}

Test(scheduler_plan, the_reps_day_is_the_leads_local_date)
{
    cadence_playbook *pb = shipped_playbook();
    cadence_tzcache *tz = cadence_tzcache_new();
    char day[11];
    int64_t now = at("2026-12-02T03:00:00Z");
    cr_assert_eq(scheduler_plan_rep_day(pb, tz, "Asia/Kolkata", now, day), 0);
    cr_assert_str_eq(day, "2026-12-02");
    cr_assert_eq(scheduler_plan_rep_day(pb, tz, "America/Los_Angeles", now, day), 0);
    cr_assert_str_eq(day, "2026-12-01");
    cr_assert_eq(scheduler_plan_rep_day(pb, tz, "", now, day), 0);
    cr_assert_str_eq(day, "2026-12-01", "no zone: the playbook's (New York)");
    cadence_tzcache_free(tz);
    cadence_playbook_free(pb);
}

Test(scheduler_plan, a_moved_touch_goes_to_the_next_business_day_past_weekends_and_holidays)
{
    cadence_playbook *pb = shipped_playbook();
    cadence_tzcache *tz = cadence_tzcache_new();
    /* Friday 2026-12-04 in New York: next business day Monday 08:00 local */
    cr_assert_eq(
        scheduler_plan_next_business_day(pb, tz, "America/New_York", at("2026-12-04T15:00:00Z")),
        at("2026-12-07T08:00:00-05:00"));
    /* Thursday 2026-12-24 in New York: Friday is Christmas, so Monday 28th */
    cr_assert_eq(
        scheduler_plan_next_business_day(pb, tz, "America/New_York", at("2026-12-24T15:00:00Z")),
        at("2026-12-28T08:00:00-05:00"));
    /* the same day in London: 25th and 28th are UK holidays (26th a Saturday) */
    cr_assert_eq(
        scheduler_plan_next_business_day(pb, tz, "Europe/London", at("2026-12-24T15:00:00Z")),
        at("2026-12-29T08:00:00Z"));
    cadence_tzcache_free(tz);
    cadence_playbook_free(pb);
}

Test(scheduler_plan, moving_a_touch_rewrites_due_at_and_records_the_move)
{
    cadence_playbook *pb = shipped_playbook();
    cadence_tzcache *tz = cadence_tzcache_new();
    const char *j = "{\"task_id\":\"t1\",\"due_at\":\"2026-12-01T09:00:00-05:00\","
                    "\"moved\":[{\"reason\":\"weekend\",\"from\":\"2026-11-29T09:00:00-05:00\"}]}";
    char *out = scheduler_plan_move(j, strlen(j), at("2026-12-02T13:00:00Z"), pb, tz,
                                    "America/New_York", "rep_capacity");
    cr_assert(out);
    json_t *v = json_loads(out, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(v, "due_at")), "2026-12-02T08:00:00-05:00");
    json_t *m = json_object_get(v, "moved");
    cr_assert_eq(json_array_size(m), 2);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(m, 1), "reason")),
                     "rep_capacity");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(m, 1), "from")),
                     "2026-12-01T09:00:00-05:00");
    json_decref(v);
    free(out);
    cr_assert_null(scheduler_plan_move("{}", 2, 0, pb, tz, "", "rep_capacity"));
    cadence_tzcache_free(tz);
    cadence_playbook_free(pb);
}
