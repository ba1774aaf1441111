/*
 * test_engine_followup — FTC numbering, follow-up mode (objective, opener, next_contact_at,
 * role and qualification warnings), and the dispositions table.
 */
#include "engine_harness.h"

static void connected(harness *h, const char *id, const char *at, const char *role,
                      const char *qual, const char *next_contact)
{
    char nc[80] = "";
    if (next_contact)
        snprintf(nc, sizeof nc, ",\"next_contact_at\":\"%s\"", next_contact);
    harness_feed(h,
                 "{\"type\":\"call_outcome\",\"event_id\":\"%s\",\"occurred_at\":\"%s\","
                 "\"lead_id\":\"L1\",\"rep_id\":\"r1\",\"channel\":\"call\","
                 "\"disposition\":\"connected\",\"conversation\":{\"problems\":[\"slow "
                 "follow-up\",\"lost leads\",\"no data\"],\"next_steps\":\"you were going to "
                 "ask your CFO\",\"role\":\"%s\",\"qualification\":%s%s}}",
                 id, at, role, qual, nc);
}

static const char *all_qualified =
    "{\"problem\":true,\"decision_makers\":true,\"timeline\":true,\"price\":true}";

Test(engine_followup, ftc_numbers_attempts_before_the_first_conversation)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    harness_outcome(&h, "o0", "2026-10-05T13:10:00Z", "gatekeeper");
    harness_outcome(&h, "o1", "2026-10-05T18:10:00Z", "no_answer");
    cr_assert_eq(json_integer_value(json_object_get(h.touch, "ftc_attempt")), 3);
    connected(&h, "c", "2026-10-06T18:10:00Z", "decision_maker", all_qualified, NULL);
    cr_assert_str_eq(touch_str(&h, "objective"), "follow_up");
    cr_assert_null(json_object_get(h.touch, "ftc_attempt"));
    cr_assert_eq(counter(&h, "first_contacts"), 1);
    cr_assert_eq(counter(&h, "attempts_before_first_contact"), 2);
    cr_assert_eq(counter(&h, "connects:zero_to_ten:2:cold"), 1);
    harness_fini(&h);
}

Test(engine_followup, the_opener_is_rendered_from_the_conversation)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    connected(&h, "c", "2026-10-05T13:10:00Z", "decision_maker", all_qualified, NULL);
    cr_assert_str_eq(touch_str(&h, "opener"),
                     "Hi Ana – last we spoke, we discussed slow follow-up, lost leads and no "
                     "data, and you were going to ask your CFO. I also had another idea that "
                     "might be of some interest to you. Is now still a good time to have that "
                     "conversation?");
    cr_assert_eq(json_array_size(json_object_get(h.touch, "warnings")), 0);
    /* follow_up.gap_days = 2, slot from 09:00 */
    cr_assert_str_eq(touch_str(&h, "due_at"), "2026-10-07T09:00:00-04:00");
    harness_fini(&h);
}

Test(engine_followup, honours_the_agreed_next_contact_time)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    connected(&h, "c", "2026-10-05T13:10:00Z", "decision_maker", all_qualified,
              "2026-10-20T20:30:00Z");
    cr_assert_str_eq(touch_str(&h, "due_at"), "2026-10-20T16:30:00-04:00");
    harness_fini(&h);
}

Test(engine_followup, warns_when_not_a_decision_maker_or_qualification_missing)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    connected(&h, "c", "2026-10-05T13:10:00Z", "info_gatherer",
              "{\"problem\":true,\"timeline\":false}", NULL);
    cr_assert(touch_warned(&h, "not_decision_maker"));
    cr_assert(touch_warned(&h, "qualification_missing"));
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(h.touch, "warnings"), i, w)
    {
        const char *m = json_string_value(json_object_get(w, "message"));
        if (strcmp(json_string_value(json_object_get(w, "code")), "qualification_missing") == 0)
            cr_assert_str_eq(m, "qualification checks missing: decision_makers, timeline, price");
        else
            cr_assert(strstr(m, "info_gatherer"));
    }
    harness_fini(&h);
}

