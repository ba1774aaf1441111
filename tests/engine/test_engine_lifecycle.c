/*
 * test_engine_lifecycle — the whole lead lifecycle at the edges a sales floor meets daily:
 * prospects who reach out from any stage, callbacks before any conversation, callbacks never
 * pushed, follow-ups that end, steps on every channel, one answer per task, alerts per reason,
 * hot pages as marketers write them, re-scoring, regional calendars and late "no"s.
 */
#include "engine_harness.h"

static const char *const conversation =
    "\"conversation\":{\"problems\":[\"slow follow-up\"],\"next_steps\":\"you were going to ask "
    "your CFO\",\"role\":\"decision_maker\",\"qualification\":{\"problem\":true,"
    "\"decision_makers\":true,\"timeline\":true,\"price\":true}}";

static void outcome_on(harness *h, const char *id, const char *at, const char *channel,
                       const char *disp, const char *extra)
{
    harness_feed(h,
                 "{\"type\":\"call_outcome\",\"event_id\":\"%s\",\"occurred_at\":\"%s\","
                 "\"lead_id\":\"L1\",\"rep_id\":\"r1\",\"channel\":\"%s\",\"disposition\":\"%s\""
                 "%s%s}",
                 id, at, channel, disp, extra ? "," : "", extra ? extra : "");
}

static json_t *last_alert(const harness *h)
{
    for (size_t i = json_array_size(h->messages); i-- > 0;) {
        json_t *m = json_array_get(h->messages, i);
        if (strcmp(json_string_value(json_object_get(m, "topic")), CADENCE_TOPIC_ALERTS) == 0)
            return json_object_get(m, "value");
    }
    return NULL;
}

static const char *alert_str(const harness *h, const char *key)
{
    json_t *a = last_alert(h);
    cr_assert(a, "no alert (wanted %s)", key);
    return json_string_value(json_object_get(a, key));
}

/* --- 1. a prospect who reaches out is always worked ------------------------------------ */

typedef enum { NURTURE_AFTER_NO, LOW_POTENTIAL, RE_EVALUATE } stage;

static const char *one_step =
    "{\"cadences\":[{\"name\":\"one\",\"steps\":[{\"gap_days\":0,\"slot\":{\"start\":\"09:00\","
    "\"end\":\"17:00\"},\"channel\":\"call\"}],\"re_evaluate_suggestion\":\"send a basket\"}],"
    "\"rules\":[{\"lead_type\":\"any\",\"cadence\":\"one\"}]}";

