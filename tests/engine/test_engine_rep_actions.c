/*
 * What a rep does to a task from the console (call-outcomes.v1 `snoozed` and `skipped`, with
 * the task_id): a snooze moves the open touch to the snooze time (moved reason `snoozed`) and
 * counts nothing; a callback ends the snooze at once; a skip passes the step over — the next
 * step is planned, no attempt is counted — and skipping the last step ends the cadence as the
 * last attempt would; acting on a touch that is no longer open changes nothing; the rep's
 * words and the conversation go into the timeline entry. The playbook serves the message texts.
 */
#include "engine_harness.h"

static void act(harness *h, const char *id, const char *at, const char *disp, const char *extra)
{
    const char *task = touch_str(h, "task_id");
    cr_assert(task, "an open touch to act on");
    char task_id[80];
    snprintf(task_id, sizeof task_id, "%s", task);
    cr_assert_eq(
        harness_feed(h,
                     "{\"type\":\"call_outcome\",\"event_id\":\"%s\",\"occurred_at\":\"%s\","
                     "\"lead_id\":\"L1\",\"rep_id\":\"r1\",\"channel\":\"call\","
                     "\"disposition\":\"%s\",\"task_id\":\"%s\"%s}",
                     id, at, disp, task_id, extra ? extra : ""),
        CADENCE_ENGINE_OK);
}

Test(engine_rep_actions, a_snooze_moves_the_open_touch_and_counts_nothing)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    const char *before = touch_str(&h, "task_id");
    char first[80];
    snprintf(first, sizeof first, "%s", before);
    act(&h, "s1", "2026-10-05T13:00:00Z", "snoozed",
        ",\"snooze_until\":\"2026-10-07T13:30:00Z\",\"notes\":\"at a trade fair\"");
    cr_assert_str_neq(touch_str(&h, "task_id"), first, "a new task replaces the snoozed one");
    cr_assert_str_eq(touch_str(&h, "due_at"), "2026-10-07T09:30:00-04:00",
                     "the snooze time, inside the step's slot");
    cr_assert(touch_moved(&h, "snoozed"));
    cr_assert_eq(json_integer_value(json_object_get(h.touch, "step")), 0, "still the same step");
    cr_assert_eq(counter(&h, "attempts:zero_to_ten:0:cold"), 0, "no attempt counted");
    harness_fini(&h);
}

Test(engine_rep_actions, a_callback_ends_a_snooze)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    act(&h, "s1", "2026-10-05T13:00:00Z", "snoozed", ",\"snooze_until\":\"2026-10-09T15:00:00Z\"");
    harness_outcome(&h, "cb", "2026-10-05T14:00:00Z", "callback_received");
    cr_assert_str_eq(touch_str(&h, "due_at"), "2026-10-05T10:00:00-04:00");
    cr_assert_not(touch_moved(&h, "snoozed"));
    cr_assert_eq(h.st.snooze_until, 0);
    harness_fini(&h);
}

Test(engine_rep_actions, a_skip_passes_the_step_over_without_an_attempt)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    cr_assert_eq(json_integer_value(json_object_get(h.touch, "step")), 0);
    act(&h, "k1", "2026-10-05T13:00:00Z", "skipped", ",\"notes\":\"number busy all day\"");
    cr_assert_eq(json_integer_value(json_object_get(h.touch, "step")), 1, "on to the next step");
    cr_assert_eq(json_integer_value(json_object_get(h.touch, "ftc_attempt")), 1,
                 "a skip is no first-time call");
    cr_assert_eq(counter(&h, "attempts:zero_to_ten:0:cold"), 0);
    harness_fini(&h);
}

Test(engine_rep_actions, skipping_every_step_ends_the_cadence_for_re_evaluation)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    char id[16], at[32];
    for (int i = 0; i < 20 && h.touch && strcmp(touch_str(&h, "objective"), "re_evaluate") != 0;
         i++) {
        snprintf(id, sizeof id, "k%d", i);
        snprintf(at, sizeof at, "2026-10-%02dT15:00:00Z", 5 + i);
        act(&h, id, at, "skipped", NULL);
    }
    cr_assert_str_eq(touch_str(&h, "objective"), "re_evaluate");
    harness_fini(&h);
}