Test(engine_followup, a_callback_gives_an_immediate_call_and_a_counter)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    harness_outcome(&h, "o0", "2026-10-05T13:10:00Z", "voicemail_left");
    harness_outcome(&h, "cb", "2026-10-05T15:00:00Z", "callback_received");
    /* nobody spoke with the prospect yet: still a first-time call (FTC #2) */
    cr_assert_str_eq(touch_str(&h, "objective"), "first_time_call");
    cr_assert_eq(json_integer_value(json_object_get(h.touch, "ftc_attempt")), 2);
    cr_assert_str_eq(touch_str(&h, "due_at"), "2026-10-05T11:00:00-04:00");
    cr_assert_eq(counter(&h, "callbacks_received"), 1);
    cr_assert_eq(counter(&h, "voicemails_left"), 1);
    harness_fini(&h);
}

Test(engine_followup, follow_ups_to_close_are_counted_on_a_win)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    connected(&h, "c", "2026-10-05T13:10:00Z", "decision_maker", all_qualified, NULL);
    harness_outcome(&h, "f1", "2026-10-07T13:10:00Z", "no_answer");
    connected(&h, "f2", "2026-10-09T13:10:00Z", "decision_maker", all_qualified, NULL);
    harness_outcome(&h, "w", "2026-10-12T13:10:00Z", "closed_won");
    cr_assert_eq(counter(&h, "won_deals"), 1);
    cr_assert_eq(counter(&h, "follow_ups_to_close"), 2);
    cr_assert_eq(counter(&h, "wins:zero_to_ten:0:cold"), 1);
    cr_assert_null(h.touch);
    harness_fini(&h);
}

/* --- dispositions, table-driven --- */

typedef struct disp_row {
    const char *channel, *disposition;
    cadence_status status; /* expected status after */
    int touch;             /* an open touch after? */
    const char *reason;    /* expected lead-status reason, NULL: no status change */
} disp_row;

static const disp_row disp_rows[] = {
    {"call", "no_answer", CADENCE_STATUS_ACTIVE, 1, NULL},
    {"call", "voicemail_left", CADENCE_STATUS_ACTIVE, 1, NULL},
    {"call", "gatekeeper", CADENCE_STATUS_ACTIVE, 1, NULL},
    {"call", "connected", CADENCE_STATUS_FOLLOW_UP, 1, "connected"},
    {"call", "callback_received", CADENCE_STATUS_ACTIVE, 1, NULL},
    {"call", "not_interested", CADENCE_STATUS_NURTURE, 0, "not_interested"},
    {"call", "meeting_booked", CADENCE_STATUS_MEETING_BOOKED, 0, "meeting_booked"},
    {"call", "closed_won", CADENCE_STATUS_WON, 0, "closed_won"},
    {"call", "closed_lost", CADENCE_STATUS_LOST, 0, "closed_lost"},
    {"call", "wrong_number", CADENCE_STATUS_DO_NOT_CALL, 0, "wrong_number"},
    {"call", "do_not_call", CADENCE_STATUS_DO_NOT_CALL, 0, "do_not_call"},
    {"email", "sent", CADENCE_STATUS_ACTIVE, 1, NULL},
    {"email", "replied", CADENCE_STATUS_ACTIVE, 1, NULL},
    {"email", "bounced", CADENCE_STATUS_ACTIVE, 1, NULL},
};

Test(engine_dispositions, each_disposition_does_what_the_playbook_says)
{
    for (size_t i = 0; i < G_N_ELEMENTS(disp_rows); i++) {
        const disp_row *d = &disp_rows[i];
        harness h;
        harness_init(&h, NULL);
        harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
        harness_feed(&h,
                     "{\"type\":\"call_outcome\",\"event_id\":\"o\",\"occurred_at\":"
                     "\"2026-10-05T13:10:00Z\",\"lead_id\":\"L1\",\"rep_id\":\"r1\","
                     "\"channel\":\"%s\",\"disposition\":\"%s\",\"no_reason\":\"no budget\"}",
                     d->channel, d->disposition);
        cr_assert_eq(h.st.status, d->status, "%s", d->disposition);
        cr_assert_eq(h.touch != NULL, d->touch, "%s", d->disposition);
        if (d->reason)
            cr_assert_eq(messages_with(&h, CADENCE_TOPIC_LEAD_STATUS, "reason", d->reason), 1, "%s",
                         d->disposition);
        else
            cr_assert_eq(messages_with(&h, CADENCE_TOPIC_LEAD_STATUS, NULL, NULL), 1,
                         "%s: only the enrolment", d->disposition);
        harness_fini(&h);
    }
}