static void reach_stage(harness *h, stage s)
{
    switch (s) {
    case NURTURE_AFTER_NO: {
        harness_lead(h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
        outcome_on(h, "c", "2026-10-05T13:10:00Z", "call", "connected", conversation);
        outcome_on(h, "n", "2026-10-06T15:00:00Z", "call", "not_interested",
                   "\"no_reason\":\"we are all set\"");
        break;
    }
    case LOW_POTENTIAL:
        harness_lead(h, "l", "2026-10-05T12:00:00Z", "cold", 10, "America/New_York");
        break;
    case RE_EVALUATE:
        harness_lead(h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
        harness_outcome(h, "o", "2026-10-05T13:10:00Z", "no_answer");
        break;
    }
}

Test(engine_reach_out, from_any_stage_an_immediate_task_and_a_call_now_alert)
{
    static const struct {
        stage stage;
        const char *channel, *disposition;
        const char *reason, *status, *objective, *opener_has;
    } cases[] = {
        {NURTURE_AFTER_NO, "call", "callback_received", "former_no_callback", "follow_up",
         "follow_up", "last we spoke"},
        {NURTURE_AFTER_NO, "email", "replied", "former_no_callback", "follow_up", "follow_up",
         "last we spoke"},
        {NURTURE_AFTER_NO, "email", "meeting_booked", "former_no_callback", "meeting_booked",
         "follow_up", "last we spoke"},
        {LOW_POTENTIAL, "call", "callback_received", "inbound_callback", "follow_up",
         "first_time_call", "returning your call"},
        {LOW_POTENTIAL, "email", "meeting_booked", "inbound_meeting", "meeting_booked",
         "first_time_call", "returning your meeting request"},
        {RE_EVALUATE, "email", "replied", "inbound_reply", "follow_up", "first_time_call",
         "returning your email"},
        {RE_EVALUATE, "call", "callback_received", "inbound_callback", "follow_up",
         "first_time_call", "returning your call"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        harness h;
        harness_init(&h, cases[i].stage == RE_EVALUATE ? one_step : NULL);
        reach_stage(&h, cases[i].stage);
        cr_assert(h.st.status == CADENCE_STATUS_NURTURE ||
                      h.st.status == CADENCE_STATUS_RE_EVALUATE,
                  "case %zu: a resting lead", i);
        json_t *open_before = h.touch ? json_incref(h.touch) : NULL;
        /* Tuesday 20 Oct, 10:00 in New York */
        outcome_on(&h, "x", "2026-10-20T14:00:00Z", cases[i].channel, cases[i].disposition, NULL);
        cr_assert_str_eq(cadence_status_name(h.st.status), cases[i].status, "case %zu", i);
        cr_assert_str_eq(alert_str(&h, "reason"), cases[i].reason, "case %zu", i);
        cr_assert(h.touch && h.touch != open_before, "case %zu: a task", i);
        cr_assert_str_eq(touch_str(&h, "due_at"), "2026-10-20T10:00:00-04:00", "case %zu: now", i);
        cr_assert_str_eq(touch_str(&h, "objective"), cases[i].objective, "case %zu", i);
        cr_assert(strstr(touch_str(&h, "opener"), cases[i].opener_has), "case %zu: %s", i,
                  touch_str(&h, "opener"));
        json_t *a = last_alert(&h);
        if (cases[i].stage == NURTURE_AFTER_NO) {
            json_t *no = json_object_get(a, "no");
            cr_assert_str_eq(json_string_value(json_object_get(no, "at")), "2026-10-06T15:00:00Z");
            cr_assert_str_eq(json_string_value(json_object_get(no, "reason")), "we are all set");
            json_t *c = json_object_get(a, "conversation");
            cr_assert_str_eq(json_string_value(json_object_get(c, "problems")), "slow follow-up");
            cr_assert_str_eq(json_string_value(json_object_get(c, "role")), "decision_maker");
        } else {
            cr_assert_null(json_object_get(a, "no"), "case %zu", i);
            cr_assert_null(json_object_get(a, "conversation"), "case %zu", i);
        }
        json_decref(open_before);
        harness_fini(&h);
    }
}

Test(engine_reach_out, a_meeting_booked_on_a_reps_call_is_not_a_reach_out)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    outcome_on(&h, "m", "2026-10-05T13:10:00Z", "call", "meeting_booked", conversation);
    cr_assert_eq(h.st.status, CADENCE_STATUS_MEETING_BOOKED);
    cr_assert_null(h.touch);
    cr_assert_eq(messages_with(&h, CADENCE_TOPIC_ALERTS, NULL, NULL), 0);
    harness_fini(&h);
}

/* --- 2. a callback before any conversation is still a first-time call ------------------ */

Test(engine_reach_out, a_callback_before_any_conversation_is_ftc_and_answers_the_callback)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    harness_outcome(&h, "o0", "2026-10-05T13:10:00Z", "voicemail_left");
    harness_outcome(&h, "o1", "2026-10-05T18:10:00Z", "no_answer");
    harness_outcome(&h, "cb", "2026-10-06T13:30:00Z", "callback_received");
    cr_assert_str_eq(touch_str(&h, "objective"), "first_time_call");
    cr_assert_eq(json_integer_value(json_object_get(h.touch, "ftc_attempt")), 3);
    cr_assert(strstr(touch_str(&h, "opener"), "returning your call"));
    cr_assert(!touch_warned(&h, "not_decision_maker"), "nobody learned the role yet");
    cr_assert(!touch_warned(&h, "qualification_missing"));
    cr_assert_str_eq(alert_str(&h, "reason"), "inbound_callback");
    /* the callback is answered: FTC numbering goes on */
    harness_outcome(&h, "o2", "2026-10-06T13:40:00Z", "no_answer");
    cr_assert_eq(json_integer_value(json_object_get(h.touch, "ftc_attempt")), 4);
    cr_assert_eq(h.st.ftc, 3);
    harness_fini(&h);
}

/* --- 3. same-day callbacks are never pushed --------------------------------------------- */

Test(engine_reach_out, same_day_callbacks_skip_the_daily_cap_and_the_voicemail_pause)
{
    harness h;
    harness_init(&h, "{\"daily_touch_cap\": 1}");
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    harness_outcome(&h, "o0", "2026-10-05T13:10:00Z", "voicemail_left");
    cr_assert(touch_moved(&h, "daily_cap"), "outbound: one attempt a day is the cap");
    /* 11:30, inside the 3 h pause after the 09:10 voicemail and over the cap */
    harness_outcome(&h, "cb", "2026-10-05T15:30:00Z", "callback_received");
    cr_assert_str_eq(touch_str(&h, "due_at"), "2026-10-05T11:30:00-04:00");
    cr_assert_eq(json_array_size(json_object_get(h.touch, "moved")), 0);
    harness_fini(&h);
}

/* --- 4. follow-ups leave voicemails and end --------------------------------------------- */

Test(engine_follow_ups_end, voicemails_by_the_same_rules_and_re_evaluate_after_n_unanswered)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    outcome_on(&h, "c", "2026-10-05T13:10:00Z", "call", "connected", conversation);
    cr_assert_str_eq(touch_str(&h, "objective"), "follow_up");
    cr_assert(json_is_true(json_object_get(h.touch, "voicemail")));
    cr_assert_str_eq(touch_str(&h, "message_id"), "vm-1");
    harness_outcome(&h, "f1", "2026-10-07T13:05:00Z", "voicemail_left");
    cr_assert_str_eq(touch_str(&h, "message_id"), "vm-2", "rotating scripts");
    harness_outcome(&h, "f2", "2026-10-09T13:05:00Z", "no_answer");
    cr_assert_eq(h.st.status, CADENCE_STATUS_FOLLOW_UP);
    harness_outcome(&h, "f3", "2026-10-13T13:05:00Z", "no_answer");
    cr_assert_eq(h.st.status, CADENCE_STATUS_RE_EVALUATE, "max_unanswered = 3");
    cr_assert_eq(messages_with(&h, CADENCE_TOPIC_LEAD_STATUS, "reason", "follow_ups_unanswered"),
                 1);
    cr_assert_str_eq(touch_str(&h, "objective"), "re_evaluate");
    cr_assert(strstr(touch_str(&h, "suggestion"), "follow-ups unanswered"));
    /* a conversation restarts follow-ups */
    outcome_on(&h, "c2", "2026-10-14T13:05:00Z", "call", "connected", conversation);
    cr_assert_eq(h.st.status, CADENCE_STATUS_FOLLOW_UP);
    harness_fini(&h);
}

