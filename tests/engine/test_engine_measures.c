/*
 * test_engine_measures — the managers' counters: every dial is an attempt (connected ones and
 * a "no" too), connects are counted among the attempts of the same row (so no rate passes
 * 100 %), the seeds' measures, and the rep and local day every counter belongs to.
 */
#include "engine/measures.h"
#include "engine_harness.h"

/* An outcome for lead L1 by `rep` on `channel`. */
static void outcome_by(harness *h, const char *id, const char *at, const char *rep,
                       const char *channel, const char *disp)
{
    harness_feed(h,
                 "{\"type\":\"call_outcome\",\"event_id\":\"%s\",\"occurred_at\":\"%s\","
                 "\"lead_id\":\"L1\",\"rep_id\":\"%s\",\"channel\":\"%s\","
                 "\"disposition\":\"%s\"}",
                 id, at, rep, channel, disp);
}

Test(engine_measures, every_dial_is_an_attempt_and_connects_are_among_them)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    harness_outcome(&h, "o0", "2026-10-05T13:10:00Z", "no_answer");
    harness_outcome(&h, "o1", "2026-10-05T18:10:00Z", "voicemail_left");
    harness_outcome(&h, "o2", "2026-10-06T14:00:00Z", "connected");
    cr_assert_eq(counter(&h, "dials"), 3);
    cr_assert_eq(counter(&h, "connects"), 1);
    cr_assert_eq(counter(&h, "voicemails_left"), 1);
    cr_assert_eq(counter(&h, "attempts:zero_to_ten:0:cold"), 1);
    cr_assert_eq(counter(&h, "attempts:zero_to_ten:1:cold"), 1);
    cr_assert_eq(counter(&h, "attempts:zero_to_ten:2:cold"), 1, "the connected dial is an attempt");
    cr_assert_eq(counter(&h, "connects:zero_to_ten:2:cold"), 1);
    cr_assert_eq(counter(&h, "first_contacts"), 1);
    cr_assert_eq(counter(&h, "attempts_before_first_contact"), 2);
    /* after the conversation, dials are follow-ups */
    harness_outcome(&h, "f1", "2026-10-08T14:00:00Z", "no_answer");
    harness_outcome(&h, "f2", "2026-10-09T14:00:00Z", "connected");
    cr_assert_eq(counter(&h, "attempts:zero_to_ten:follow_up:cold"), 2);
    cr_assert_eq(counter(&h, "connects:zero_to_ten:follow_up:cold"), 1);
    cr_assert_eq(counter(&h, "dials"), 5);
    cr_assert_eq(counter(&h, "connects"), 2);
    cr_assert_eq(counter(&h, "first_contacts"), 1, "the second conversation is no first contact");
    harness_fini(&h);
}

Test(engine_measures, a_no_is_a_connected_dial_and_a_first_contact)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "warm", 60, "America/New_York");
    harness_outcome(&h, "o0", "2026-10-05T13:10:00Z", "gatekeeper");
    harness_outcome(&h, "o1", "2026-10-05T18:10:00Z", "not_interested");
    cr_assert_eq(counter(&h, "dials"), 2);
    cr_assert_eq(counter(&h, "connects"), 1);
    cr_assert_eq(counter(&h, "connects:zero_to_ten_warm:1:warm"), 1);
    cr_assert_eq(counter(&h, "attempts:zero_to_ten_warm:1:warm"), 1);
    cr_assert_eq(counter(&h, "first_contacts"), 1);
    cr_assert_eq(counter(&h, "attempts_before_first_contact"), 1);
    harness_fini(&h);
}

Test(engine_measures, callbacks_and_emails_are_no_dials)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    harness_outcome(&h, "o0", "2026-10-05T13:10:00Z", "voicemail_left");
    harness_outcome(&h, "cb", "2026-10-05T15:00:00Z", "callback_received");
    outcome_by(&h, "e1", "2026-10-05T15:30:00Z", "r1", "email", "replied");
    cr_assert_eq(counter(&h, "dials"), 1);
    cr_assert_eq(counter(&h, "connects"), 0);
    cr_assert_eq(counter(&h, "callbacks_received"), 1);
    cr_assert_eq(counter(&h, "voicemails_left"), 1);
    cr_assert_eq(counter(&h, "email_replies"), 1);
    harness_fini(&h);
}

Test(engine_measures, a_win_counts_follow_ups_and_the_step_of_the_first_conversation)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    harness_outcome(&h, "o0", "2026-10-05T13:10:00Z", "no_answer");
    harness_outcome(&h, "c", "2026-10-05T18:10:00Z", "connected");
    harness_outcome(&h, "f1", "2026-10-07T13:10:00Z", "no_answer");
    harness_outcome(&h, "m", "2026-10-08T13:10:00Z", "meeting_booked");
    harness_outcome(&h, "w", "2026-10-12T13:10:00Z", "closed_won");
    cr_assert_eq(counter(&h, "meetings"), 1);
    cr_assert_eq(counter(&h, "won_deals"), 1);
    cr_assert_eq(counter(&h, "follow_ups_to_close"), 1);
    cr_assert_eq(counter(&h, "wins:zero_to_ten:1:cold"), 1);
    cr_assert_eq(counter(&h, "dials"), 5, "the booking and the winning call are dials");
    cr_assert_eq(counter(&h, "connects"), 3);
    cr_assert_eq(counter(&h, "first_contacts"), 1);
    harness_fini(&h);
}

