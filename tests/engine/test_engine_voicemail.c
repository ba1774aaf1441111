/*
 * test_engine_voicemail — the voicemail logic: scripts rotate by FTC attempt and are never
 * repeated to one lead, a warning instead of a repeat when they run out, the minimum gap
 * between two voicemails, and the caller-ID rule (at most N calls in a row without one).
 */
#include "engine_harness.h"

Test(engine_voicemail, never_repeats_a_script_to_one_lead)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    /* the rep reports having used vm-2 on the first attempt (not the suggested vm-1) */
    harness_feed(&h, "{\"type\":\"call_outcome\",\"event_id\":\"o0\",\"occurred_at\":"
                     "\"2026-10-05T13:10:00Z\",\"lead_id\":\"L1\",\"rep_id\":\"r1\","
                     "\"channel\":\"call\",\"disposition\":\"voicemail_left\","
                     "\"message_id\":\"vm-2\"}");
    harness_outcome(&h, "o1", "2026-10-05T18:10:00Z", "no_answer");
    cr_assert_str_eq(touch_str(&h, "message_id"), "vm-1",
                     "vm-2 was used; vm-1 was only planned, which spends nothing");
    /* the rep leaves the planned one (no message_id: the open touch's vm-1 is spent) */
    harness_outcome(&h, "o2", "2026-10-06T18:10:00Z", "voicemail_left");
    cr_assert_str_eq(touch_str(&h, "message_id"), "vm-3", "vm-1 and vm-2 are spent");
    cr_assert_eq(h.st.scripts_used, 0x3U);
    harness_fini(&h);
}

Test(engine_voicemail, scripts_rotate_by_ftc_attempt)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    cr_assert_str_eq(touch_str(&h, "message_id"), "vm-1");
    cr_assert_eq(json_integer_value(json_object_get(h.touch, "ftc_attempt")), 1);
    harness_outcome(&h, "o0", "2026-10-05T13:10:00Z", "voicemail_left");
    harness_outcome(&h, "o1", "2026-10-05T18:10:00Z", "no_answer");
    cr_assert_str_eq(touch_str(&h, "message_id"), "vm-2");
    cr_assert_eq(json_integer_value(json_object_get(h.touch, "ftc_attempt")), 3);
    harness_fini(&h);
}

Test(engine_voicemail, when_scripts_run_out_the_task_warns_instead_of_repeating)
{
    harness h;
    harness_init(&h, "{\"voicemail_scripts\": [{\"id\":\"v1\",\"text\":\"a\"},"
                     "{\"id\":\"v2\",\"text\":\"b\"},{\"id\":\"v3\",\"text\":\"c\"}],"
                     "\"email_scripts\": [{\"id\":\"e1\",\"body\":\"a\"},"
                     "{\"id\":\"e2\",\"body\":\"b\"},{\"id\":\"e3\",\"body\":\"c\"}]}");
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    const char *days[] = {"2026-10-05T13:10:00Z", "2026-10-05T18:10:00Z", "2026-10-06T18:10:00Z",
                          "2026-10-09T13:10:00Z"};
    for (int i = 0; i < 4; i++) {
        char id[16];
        snprintf(id, sizeof id, "o%d", i);
        harness_outcome(&h, id, days[i], i == 1 ? "no_answer" : "voicemail_left");
    }
    /* steps 0, 2, 3 used v1..v3; step 4 has no voicemail; step 5 wants one */
    harness_outcome(&h, "o4", "2026-10-14T18:10:00Z", "no_answer");
    cr_assert(json_is_true(json_object_get(h.touch, "voicemail")));
    cr_assert_null(json_object_get(h.touch, "message_id"));
    cr_assert(touch_warned(&h, "scripts_exhausted"));
    harness_fini(&h);
}

Test(engine_voicemail, the_caller_id_rule_forces_a_voicemail_after_n_calls_without)
{
    harness h;
    harness_init(&h, "{\"voicemail\": {\"min_gap_hours\": 0, \"pause_after_hours\": 0,"
                     " \"max_calls_without\": 1}}");
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    /* step 0 wanted a voicemail but the rep could not leave one */
    harness_outcome(&h, "o0", "2026-10-05T13:10:00Z", "no_answer");
    /* step 1 is "without voicemail" in the playbook, but 1 call without is the limit */
    cr_assert(json_is_true(json_object_get(h.touch, "voicemail")));
    harness_fini(&h);
}

Test(engine_voicemail, keeps_a_minimum_gap_between_two_voicemails)
{
    harness h;
    harness_init(&h, "{\"voicemail\": {\"min_gap_hours\": 48, \"pause_after_hours\": 0,"
                     " \"max_calls_without\": 5}}");
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    harness_outcome(&h, "o0", "2026-10-05T13:10:00Z", "voicemail_left");
    harness_outcome(&h, "o1", "2026-10-05T18:10:00Z", "no_answer");
    /* step 2 (+1 day, voicemail) would be Tue 14:00, but 48 h after Mon 09:10 is Wed 09:10 */
    cr_assert_str_eq(touch_str(&h, "due_at"), "2026-10-07T14:00:00-04:00");
    cr_assert(touch_moved(&h, "voicemail_gap"));
    harness_fini(&h);
}