Test(engine_follow_ups_end, zero_means_follow_ups_never_end)
{
    harness h;
    harness_init(&h, "{\"follow_up\": {\"gap_days\": 2, \"max_unanswered\": 0}}");
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    outcome_on(&h, "c", "2026-10-05T13:10:00Z", "call", "connected", conversation);
    const char *days[] = {"2026-10-07", "2026-10-09", "2026-10-13", "2026-10-15", "2026-10-19"};
    for (int i = 0; i < 5; i++) {
        char id[16], at[40];
        snprintf(id, sizeof id, "f%d", i);
        snprintf(at, sizeof at, "%sT13:05:00Z", days[i]);
        harness_outcome(&h, id, at, "no_answer");
    }
    cr_assert_eq(h.st.status, CADENCE_STATUS_FOLLOW_UP);
    harness_fini(&h);
}

/* --- 6. every channel completes ---------------------------------------------------------- */

static const char *with_email_step =
    "{\"cadences\":[{\"name\":\"mixed\",\"steps\":["
    "{\"gap_days\":0,\"slot\":{\"start\":\"09:00\",\"end\":\"11:00\"},\"channel\":\"call\","
    "\"voicemail\":true},"
    "{\"gap_days\":0,\"slot\":{\"start\":\"09:00\",\"end\":\"17:00\"},\"channel\":\"email\"},"
    "{\"gap_days\":0,\"slot\":{\"start\":\"09:00\",\"end\":\"17:00\"},\"channel\":\"linkedin\"},"
    "{\"gap_days\":1,\"slot\":{\"start\":\"09:00\",\"end\":\"17:00\"},\"channel\":\"call\"}]}],"
    "\"rules\":[{\"lead_type\":\"any\",\"cadence\":\"mixed\"}]}";

