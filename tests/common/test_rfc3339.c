/*
 * The one RFC 3339 parser and formatter (common/base/rfc3339.h).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "base/rfc3339.h"

Test(rfc3339, parses_utc_and_offsets_to_the_same_instant)
{
    int64_t a, b, c;
    cr_assert_eq(cadence_rfc3339_parse("2026-11-23T09:00:00Z", &a), 0);
    cr_assert_eq(cadence_rfc3339_parse("2026-11-23T04:00:00-05:00", &b), 0);
    cr_assert_eq(cadence_rfc3339_parse("2026-11-23t10:00:00+01:00", &c), 0);
    cr_assert_eq(a, 1795424400000LL);
    cr_assert_eq(a, b);
    cr_assert_eq(a, c);
}

Test(rfc3339, keeps_milliseconds_and_drops_what_is_finer)
{
    int64_t ms;
    cr_assert_eq(cadence_rfc3339_parse("1970-01-01T00:00:01.250Z", &ms), 0);
    cr_assert_eq(ms, 1250);
    cr_assert_eq(cadence_rfc3339_parse("1970-01-01T00:00:01.2509Z", &ms), 0);
    cr_assert_eq(ms, 1250);
}

Test(rfc3339, refuses_times_without_an_offset_and_non_times)
{
    int64_t ms = 7;
    const char *bad[] = {"2026-11-23T09:00:00",
                         "2026-11-23 09:00:00Z",
                         "2026-13-01T00:00:00Z",
                         "2026-02-30T00:00:00Z",
                         "yesterday",
                         "",
                         NULL};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(cadence_rfc3339_parse(bad[i], &ms), -1, "%s", bad[i] ? bad[i] : "NULL");
    cr_assert_eq(ms, 7, "the output is left alone on failure");
}

Test(rfc3339, formats_utc_with_milliseconds_only_when_there_are_some)
{
    char buf[CADENCE_RFC3339_SIZE];
    cadence_rfc3339_format(1795424400000LL, buf, sizeof(buf));
    cr_assert_str_eq(buf, "2026-11-23T09:00:00Z");
    cadence_rfc3339_format(1795424400123LL, buf, sizeof(buf));
    cr_assert_str_eq(buf, "2026-11-23T09:00:00.123Z");
    cadence_rfc3339_format(-1, buf, sizeof(buf));
    cr_assert_str_eq(buf, "1969-12-31T23:59:59.999Z");
}

Test(rfc3339, formats_log_stamps_always_with_milliseconds)
{
    char buf[CADENCE_RFC3339_SIZE];
    cadence_rfc3339_format_ms(1795424400000LL, buf, sizeof(buf));
    cr_assert_str_eq(buf, "2026-11-23T09:00:00.000Z");
    cadence_rfc3339_format_ms(1795424400007LL, buf, sizeof(buf));
    cr_assert_str_eq(buf, "2026-11-23T09:00:00.007Z");
}

Test(rfc3339, formats_at_an_offset_as_local_wall_time)
{
    char buf[CADENCE_RFC3339_SIZE];
    cadence_rfc3339_format_offset(1795424400000LL, -5 * 3600, buf, sizeof(buf));
    cr_assert_str_eq(buf, "2026-11-23T04:00:00-05:00");
    cadence_rfc3339_format_offset(1795424400500LL, 5 * 3600 + 1800, buf, sizeof(buf));
    cr_assert_str_eq(buf, "2026-11-23T14:30:00.500+05:30");
    cadence_rfc3339_format_offset(0, 0, buf, sizeof(buf));
    cr_assert_str_eq(buf, "1970-01-01T00:00:00+00:00");
}

Test(rfc3339, what_it_formats_it_parses_back)
{
    const int64_t times[] = {0, 1, 999, 1795424400123LL, 4102444799999LL, 951782400000LL};
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        char buf[CADENCE_RFC3339_SIZE];
        int64_t back = -1;
        cadence_rfc3339_format(times[i], buf, sizeof(buf));
        cr_assert_eq(cadence_rfc3339_parse(buf, &back), 0, "%s", buf);
        cr_assert_eq(back, times[i], "%s", buf);
        cr_assert(cadence_rfc3339_valid(buf, strlen(buf)), "%s", buf);
        cadence_rfc3339_format_offset(times[i], -3 * 3600 - 1800, buf, sizeof(buf));
        cr_assert_eq(cadence_rfc3339_parse(buf, &back), 0, "%s", buf);
        cr_assert_eq(back, times[i], "%s", buf);
    }
}

Test(rfc3339, the_strict_check_knows_calendars_offsets_and_leap_seconds)
{
    const struct {
        const char *text;
        int valid;
    } cases[] = {
        {"2024-02-29T00:00:00Z", 1},   {"2023-02-29T00:00:00Z", 0},
        {"2026-01-31T09:30:00.5z", 1}, {"2026-01-31T09:30:00.Z", 0},
        {"2026-01-31T24:00:00Z", 0},   {"2026-01-31T09:30:00+24:00", 0},
        {"2026-12-31T23:59:60Z", 1},   {"2026-12-31T18:59:60-05:00", 1},
        {"2026-12-31T22:59:60Z", 0},   {"2026-01-31T09:30:00", 0},
        {"2026-01-31 09:30:00Z", 0},   {"2026-1-31T09:30:00Z", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cr_expect_eq(cadence_rfc3339_valid(cases[i].text, strlen(cases[i].text)), cases[i].valid,
                     "%s", cases[i].text);
    cr_assert_not(cadence_rfc3339_valid(NULL, 0));
}
