/*
 * The one clock module (common/base/clock.h): wall time in Unix ms and s, monotonic time.
 */
#include <criterion/criterion.h>
#include <time.h>

#include "base/clock.h"

Test(clock, wall_time_is_unix_time_in_ms_and_s)
{
    time_t before = time(NULL);
    int64_t ms = cadence_clock_now_ms();
    int64_t s = cadence_clock_now_s();
    int64_t us = cadence_clock_now_us();
    time_t after = time(NULL);
    cr_assert_geq(ms / 1000, (int64_t)before);
    cr_assert_leq(ms / 1000, (int64_t)after);
    cr_assert_geq(s, (int64_t)before);
    cr_assert_leq(s, (int64_t)after);
    cr_assert_geq(us / 1000, ms, "read after the ms reading");
    cr_assert_gt(ms, 1700000000000LL, "milliseconds, not seconds");
}

Test(clock, monotonic_time_never_goes_back_and_agrees_in_ns_and_ms)
{
    int64_t prev_ms = cadence_clock_mono_ms();
    int64_t prev_ns = cadence_clock_mono_ns();
    for (int i = 0; i < 10000; i++) {
        int64_t ms = cadence_clock_mono_ms();
        int64_t ns = cadence_clock_mono_ns();
        cr_assert_geq(ms, prev_ms);
        cr_assert_geq(ns, prev_ns);
        cr_assert_geq(ns / 1000000, ms);
        prev_ms = ms;
        prev_ns = ns;
    }
}

Test(clock, monotonic_time_measures_a_sleep)
{
    int64_t start = cadence_clock_mono_ms();
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    int64_t took = cadence_clock_mono_ms() - start;
    cr_assert_geq(took, 19, "slept 20 ms, measured %lld", (long long)took);
}