Test(engine_channels, email_and_linkedin_steps_complete_on_their_outcomes)
{
    harness h;
    harness_init(&h, with_email_step);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    char call_task[CADENCE_ID_SIZE];
    g_strlcpy(call_task, h.st.open_task_id, sizeof call_task);
    harness_outcome(&h, "o0", "2026-10-05T13:10:00Z", "voicemail_left");
    cr_assert_str_eq(touch_str(&h, "channel"), "email");
    /* the voicemail pause (3 h) only delays calls */
    cr_assert_str_eq(touch_str(&h, "due_at"), "2026-10-05T09:10:00-04:00");
    cr_assert(!touch_moved(&h, "voicemail_gap"));
    /* the email that goes with the voicemail (the call's task) is not the email step */
    char extra[128];
    snprintf(extra, sizeof extra, "\"task_id\":\"%s\"", call_task);
    outcome_on(&h, "e0", "2026-10-05T13:12:00Z", "email", "sent", extra);
    cr_assert_str_eq(touch_str(&h, "channel"), "email");
    cr_assert_eq(h.st.ftc, 1);
    outcome_on(&h, "e1", "2026-10-05T13:20:00Z", "email", "sent", NULL);
    cr_assert_str_eq(touch_str(&h, "channel"), "linkedin");
    cr_assert_eq(h.st.ftc, 2);
    snprintf(extra, sizeof extra, "\"task_id\":\"%s\"", h.st.open_task_id);
    outcome_on(&h, "li", "2026-10-05T13:30:00Z", "linkedin", "sent", extra);
    cr_assert_str_eq(touch_str(&h, "channel"), "call");
    cr_assert_eq(json_integer_value(json_object_get(h.touch, "ftc_attempt")), 4);
    harness_fini(&h);
}

Test(engine_channels, a_bounce_answers_the_email_step_and_stops_email)
{
    harness h;
    harness_init(&h, with_email_step);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    harness_outcome(&h, "o0", "2026-10-05T13:10:00Z", "voicemail_left");
    outcome_on(&h, "b", "2026-10-05T13:20:00Z", "email", "bounced", NULL);
    cr_assert_str_eq(touch_str(&h, "channel"), "linkedin");
    cr_assert(h.st.no_email);
    harness_fini(&h);
}

/* --- 7. an outcome answers its task once ------------------------------------------------- */