Test(engine_measures, counters_belong_to_the_dialling_rep_on_the_leads_local_day)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T16:00:00Z", "cold", 60, "America/Los_Angeles");
    cr_assert_eq(cell(&h, "2026-10-05", "r1", "leads:cold"), 1);
    /* 05:30 UTC on the 6th is 22:30 on the 5th in Los Angeles */
    outcome_by(&h, "o0", "2026-10-06T05:30:00Z", "r2", "call", "connected");
    cr_assert_eq(cell(&h, "2026-10-05", "r2", "dials"), 1);
    cr_assert_eq(cell(&h, "2026-10-05", "r2", "connects"), 1);
    cr_assert_eq(cell(&h, "2026-10-06", "r2", "dials"), 0);
    cr_assert_eq(cell(&h, "2026-10-05", "r1", "dials"), 0, "the owner did not dial");
    outcome_by(&h, "o1", "2026-10-06T17:00:00Z", "r1", "call", "no_answer");
    cr_assert_eq(cell(&h, "2026-10-06", "r1", "dials"), 1);
    harness_fini(&h);
}

Test(engine_measures, a_replayed_outcome_counts_nothing)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    harness_outcome(&h, "o0", "2026-10-05T13:10:00Z", "connected");
    harness_outcome(&h, "o0", "2026-10-05T13:10:00Z", "connected");
    cr_assert_eq(h.last_rc, CADENCE_ENGINE_DUPLICATE);
    cr_assert_eq(counter(&h, "dials"), 1);
    cr_assert_eq(counter(&h, "connects"), 1);
    harness_fini(&h);
}

/* The dial table, row by row. */
Test(engine_measures, the_dial_table)
{
    static const struct {
        cadence_disposition d;
        cadence_channel c;
        cadence_dial_kind want;
    } rows[] = {
        {CADENCE_DISP_NO_ANSWER, CADENCE_CHANNEL_CALL, CADENCE_DIAL_MISSED},
        {CADENCE_DISP_VOICEMAIL_LEFT, CADENCE_CHANNEL_CALL, CADENCE_DIAL_MISSED},
        {CADENCE_DISP_GATEKEEPER, CADENCE_CHANNEL_CALL, CADENCE_DIAL_MISSED},
        {CADENCE_DISP_CONNECTED, CADENCE_CHANNEL_CALL, CADENCE_DIAL_CONNECT},
        {CADENCE_DISP_NOT_INTERESTED, CADENCE_CHANNEL_CALL, CADENCE_DIAL_CONNECT},
        {CADENCE_DISP_MEETING_BOOKED, CADENCE_CHANNEL_CALL, CADENCE_DIAL_CONNECT},
        {CADENCE_DISP_CLOSED_WON, CADENCE_CHANNEL_CALL, CADENCE_DIAL_CONNECT},
        {CADENCE_DISP_CLOSED_LOST, CADENCE_CHANNEL_CALL, CADENCE_DIAL_CONNECT},
        {CADENCE_DISP_WRONG_NUMBER, CADENCE_CHANNEL_CALL, CADENCE_DIAL_MISSED},
        {CADENCE_DISP_DO_NOT_CALL, CADENCE_CHANNEL_CALL, CADENCE_DIAL_MISSED},
        {CADENCE_DISP_CALLBACK_RECEIVED, CADENCE_CHANNEL_CALL, CADENCE_DIAL_NONE},
        {CADENCE_DISP_SENT, CADENCE_CHANNEL_EMAIL, CADENCE_DIAL_NONE},
        {CADENCE_DISP_MEETING_BOOKED, CADENCE_CHANNEL_EMAIL, CADENCE_DIAL_NONE},
        {CADENCE_DISP_CONNECTED, CADENCE_CHANNEL_LINKEDIN, CADENCE_DIAL_NONE},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        cr_assert_eq(cadence_measures_dial(rows[i].d, rows[i].c), rows[i].want, "row %zu", i);
    cr_assert_eq(cadence_measures_dial(CADENCE_DISP_COUNT, CADENCE_CHANNEL_CALL),
                 CADENCE_DIAL_NONE);
}

/* The documented exception: an outcome held until its lead arrives counts on the lead event's
 * local day (one apply writes one day's hash), still for the rep who dialled. */
Test(engine_measures, an_outcome_held_for_its_lead_counts_on_the_lead_events_day)
{
    harness h;
    harness_init(&h, NULL);
    outcome_by(&h, "o0", "2026-10-05T14:00:00Z", "r2", "call", "no_answer");
    cr_assert_eq(counter(&h, "dials"), 0, "held: nothing counted yet");
    harness_lead(&h, "l", "2026-10-06T14:00:00Z", "cold", 60, "America/New_York");
    cr_assert_eq(cell(&h, "2026-10-06", "r2", "dials"), 1);
    cr_assert_eq(cell(&h, "2026-10-06", "r1", "leads:cold"), 1);
    harness_fini(&h);
}
