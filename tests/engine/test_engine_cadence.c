/*
 * test_engine_cadence — Zero-to-Ten, enrolment, and the business-hours calendar: a full walk
 * with exact local times in two zones across a weekend, a holiday and a DST change, and every
 * `moved` reason.
 */
#include "engine_harness.h"

typedef struct walk_row {
    const char *due;         /* expected local due_at of the touch */
    const char *disposition; /* what the rep reports 10 minutes later */
    const char *moved;       /* expected moved reason or NULL */
    const char *message_id;  /* expected script or NULL */
} walk_row;

static void walk(const char *tz, const char *lead_at, const walk_row *rows, size_t n,
                 const char *reeval_due)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "lead-1", lead_at, "cold", 60, tz);
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(touch_str(&h, "due_at"), rows[i].due, "step %zu", i);
        cr_assert_str_eq(touch_str(&h, "objective"), "first_time_call");
        cr_assert_eq(json_integer_value(json_object_get(h.touch, "ftc_attempt")), (int)i + 1);
        cr_assert_eq(json_integer_value(json_object_get(h.touch, "step")), (int)i);
        if (rows[i].moved)
            cr_assert(touch_moved(&h, rows[i].moved), "step %zu not moved for %s", i,
                      rows[i].moved);
        else
            cr_assert_eq(json_array_size(json_object_get(h.touch, "moved")), 0, "step %zu", i);
        if (rows[i].message_id)
            cr_assert_str_eq(touch_str(&h, "message_id"), rows[i].message_id, "step %zu", i);
        int64_t due;
        cr_assert_eq(cadence_rfc3339_parse(rows[i].due, &due), 0);
        char at[40], id[32];
        cadence_rfc3339_format(due + 10 * 60000, at, sizeof at);
        snprintf(id, sizeof id, "o-%zu", i);
        harness_outcome(&h, id, at, rows[i].disposition);
    }
    cr_assert_eq(h.st.status, CADENCE_STATUS_RE_EVALUATE);
    cr_assert_str_eq(touch_str(&h, "objective"), "re_evaluate");
    cr_assert_str_eq(touch_str(&h, "due_at"), reeval_due);
    cr_assert(strstr(touch_str(&h, "suggestion"), "special delivery"));
    cr_assert_eq(messages_with(&h, CADENCE_TOPIC_LEAD_STATUS, "reason", "cadence_complete"), 1);
    harness_outcome(&h, "o-final", "2026-12-01T15:00:00Z", "no_answer");
    cr_assert_null(h.touch, "nothing after the re-evaluate task");
    harness_fini(&h);
}

Test(engine_cadence, zero_to_ten_walk_in_new_york_across_dst_weekend_and_holiday)
{
    static const walk_row rows[] = {
        {"2026-10-29T09:00:00-04:00", "voicemail_left", NULL, "vm-1"},      /* day 0 morning */
        {"2026-10-29T14:00:00-04:00", "no_answer", NULL, NULL},             /* day 0 afternoon */
        {"2026-10-30T14:00:00-04:00", "voicemail_left", NULL, "vm-2"},      /* +1 */
        {"2026-11-02T09:00:00-05:00", "voicemail_left", NULL, "vm-3"},      /* +3, after DST */
        {"2026-11-09T14:00:00-05:00", "no_answer", "weekend", NULL},        /* +5 = Saturday */
        {"2026-11-16T09:00:00-05:00", "voicemail_left", NULL, "vm-4"},      /* +7 */
        {"2026-11-27T14:00:00-05:00", "voicemail_left", "holiday", "vm-5"}, /* +10 = Thanksgiving */
    };
    walk("America/New_York", "2026-10-29T12:00:00Z", rows, G_N_ELEMENTS(rows),
         "2026-11-27T14:10:00-05:00");
}