Test(engine_tasks, a_dialer_retry_with_the_same_task_and_disposition_is_not_a_second_attempt)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    char extra[128];
    snprintf(extra, sizeof extra, "\"task_id\":\"%s\"", h.st.open_task_id);
    outcome_on(&h, "o1", "2026-10-05T13:10:00Z", "call", "no_answer", extra);
    cr_assert_eq(h.st.ftc, 1);
    cr_assert_str_neq(h.st.open_task_id, extra, "the task is closed: a new one is open");
    char *before = g_strdup(h.state_text);
    outcome_on(&h, "o1-retry", "2026-10-05T13:10:30Z", "call", "no_answer", extra);
    cr_assert_eq(h.last_rc, CADENCE_ENGINE_DUPLICATE);
    cr_assert_str_eq(h.state_text, before);
    cr_assert_eq(h.st.ftc, 1);
    g_free(before);
    /* another disposition for the same task is news */
    outcome_on(&h, "o1-vm", "2026-10-05T13:11:00Z", "call", "voicemail_left", extra);
    cr_assert_eq(h.last_rc, CADENCE_ENGINE_OK);
    harness_fini(&h);
}

/* --- 8. alerts per reason ---------------------------------------------------------------- */

Test(engine_alerts_per_reason, warm_inbound_never_swallows_a_later_former_no_revisit)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "warm", 60, "America/New_York");
    cr_assert_str_eq(alert_str(&h, "reason"), "warm_inbound");
    outcome_on(&h, "n", "2026-10-05T13:00:00Z", "call", "not_interested", NULL);
    harness_visit(&h, "v", "2026-10-05T15:00:00Z", "/pricing");
    cr_assert_str_eq(alert_str(&h, "reason"), "former_no_revisit");
    cr_assert_eq(json_integer_value(json_object_get(last_alert(&h), "revision")), 1);
    cr_assert_eq(messages_with(&h, CADENCE_TOPIC_ALERTS, NULL, NULL), 2);
    harness_fini(&h);
}

/* --- 9. hot pages as marketers write them ------------------------------------------------ */

Test(engine_hot_pages, patterns_match_host_less_case_insensitive_locale_free_paths)
{
    cadence_playbook *pb =
        harness_playbook("{\"hot_pages\":[{\"pattern\":\"/pricing*\",\"weight\":10},"
                         "{\"pattern\":\"/Demo/\",\"weight\":8}]}");
    static const struct {
        const char *url;
        int weight;
    } cases[] = {
        {"https://acme.com/pricing", 10},
        {"acme.com/Pricing/?utm_source=x", 10},
        {"www.acme.com/pricing", 10},
        {"//acme.com/pricing#plans", 10},
        {"/en/pricing", 10},
        {"https://www.acme.com/de-de/PRICING/plans", 10},
        {"HTTPS://ACME.COM/pt_BR/pricing/", 10},
        {"/demo", 8},
        {"/DEMO/?x=1", 8},
        {"/en/demo/", 8},
        {"/blog/pricing", 0},
        {"/english/pricing", 0},
        {"https://acme.com/", 0},
        {"", 0},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
        cr_assert_eq(cadence_playbook_hot_weight(pb, cases[i].url), cases[i].weight, "%s",
                     cases[i].url);
    cadence_playbook_free(pb);
}

/* --- 10. re-scoring ---------------------------------------------------------------------- */

Test(engine_rescoring, a_lead_that_never_said_no_re_enters_without_the_cool_off)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 10, "America/New_York");
    cr_assert_eq(h.st.status, CADENCE_STATUS_NURTURE);
    harness_lead(&h, "l2", "2026-10-06T12:00:00Z", "cold", 60, "America/New_York");
    cr_assert_eq(h.st.status, CADENCE_STATUS_ACTIVE);
    cr_assert_eq(messages_with(&h, CADENCE_TOPIC_LEAD_STATUS, "reason", "rescored"), 1);
    cr_assert_str_eq(touch_str(&h, "objective"), "first_time_call");
    cr_assert_str_eq(touch_str(&h, "due_at"), "2026-10-06T09:00:00-04:00");
    harness_fini(&h);
}

Test(engine_rescoring, a_lead_that_said_no_keeps_the_cool_off)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    outcome_on(&h, "n", "2026-10-05T13:00:00Z", "call", "not_interested", NULL);
    harness_lead(&h, "l2", "2026-10-06T12:00:00Z", "cold", 90, "America/New_York");
    cr_assert_eq(h.st.status, CADENCE_STATUS_NURTURE);
    cr_assert_null(h.touch);
    harness_fini(&h);
}