Test(engine_rep_actions, acting_on_a_touch_no_longer_open_changes_nothing)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    char due[64];
    snprintf(due, sizeof due, "%s", touch_str(&h, "due_at"));
    cr_assert_eq(harness_feed(&h, "{\"type\":\"call_outcome\",\"event_id\":\"x\",\"occurred_at\":"
                                  "\"2026-10-05T13:00:00Z\",\"lead_id\":\"L1\",\"rep_id\":\"r1\","
                                  "\"channel\":\"call\",\"disposition\":\"skipped\","
                                  "\"task_id\":\"T-old\"}"),
                 CADENCE_ENGINE_OK);
    cr_assert_str_eq(touch_str(&h, "due_at"), due);
    cr_assert_eq(json_integer_value(json_object_get(h.touch, "step")), 0);
    harness_fini(&h);
}

Test(engine_rep_actions, a_snooze_without_a_time_is_refused)
{
    json_t *doc = json_loads("{\"type\":\"call_outcome\",\"event_id\":\"x\",\"occurred_at\":"
                             "\"2026-10-05T13:00:00Z\",\"lead_id\":\"L1\",\"rep_id\":\"r1\","
                             "\"channel\":\"call\",\"disposition\":\"snoozed\"}",
                             0, NULL);
    cadence_event ev;
    char err[256];
    cr_assert_eq(cadence_event_from_json(doc, &ev, err, sizeof err), -1);
    cr_assert(strstr(err, "/snooze_until"), "%s", err);
    json_decref(doc);
}

Test(engine_rep_actions, the_timeline_keeps_what_the_rep_recorded)
{
    cadence_playbook *pb = harness_playbook(NULL);
    cadence_tzcache *tz = cadence_tzcache_new();
    cadence_lead_state *st = calloc(1, sizeof *st);
    cadence_outputs outs;
    cadence_outputs_init(&outs);
    char err[256];
    json_t *doc =
        json_loads("{\"type\":\"call_outcome\",\"event_id\":\"c1\",\"occurred_at\":"
                   "\"2026-10-05T13:00:00Z\",\"lead_id\":\"L1\",\"rep_id\":\"r1\","
                   "\"channel\":\"call\",\"disposition\":\"connected\",\"notes\":\"nice\","
                   "\"conversation\":{\"problems\":[\"slow\"],\"role\":\"influencer\"}}",
                   0, NULL);
    cadence_event ev;
    cr_assert_eq(cadence_event_from_json(doc, &ev, err, sizeof err), 0, "%s", err);
    json_decref(doc);
    cr_assert_eq(cadence_engine_apply(NULL, &ev, pb, tz, st, &outs), CADENCE_ENGINE_OK);
    json_t *detail = json_object_get(outs.timeline, "detail");
    cr_assert_str_eq(json_string_value(json_object_get(detail, "notes")), "nice");
    cr_assert_str_eq(json_string_value(json_object_get(detail, "rep_id")), "r1");
    cr_assert_null(json_object_get(detail, "event_id"), "the entry says it already");
    cr_assert_null(json_object_get(detail, "lead_id"), "the key says it");
    cr_assert_null(json_object_get(detail, "occurred_at"), "the entry's at says it");
    json_t *conv = json_object_get(detail, "conversation");
    cr_assert_str_eq(json_string_value(json_object_get(conv, "role")), "influencer");
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(conv, "problems"), 0)),
                     "slow");
    const char *subject = NULL;
    cr_assert(strstr(cadence_playbook_message_text(pb, "vm-1", &subject), "{first_name}"));
    cr_assert_null(subject, "a voicemail has no subject");
    cr_assert(cadence_playbook_message_text(pb, "em-1", &subject));
    cr_assert_str_eq(subject, "Following up on your request");
    cr_assert_null(cadence_playbook_message_text(pb, "nope", NULL));
    cadence_outputs_reset(&outs);
    free(st);
    cadence_tzcache_free(tz);
    cadence_playbook_free(pb);
}