Test(engine_cadence, zero_to_ten_walk_in_berlin_across_dst_and_weekend)
{
    static const walk_row rows[] = {
        {"2026-10-22T09:00:00+02:00", "voicemail_left", NULL, "vm-1"},
        {"2026-10-22T14:00:00+02:00", "no_answer", NULL, NULL},
        {"2026-10-23T14:00:00+02:00", "voicemail_left", NULL, "vm-2"},
        {"2026-10-26T09:00:00+01:00", "voicemail_left", NULL, "vm-3"}, /* DST ended 25 Oct */
        {"2026-11-02T14:00:00+01:00", "no_answer", "weekend", NULL},
        {"2026-11-09T09:00:00+01:00", "voicemail_left", NULL, "vm-4"},
        {"2026-11-19T14:00:00+01:00", "voicemail_left", NULL, "vm-5"},
    };
    walk("Europe/Berlin", "2026-10-22T06:30:00Z", rows, G_N_ELEMENTS(rows),
         "2026-11-19T14:10:00+01:00");
}

Test(engine_cadence, gaps_count_from_the_actual_previous_attempt)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    harness_outcome(&h, "o0", "2026-10-05T13:10:00Z", "voicemail_left");
    harness_outcome(&h, "o1", "2026-10-05T18:10:00Z", "no_answer");
    /* the day-1 attempt happens late, on Thursday instead of Tuesday */
    harness_outcome(&h, "o2", "2026-10-08T18:10:00Z", "voicemail_left");
    /* +3 from Thursday is Sunday → Monday, not +3 from day 1 */
    cr_assert_str_eq(touch_str(&h, "due_at"), "2026-10-12T09:00:00-04:00");
    harness_fini(&h);
}

Test(engine_cadence, a_lead_without_time_zone_uses_the_playbook_default)
{
    harness h;
    harness_init(&h, "{\"default_timezone\": \"Asia/Tokyo\"}");
    harness_feed(&h, "{\"type\":\"lead\",\"event_id\":\"l\",\"occurred_at\":"
                     "\"2026-10-05T00:00:00Z\",\"lead_id\":\"L1\",\"rep_id\":\"r1\","
                     "\"lead_type\":\"cold\",\"potential\":60}");
    cr_assert_str_eq(touch_str(&h, "due_at"), "2026-10-05T09:00:00+09:00");
    harness_fini(&h);
}

Test(engine_cadence, warm_leads_get_the_aggressive_cadence_and_are_called_at_once)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T19:30:00Z", "warm", 60, "America/New_York");
    cr_assert_str_eq(h.st.cadence, "zero_to_ten_warm");
    cr_assert_str_eq(touch_str(&h, "due_at"), "2026-10-05T15:30:00-04:00");
    harness_fini(&h);
}

Test(engine_cadence, low_potential_goes_straight_to_nurture)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "warm", 10, "America/New_York");
    cr_assert_eq(h.st.status, CADENCE_STATUS_NURTURE);
    cr_assert_null(h.touch);
    cr_assert_eq(messages_with(&h, CADENCE_TOPIC_LEAD_STATUS, "reason", "low_potential"), 1);
    cr_assert_eq(messages_with(&h, CADENCE_TOPIC_ALERTS, NULL, NULL), 0);
    harness_fini(&h);
}

Test(engine_cadence, a_repeated_lead_event_updates_fields_but_never_restarts)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    harness_outcome(&h, "o0", "2026-10-05T13:10:00Z", "voicemail_left");
    const char *before = touch_str(&h, "task_id");
    char *keep = g_strdup(before);
    harness_feed(&h, "{\"type\":\"lead\",\"event_id\":\"l2\",\"occurred_at\":"
                     "\"2026-10-05T15:00:00Z\",\"lead_id\":\"L1\",\"rep_id\":\"r1\","
                     "\"lead_type\":\"cold\",\"potential\":60,\"first_name\":\"Anna\","
                     "\"timezone\":\"America/New_York\"}");
    cr_assert_str_eq(h.st.first_name, "Anna");
    cr_assert_str_eq(touch_str(&h, "task_id"), keep);
    cr_assert_eq(json_integer_value(json_object_get(h.touch, "step")), 1);
    cr_assert_eq(messages_with(&h, CADENCE_TOPIC_LEAD_STATUS, NULL, NULL), 1);
    g_free(keep);
    harness_fini(&h);
}