/* --- 11. calendars per region ------------------------------------------------------------ */

static void lead_in(harness *h, const char *at, const char *tz, const char *country)
{
    char c[32] = "";
    if (country)
        snprintf(c, sizeof c, ",\"country\":\"%s\"", country);
    harness_feed(h,
                 "{\"type\":\"lead\",\"event_id\":\"l\",\"occurred_at\":\"%s\",\"lead_id\":\"L1\","
                 "\"rep_id\":\"r1\",\"lead_type\":\"cold\",\"potential\":60,\"timezone\":\"%s\"%s}",
                 at, tz, c);
}

Test(engine_calendars, the_calendar_follows_the_country_then_the_zone)
{
    static const struct {
        const char *at, *tz, *country, *due;
        int holiday;
    } cases[] = {
        /* Mon 31 Aug 2026: UK summer bank holiday, a working day in the US */
        {"2026-08-31T08:00:00Z", "Europe/London", "GB", "2026-09-01T09:00:00+01:00", 1},
        {"2026-08-31T08:00:00Z", "Europe/London", NULL, "2026-09-01T09:00:00+01:00", 1},
        {"2026-08-31T08:00:00Z", "Europe/London", "US", "2026-08-31T09:00:00+01:00", 0},
        /* Thu 14 May 2026: Ascension Day in Germany */
        {"2026-05-14T07:00:00Z", "Europe/Berlin", NULL, "2026-05-15T09:00:00+02:00", 1},
        {"2026-05-14T13:00:00Z", "America/New_York", NULL, "2026-05-14T09:00:00-04:00", 0},
        /* Thu 26 Nov 2026: Thanksgiving (US), not in India */
        {"2026-11-26T14:00:00Z", "America/Chicago", NULL, "2026-11-27T09:00:00-06:00", 1},
        {"2026-01-26T03:30:00Z", "Asia/Kolkata", NULL, "2026-01-27T09:00:00+05:30", 1},
        {"2026-01-26T03:30:00Z", "Asia/Kolkata", "AU", "2026-01-27T09:00:00+05:30", 1},
        {"2026-04-06T23:00:00Z", "Australia/Sydney", NULL, "2026-04-07T09:00:00+10:00", 0},
        {"2026-04-05T23:00:00Z", "Australia/Sydney", NULL, "2026-04-07T09:00:00+10:00", 1},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        harness h;
        harness_init(&h, NULL);
        lead_in(&h, cases[i].at, cases[i].tz, cases[i].country);
        cr_assert_str_eq(touch_str(&h, "due_at"), cases[i].due, "case %zu", i);
        cr_assert_eq(touch_moved(&h, "holiday"), cases[i].holiday, "case %zu", i);
        harness_fini(&h);
    }
}

Test(engine_calendars, an_unknown_zone_is_an_invalid_event_not_new_york)
{
    static const char *bad[] = {"Mars/Olympus_Mons", "America/Nowhere", "Europe/Londn"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        char text[400], err[256];
        snprintf(text, sizeof text,
                 "{\"type\":\"lead\",\"event_id\":\"l\",\"occurred_at\":\"2026-10-05T12:00:00Z\","
                 "\"lead_id\":\"L1\",\"rep_id\":\"r1\",\"lead_type\":\"cold\",\"timezone\":\"%s\"}",
                 bad[i]);
        json_t *doc = json_loads(text, 0, NULL);
        cadence_event *ev = g_new(cadence_event, 1);
        cr_assert_eq(cadence_event_from_json(doc, ev, err, sizeof err), -1, "%s", bad[i]);
        cr_assert(strstr(err, "/timezone: unknown IANA time zone"), "%s", err);
        cr_assert(strstr(err, bad[i]), "%s", err);
        g_free(ev);
        json_decref(doc);
    }
    char err[256];
    json_t *doc = json_loads("{\"type\":\"lead\",\"event_id\":\"l\",\"occurred_at\":"
                             "\"2026-10-05T12:00:00Z\",\"lead_id\":\"L1\",\"rep_id\":\"r1\","
                             "\"lead_type\":\"cold\",\"country\":\"gb\"}",
                             0, NULL);
    cadence_event *ev = g_new(cadence_event, 1);
    cr_assert_eq(cadence_event_from_json(doc, ev, err, sizeof err), -1);
    cr_assert(strstr(err, "/country"), "%s", err);
    g_free(ev);
    json_decref(doc);
}