Test(engine_dispositions, replied_email_gives_a_follow_up_and_bounced_stops_email)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    harness_feed(&h, "{\"type\":\"call_outcome\",\"event_id\":\"b\",\"occurred_at\":"
                     "\"2026-10-05T12:10:00Z\",\"lead_id\":\"L1\",\"rep_id\":\"r1\","
                     "\"channel\":\"email\",\"disposition\":\"bounced\"}");
    cr_assert(json_is_false(json_object_get(h.touch, "email")));
    cr_assert(touch_warned(&h, "email_bounced"));
    harness_feed(&h, "{\"type\":\"call_outcome\",\"event_id\":\"r\",\"occurred_at\":"
                     "\"2026-10-05T14:00:00Z\",\"lead_id\":\"L1\",\"rep_id\":\"r1\","
                     "\"channel\":\"email\",\"disposition\":\"replied\"}");
    cr_assert_str_eq(touch_str(&h, "objective"), "first_time_call", "no conversation yet");
    cr_assert_str_eq(touch_str(&h, "due_at"), "2026-10-05T10:00:00-04:00", "at once");
    cr_assert_eq(counter(&h, "email_replies"), 1);
    harness_fini(&h);
}

Test(engine_dispositions, not_interested_keeps_the_date_and_reason_of_the_no)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    harness_feed(&h, "{\"type\":\"call_outcome\",\"event_id\":\"n\",\"occurred_at\":"
                     "\"2026-10-05T13:10:00Z\",\"lead_id\":\"L1\",\"rep_id\":\"r1\","
                     "\"channel\":\"call\",\"disposition\":\"not_interested\","
                     "\"no_reason\":\"we are all set\"}");
    cr_assert_str_eq(h.st.no_reason, "we are all set");
    char buf[40];
    cadence_rfc3339_format(h.st.no_at, buf, sizeof buf);
    cr_assert_str_eq(buf, "2026-10-05T13:10:00Z");
    cr_assert_null(h.touch);
    harness_fini(&h);
}

Test(engine_dispositions, reenrolment_needs_the_explicit_flag_and_the_cool_off)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    harness_outcome(&h, "vm", "2026-10-05T13:05:00Z", "voicemail_left"); /* vm-1 spent */
    harness_outcome(&h, "n", "2026-10-05T13:10:00Z", "not_interested");
#define lead                                                                                       \
    "{\"type\":\"lead\",\"event_id\":\"%s\",\"occurred_at\":\"%s\","                               \
    "\"lead_id\":\"L1\",\"rep_id\":\"r1\",\"lead_type\":\"cold\","                                 \
    "\"potential\":60,\"reenroll\":%s}"
    harness_feed(&h, lead, "l2", "2026-10-20T12:00:00Z", "false");
    cr_assert_eq(h.st.status, CADENCE_STATUS_NURTURE);
    harness_feed(&h, lead, "l3", "2026-10-20T12:00:00Z", "true"); /* inside the 30-day cool-off */
    cr_assert_eq(h.st.status, CADENCE_STATUS_NURTURE);
    cr_assert_null(h.touch);
    harness_feed(&h, lead, "l4", "2026-11-10T12:00:00Z", "true");
    cr_assert_eq(h.st.status, CADENCE_STATUS_ACTIVE);
    cr_assert_eq(messages_with(&h, CADENCE_TOPIC_LEAD_STATUS, "reason", "reenrolled"), 1);
    cr_assert_str_eq(touch_str(&h, "objective"), "first_time_call");
    cr_assert_str_neq(touch_str(&h, "message_id"), "vm-1", "scripts are never repeated");
    harness_fini(&h);
#undef lead
}