/* --- moved reasons --- */

Test(engine_calendar, a_lead_arriving_on_saturday_is_called_monday)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-10T14:00:00Z", "cold", 60, "America/New_York");
    cr_assert_str_eq(touch_str(&h, "due_at"), "2026-10-12T09:00:00-04:00");
    cr_assert(touch_moved(&h, "weekend"));
    harness_fini(&h);
}

Test(engine_calendar, a_lead_arriving_after_the_slot_moves_to_the_next_day)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-06T16:00:00Z", "cold", 60, "America/New_York");
    cr_assert_str_eq(touch_str(&h, "due_at"), "2026-10-07T09:00:00-04:00");
    cr_assert(touch_moved(&h, "outside_hours"));
    harness_fini(&h);
}

Test(engine_calendar, holidays_push_forward)
{
    harness h;
    harness_init(&h, "{\"holidays\": [\"2026-10-06\"]}");
    harness_lead(&h, "l", "2026-10-06T12:00:00Z", "cold", 60, "America/New_York");
    cr_assert_str_eq(touch_str(&h, "due_at"), "2026-10-07T09:00:00-04:00");
    cr_assert(touch_moved(&h, "holiday"));
    harness_fini(&h);
}

Test(engine_calendar, out_of_office_pushes_touches_past_the_return_date)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    harness_feed(&h, "{\"type\":\"call_outcome\",\"event_id\":\"ooo\",\"occurred_at\":"
                     "\"2026-10-05T12:30:00Z\",\"lead_id\":\"L1\",\"rep_id\":\"r1\","
                     "\"channel\":\"email\",\"disposition\":\"out_of_office\","
                     "\"return_date\":\"2026-10-14T00:00:00Z\"}");
    cr_assert_str_eq(touch_str(&h, "due_at"), "2026-10-14T09:00:00-04:00");
    cr_assert(touch_moved(&h, "out_of_office"));
    harness_fini(&h);
}

Test(engine_calendar, the_daily_cap_moves_a_touch_to_the_next_day)
{
    harness h;
    harness_init(&h, "{\"daily_touch_cap\": 1}");
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    harness_outcome(&h, "o0", "2026-10-05T13:10:00Z", "voicemail_left");
    /* the day-0 afternoon call would be the second touch that day */
    cr_assert_str_eq(touch_str(&h, "due_at"), "2026-10-06T14:00:00-04:00");
    cr_assert(touch_moved(&h, "daily_cap"));
    harness_fini(&h);
}

Test(engine_calendar, the_voicemail_pause_moves_the_next_call)
{
    harness h;
    harness_init(&h, "{\"voicemail\": {\"min_gap_hours\": 24, \"pause_after_hours\": 6,"
                     " \"max_calls_without\": 2}}");
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    harness_outcome(&h, "o0", "2026-10-05T14:50:00Z", "voicemail_left"); /* 10:50 local */
    /* 10:50 + 6 h = 16:50 is past the 14:00–16:00 slot: next day */
    cr_assert_str_eq(touch_str(&h, "due_at"), "2026-10-06T14:00:00-04:00");
    cr_assert(touch_moved(&h, "voicemail_gap"));
    harness_fini(&h);
}

Test(engine_cadence, a_do_not_call_lead_is_never_enrolled)
{
    harness h;
    harness_init(&h, NULL);
    harness_feed(&h, "{\"type\":\"lead\",\"event_id\":\"l\",\"occurred_at\":"
                     "\"2026-10-05T12:00:00Z\",\"lead_id\":\"L1\",\"rep_id\":\"r1\","
                     "\"lead_type\":\"warm\",\"potential\":90,\"do_not_call\":true}");
    cr_assert_eq(h.st.status, CADENCE_STATUS_DO_NOT_CALL);
    cr_assert_null(h.touch);
    cr_assert_eq(messages_with(&h, CADENCE_TOPIC_ALERTS, NULL, NULL), 0);
    cr_assert_eq(messages_with(&h, CADENCE_TOPIC_LEAD_STATUS, "reason", "do_not_call"), 1);
    harness_fini(&h);
}
