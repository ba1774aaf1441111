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
