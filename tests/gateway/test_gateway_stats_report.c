/*
 * The GET /v1/stats fold (services/gateway/stats_report.c), fed cells as the store hands them:
 * rates are connects per dial and never pass 100 %, ratios without a denominator are null,
 * by_day lists every day of the range (zeros included), by_rep splits the team, by_step rows
 * come in step order with follow-ups last, by_lead_type sums its rows.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "stats_report.h"

static void add(gw_stats_report *r, size_t day, const char *rep, const char *counter, long long v)
{
    gw_stats_report_add(r, day, rep, strlen(rep), counter, strlen(counter), v);
}

static json_int_t ival(json_t *o, const char *path1, const char *path2)
{
    json_t *v = json_object_get(o, path1);
    if (path2)
        v = json_object_get(v, path2);
    cr_assert(json_is_integer(v), "%s.%s is not an integer", path1, path2 ? path2 : "");
    return json_integer_value(v);
}

Test(gateway_stats_report, folds_days_reps_and_steps)
{
    gw_stats_report *r = gw_stats_report_new("2026-11-02", 3, NULL);
    add(r, 0, "rep.ana", "dials", 4);
    add(r, 0, "rep.ana", "connects", 1);
    add(r, 0, "rep.ana", "voicemails_left", 2);
    add(r, 2, "rep.bo", "dials", 2);
    add(r, 2, "rep.bo", "connects", 2);
    add(r, 2, "rep.bo", "meetings", 1);
    add(r, 0, "rep.ana", "attempts:zero_to_ten:0:cold", 3);
    add(r, 0, "rep.ana", "attempts:zero_to_ten:1:cold", 1);
    add(r, 0, "rep.ana", "connects:zero_to_ten:1:cold", 1);
    add(r, 2, "rep.bo", "attempts:zero_to_ten:follow_up:cold", 2);
    add(r, 2, "rep.bo", "connects:zero_to_ten:follow_up:cold", 2);
    add(r, 2, "rep.bo", "attempts:zero_to_ten:10:cold", 1);
    add(r, 1, "rep.ana", "leads:cold", 5);
    add(r, 2, "rep.bo", "callbacks_received", 1);
    add(r, 9, "rep.bo", "dials", 100); /* out of the range: ignored */
    json_t *j = gw_stats_report_json(r);
    cr_assert_str_eq(json_string_value(json_object_get(j, "from")), "2026-11-02");
    cr_assert_str_eq(json_string_value(json_object_get(j, "to")), "2026-11-04");
    cr_assert(json_is_null(json_object_get(j, "rep")));
    json_t *m = json_object_get(j, "measures");
    cr_assert_eq(ival(m, "dials", NULL), 6);
    cr_assert_eq(ival(m, "connects", NULL), 3);
    cr_assert_float_eq(json_real_value(json_object_get(m, "connect_rate")), 0.5, 1e-9);
    cr_assert_float_eq(json_real_value(json_object_get(m, "callbacks_per_voicemail")), 0.5, 1e-9);
    cr_assert(json_is_null(json_object_get(m, "follow_ups_per_won_deal")));
    cr_assert(json_is_null(json_object_get(m, "attempts_before_first_contact")));

    json_t *days = json_object_get(j, "by_day");
    cr_assert_eq(json_array_size(days), 3);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(days, 1), "day")),
                     "2026-11-03");
    cr_assert_eq(ival(json_array_get(days, 0), "dials", NULL), 4);
    cr_assert_eq(ival(json_array_get(days, 0), "voicemails", NULL), 2);
    cr_assert_eq(ival(json_array_get(days, 1), "dials", NULL), 0);
    cr_assert_eq(ival(json_array_get(days, 2), "meetings", NULL), 1);

    json_t *reps = json_object_get(j, "by_rep");
    cr_assert_eq(json_object_size(reps), 2);
    cr_assert_float_eq(
        json_real_value(json_object_get(json_object_get(reps, "rep.bo"), "connect_rate")), 1.0,
        1e-9);
    cr_assert_eq(ival(json_object_get(reps, "rep.ana"), "dials", NULL), 4);

    json_t *steps = json_object_get(j, "by_step");
    cr_assert_eq(json_array_size(steps), 4);
    const char *order[] = {"0", "1", "10", "follow_up"};
    for (size_t i = 0; i < 4; i++) {
        json_t *row = json_array_get(steps, i);
        cr_assert_str_eq(json_string_value(json_object_get(row, "step")), order[i]);
        json_t *rate = json_object_get(row, "connect_rate");
        cr_assert(json_is_real(rate));
        cr_assert_leq(json_real_value(rate), 1.0);
    }
    cr_assert(json_is_null(json_object_get(json_array_get(steps, 0), "win_rate")) == 0);
    json_t *cold = json_object_get(json_object_get(j, "by_lead_type"), "cold");
    cr_assert_eq(ival(cold, "leads", NULL), 5);
    cr_assert_eq(ival(cold, "attempts", NULL), 7);
    cr_assert_eq(ival(cold, "connects", NULL), 3);
    json_decref(j);
    gw_stats_report_free(r);
}

Test(gateway_stats_report, an_empty_range_has_zero_counts_and_null_ratios)
{
    gw_stats_report *r = gw_stats_report_new("2026-12-31", 2, "rep.ana");
    json_t *j = gw_stats_report_json(r);
    cr_assert_str_eq(json_string_value(json_object_get(j, "to")), "2027-01-01");
    cr_assert_str_eq(json_string_value(json_object_get(j, "rep")), "rep.ana");
    json_t *m = json_object_get(j, "measures");
    cr_assert_eq(ival(m, "dials", NULL), 0);
    cr_assert(json_is_null(json_object_get(m, "connect_rate")));
    cr_assert_eq(json_object_size(json_object_get(j, "by_rep")), 0);
    cr_assert_eq(json_array_size(json_object_get(j, "by_step")), 0);
    json_decref(j);
    gw_stats_report_free(r);
}