/* --- 12. a late "no": fresh views alert, stale ones never ------------------------------- */

Test(engine_freshness, a_late_no_never_raises_a_stale_revisit)
{
    static const struct {
        const char *later; /* a dial the lead saw after the view (NULL none) */
        int alerts;
    } cases[] = {
        {NULL, 1},                   /* the view is the newest thing: fresh */
        {"2026-10-09T16:30:00Z", 1}, /* 1.5 h later: fresh (2 h) */
        {"2026-10-09T20:00:00Z", 0}, /* 5 h later: stale */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        harness h;
        harness_init(&h, NULL);
        harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
        harness_visit(&h, "v", "2026-10-09T15:00:00Z", "/pricing");
        if (cases[i].later) /* a dial that reached nobody (a visit to a page that is not hot
                             * would not do: it does not move the lead's clock) */
            outcome_on(&h, "d-later", cases[i].later, "call", "no_answer", NULL);
        outcome_on(&h, "n", "2026-10-07T15:00:00Z", "call", "not_interested", NULL);
        cr_assert_eq(messages_with(&h, CADENCE_TOPIC_ALERTS, "reason", "former_no_revisit"),
                     cases[i].alerts, "case %zu", i);
        harness_fini(&h);
    }
}

/* A visit to a page that is not hot does not move the lead's clock: the worker acknowledges
 * such visits without applying them, and must decide as the engine does. */
Test(engine_freshness, a_visit_to_a_page_that_is_not_hot_keeps_a_view_fresh)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    harness_visit(&h, "v", "2026-10-09T15:00:00Z", "/pricing");
    harness_visit(&h, "v-blog", "2026-10-09T20:00:00Z", "/blog"); /* 5 h later */
    outcome_on(&h, "n", "2026-10-07T15:00:00Z", "call", "not_interested", NULL);
    cr_assert_eq(messages_with(&h, CADENCE_TOPIC_ALERTS, "reason", "former_no_revisit"), 1);
    harness_fini(&h);
}

/* --- playbook warnings ------------------------------------------------------------------- */

Test(engine_playbook_warnings, more_voicemails_than_scripts_is_a_warning)
{
    cadence_playbook *pb = harness_playbook(NULL);
    GString *w = g_string_new("");
    int n = cadence_playbook_warnings(pb, w);
    cr_assert_eq(n, 0, "the shipped playbook: %s", w->str);
    cadence_playbook_free(pb);
    g_string_truncate(w, 0);
    pb = harness_playbook("{\"voicemail_scripts\": [{\"id\":\"v1\",\"text\":\"a\"},"
                          "{\"id\":\"v2\",\"text\":\"b\"},{\"id\":\"v3\",\"text\":\"c\"}],"
                          "\"email_scripts\": [{\"id\":\"e1\",\"body\":\"a\"},"
                          "{\"id\":\"e2\",\"body\":\"b\"},{\"id\":\"e3\",\"body\":\"c\"}]}");
    n = cadence_playbook_warnings(pb, w);
    cr_assert_eq(n, 2, "%s", w->str);
    cr_assert(strstr(w->str, "cadence zero_to_ten can leave"), "%s", w->str);
    cr_assert(strstr(w->str, "only 3 voicemail scripts"), "%s", w->str);
    g_string_free(w, TRUE);
    cadence_playbook_free(pb);
}
