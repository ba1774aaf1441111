/*
 * test_engine_order — events in any order, replays, and randomised invariants.
 *
 * Random lead histories (fixed seeds, so failures reproduce) are run in time order, checking
 * after every event: at most one open touch; no touch for a lead out of the cadence (nurture,
 * do-not-call, won, lost, meeting booked); no script given to two attempts; no alert for a
 * visit from before the "no"; a replayed event changes nothing. The same events shuffled must
 * converge to the same facts (status, attempts, conversation, "no", open touch).
 */
#include "engine_harness.h"

typedef struct gen_event {
    char json[1024];
    int64_t at;
} gen_event;

static const struct {
    const char *channel, *disposition;
    int weight;
} outcome_mix[] = {
    {"call", "no_answer", 8},      {"call", "voicemail_left", 6},    {"call", "gatekeeper", 2},
    {"call", "connected", 2},      {"call", "callback_received", 1}, {"call", "not_interested", 2},
    {"email", "sent", 2},          {"email", "replied", 1},          {"email", "bounced", 1},
    {"email", "out_of_office", 1}, {"call", "meeting_booked", 1},    {"call", "closed_won", 1},
    {"call", "closed_lost", 1},    {"call", "wrong_number", 1},      {"call", "do_not_call", 1},
};

static int generate(GRand *rng, gen_event *out, int max)
{
    int64_t t = 1790000000000LL + (int64_t)g_rand_int_range(rng, 0, 1000) * 3600000LL;
    int n = 0;
    char at[40];
    cadence_rfc3339_format(t, at, sizeof at);
    const char *tzs[] = {"America/New_York", "Europe/Berlin", "Asia/Kolkata", ""};
    snprintf(out[n].json, sizeof out[n].json,
             "{\"type\":\"lead\",\"event_id\":\"lead-0\",\"occurred_at\":\"%s\",\"lead_id\":"
             "\"L1\",\"rep_id\":\"r1\",\"lead_type\":\"%s\",\"potential\":%d,"
             "\"first_name\":\"Ana\",\"email\":\"a@b.test\",\"timezone\":\"%s\"}",
             at, g_rand_boolean(rng) ? "warm" : "cold", g_rand_int_range(rng, 10, 100),
             tzs[g_rand_int_range(rng, 0, 4)]);
    out[n++].at = t;
    int total = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(outcome_mix); i++)
        total += outcome_mix[i].weight;
    int count = g_rand_int_range(rng, 3, max);
    for (int k = 0; k < count; k++) {
        t += (int64_t)g_rand_int_range(rng, 20, 4 * 24 * 60) * 60000LL;
        cadence_rfc3339_format(t, at, sizeof at);
        if (g_rand_int_range(rng, 0, 5) == 0) {
            snprintf(out[n].json, sizeof out[n].json,
                     "{\"type\":\"site_visit\",\"event_id\":\"v-%d\",\"occurred_at\":\"%s\","
                     "\"lead_id\":\"L1\",\"url\":\"%s\"}",
                     k, at, g_rand_boolean(rng) ? "/pricing" : "/blog");
        } else {
            int w = g_rand_int_range(rng, 0, total);
            size_t i = 0;
            while (w >= outcome_mix[i].weight)
                w -= outcome_mix[i++].weight;
            char ret[40];
            cadence_rfc3339_format(t + 5 * 86400000LL, ret, sizeof ret);
            snprintf(out[n].json, sizeof out[n].json,
                     "{\"type\":\"call_outcome\",\"event_id\":\"o-%d\",\"occurred_at\":\"%s\","
                     "\"lead_id\":\"L1\",\"rep_id\":\"r1\",\"channel\":\"%s\",\"disposition\":"
                     "\"%s\",\"return_date\":\"%s\",\"no_reason\":\"r%d\",\"conversation\":{"
                     "\"problems\":[\"p%d\"],\"role\":\"influencer\"}}",
                     k, at, outcome_mix[i].channel, outcome_mix[i].disposition, ret, k, k);
        }
        out[n++].at = t;
    }
    return n;
}

static int out_of_cadence(cadence_status s)
{
    return s == CADENCE_STATUS_NURTURE || s == CADENCE_STATUS_DO_NOT_CALL ||
           s == CADENCE_STATUS_WON || s == CADENCE_STATUS_LOST ||
           s == CADENCE_STATUS_MEETING_BOOKED;
}

static void check_invariants(harness *h, GHashTable *script_owner)
{
    cr_assert_eq(h->st.open_task_id[0] != '\0', h->touch != NULL, "one open touch at most");
    /* a meeting the prospect booked from a resting stage gets a confirming call */
    if (out_of_cadence(h->st.status) &&
        !(h->st.status == CADENCE_STATUS_MEETING_BOOKED && h->st.callback_at >= h->st.status_at))
        cr_assert_null(h->touch, "a touch for a %s lead", cadence_status_name(h->st.status));
    if (h->touch) {
        /* a spent script is never planned again (planning alone spends nothing) */
        const char *m = json_string_value(json_object_get(h->touch, "message_id"));
        int k = m ? cadence_playbook_script_find(h->pb, m) : -1;
        cr_assert(k < 0 || !(h->st.scripts_used & (1U << k)), "spent script %s planned again", m);
        (void)script_owner;
    }
    size_t i;
    json_t *msg;
    json_array_foreach(h->messages, i, msg)
    {
        json_t *v = json_object_get(msg, "value");
        const char *reason = json_string_value(json_object_get(v, "reason"));
        if (!reason || strcmp(reason, "former_no_revisit") != 0)
            continue;
        int64_t trig, no;
        cr_assert_eq(cadence_rfc3339_parse(json_string_value(json_object_get(
                                               json_object_get(v, "trigger"), "occurred_at")),
                                           &trig),
                     0);
        cr_assert_eq(cadence_rfc3339_parse(
                         json_string_value(json_object_get(json_object_get(v, "no"), "at")), &no),
                     0);
        cr_assert_gt(trig, no, "an alert for a visit from before the \"no\"");
    }
}

static void run_in_order(harness *h, gen_event *evs, int n, int check)
{
    GHashTable *owners = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (int i = 0; i < n; i++) {
        cr_assert_eq(harness_feed_json(h, evs[i].json), CADENCE_ENGINE_OK, "%s", evs[i].json);
        if (!check)
            continue;
        check_invariants(h, owners);
        /* replaying the event changes nothing */
        char *before = g_strdup(h->state_text);
        size_t n_msgs = json_array_size(h->messages);
        cr_assert_eq(harness_feed_json(h, evs[i].json), CADENCE_ENGINE_DUPLICATE);
        cr_assert_str_eq(h->state_text, before);
        cr_assert_eq(json_array_size(h->messages), n_msgs);
        g_free(before);
    }
    g_hash_table_destroy(owners);
}

static void expect_same_facts(const cadence_lead_state *a, const cadence_lead_state *b, int seed)
{
    cr_assert_eq(a->status, b->status, "seed %d: status %s vs %s", seed,
                 cadence_status_name(a->status), cadence_status_name(b->status));
    cr_assert_str_eq(a->cadence, b->cadence, "seed %d", seed);
    cr_assert_eq(a->n_attempts, b->n_attempts, "seed %d", seed);
    for (int i = 0; i < a->n_attempts; i++) {
        cr_assert_eq(a->attempts[i].at, b->attempts[i].at, "seed %d", seed);
        cr_assert_eq(a->attempts[i].voicemail, b->attempts[i].voicemail, "seed %d", seed);
        cr_assert_eq(a->attempts[i].follow_up, b->attempts[i].follow_up, "seed %d", seed);
    }
    cr_assert_eq(a->ftc, b->ftc, "seed %d", seed);
    cr_assert_eq(a->connected_at, b->connected_at, "seed %d", seed);
    cr_assert_eq(a->no_at, b->no_at, "seed %d", seed);
    cr_assert_str_eq(a->no_reason, b->no_reason, "seed %d", seed);
    cr_assert_eq(a->callback_at, b->callback_at, "seed %d", seed);
    cr_assert_eq(a->ooo_until, b->ooo_until, "seed %d", seed);
    cr_assert_eq(a->no_email, b->no_email, "seed %d", seed);
    cr_assert_str_eq(a->problems, b->problems, "seed %d", seed);
    cr_assert_eq(a->open_task_id[0] != 0, b->open_task_id[0] != 0, "seed %d: open touch", seed);
    cr_assert_eq(a->open_due_at, b->open_due_at, "seed %d: due", seed);
}

Test(engine_order, random_histories_keep_the_invariants)
{
    gen_event evs[16];
    for (int seed = 1; seed <= 200; seed++) {
        GRand *rng = g_rand_new_with_seed((guint32)seed);
        int n = generate(rng, evs, 15);
        g_rand_free(rng);
        harness h;
        harness_init(&h, NULL);
        run_in_order(&h, evs, n, 1);
        harness_fini(&h);
    }
}

Test(engine_order, any_order_converges_to_the_time_order_facts)
{
    gen_event evs[12], shuffled[12];
    for (int seed = 1; seed <= 200; seed++) {
        GRand *rng = g_rand_new_with_seed((guint32)seed);
        int n = generate(rng, evs, 9);
        memcpy(shuffled, evs, sizeof evs);
        for (int i = n - 1; i > 0; i--) {
            int j = g_rand_int_range(rng, 0, i + 1);
            gen_event t = shuffled[i];
            shuffled[i] = shuffled[j];
            shuffled[j] = t;
        }
        g_rand_free(rng);
        harness a, b;
        harness_init(&a, NULL);
        harness_init(&b, NULL);
        run_in_order(&a, evs, n, 0);
        run_in_order(&b, shuffled, n, 0);
        expect_same_facts(&a.st, &b.st, seed);
        harness_fini(&a);
        harness_fini(&b);
    }
}

Test(engine_order, an_outcome_before_its_lead_is_held_and_folded_in)
{
    harness h;
    harness_init(&h, NULL);
    harness_outcome(&h, "o0", "2026-10-05T13:10:00Z", "voicemail_left");
    cr_assert_null(h.touch);
    cr_assert_eq(h.st.n_pending, 1);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    cr_assert_eq(h.st.n_pending, 0);
    cr_assert_eq(h.st.ftc, 1);
    cr_assert_str_eq(touch_str(&h, "due_at"), "2026-10-05T14:00:00-04:00");
    harness_fini(&h);
}

Test(engine_order, a_visit_for_an_unknown_lead_creates_no_work)
{
    harness h;
    harness_init(&h, NULL);
    harness_visit(&h, "v", "2026-10-05T13:10:00Z", "/pricing");
    cr_assert_null(h.touch);
    cr_assert_eq(json_array_size(h.messages), 0);
    harness_fini(&h);
}

Test(engine_order, a_no_arriving_after_a_later_visit_still_finds_the_trigger)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    harness_visit(&h, "v", "2026-10-09T15:00:00Z", "/pricing"); /* arrives first */
    harness_feed(&h, "{\"type\":\"call_outcome\",\"event_id\":\"no\",\"occurred_at\":"
                     "\"2026-10-07T15:00:00Z\",\"lead_id\":\"L1\",\"rep_id\":\"r1\","
                     "\"channel\":\"call\",\"disposition\":\"not_interested\"}");
    cr_assert_eq(h.st.status, CADENCE_STATUS_NURTURE);
    cr_assert_eq(messages_with(&h, CADENCE_TOPIC_ALERTS, "reason", "hot_page_active"), 1);
    /* cooldowns are per reason: the hot_page_active alert does not swallow the revisit, and
     * the view (the lead's newest event) is fresh */
    cr_assert_eq(messages_with(&h, CADENCE_TOPIC_ALERTS, "reason", "former_no_revisit"), 1);
    harness_fini(&h);
}

Test(engine_state, round_trips_through_json)
{
    harness h;
    harness_init(&h, NULL);
    harness_outcome(&h, "o0", "2026-10-05T13:10:00Z", "voicemail_left");
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "warm", 60, "America/New_York");
    harness_visit(&h, "v", "2026-10-05T14:00:00Z", "/pricing");
    char err[256];
    cadence_lead_state *st = g_new(cadence_lead_state, 1);
    cr_assert_eq(cadence_lead_state_from_json(h.state_text, st, err, sizeof err), 0, "%s", err);
    char *again = cadence_lead_state_to_json(st);
    cr_assert_str_eq(again, h.state_text);
    cr_assert_str_eq(cadence_lead_state_rep_id(st), "r1");
    cr_assert_str_eq(cadence_lead_state_email(st), "ana@acme.test");
    cr_assert_lt(strlen(again), 4096, "a state stays small");
    free(again);
    cr_assert_eq(cadence_lead_state_from_json("{\"format\":99}", st, err, sizeof err), -1);
    cr_assert(strstr(err, "format 99"));
    g_free(st);
    harness_fini(&h);
}

/* The writer escapes what JSON requires (as jansson would), and leaves out a field that is not
 * valid UTF-8 rather than write text nobody could parse back. */
Test(engine_state, writer_escapes_and_skips_invalid_text)
{
    cadence_lead_state *st = g_new(cadence_lead_state, 1);
    cadence_lead_state_init(st, "L-1");
    g_strlcpy(st->company, "A \"q\" \\ b\x01\x1f\t\n/\xc3\xa9\xe2\x98\x83", sizeof st->company);
    g_strlcpy(st->next_steps, "cut \xc3", sizeof st->next_steps); /* a truncated é */
    st->n_event_ids = 2;
    g_strlcpy(st->event_ids[0], "e1", sizeof st->event_ids[0]);
    g_strlcpy(st->event_ids[1], "e\xff", sizeof st->event_ids[1]);
    char *text = cadence_lead_state_to_json(st);
    json_error_t je;
    json_t *doc = json_loads(text, 0, &je);
    cr_assert_not_null(doc, "%s: %s", text, je.text);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "company")),
                     "A \"q\" \\ b\x01\x1f\t\n/\xc3\xa9\xe2\x98\x83");
    cr_assert(strstr(text, "\\u0001\\u001F\\t\\n"), "%s", text);
    cr_assert_null(json_object_get(doc, "next_steps"));
    cr_assert_eq(json_array_size(json_object_get(doc, "event_ids")), 1);
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(doc, "event_ids"), 0)), "e1");
    cadence_lead_state *back = g_new(cadence_lead_state, 1);
    char err[256];
    cr_assert_eq(cadence_lead_state_from_json(text, back, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(back->company, st->company);
    json_decref(doc);
    free(text);
    g_free(back);
    g_free(st);
}

/* The ring of recent event ids holds digests (12 bytes whatever the id), the same a Python
 * reader computes (base64url of the first 8 bytes of SHA-256, tests/integration/stored.py); a
 * replay is caught by its digest, and an id an older version kept as it is still counts. */
Test(engine_state, the_ring_of_event_ids_holds_digests_and_still_knows_plain_ids)
{
    char d[CADENCE_ENGINE_ID_DIGEST_SIZE];
    cadence_engine_id_digest("no-0", d);
    cr_assert_str_eq(d, "~taftA4jSmrE");
    cadence_engine_id_digest("e1", d);
    cr_assert_str_eq(d, "~i1zE337sfTI");

    harness h;
    harness_init(&h, NULL);
    const char *lead = "{\"type\":\"lead\",\"event_id\":\"e1\",\"occurred_at\":"
                       "\"2026-10-05T00:00:00Z\",\"lead_id\":\"L1\",\"rep_id\":\"r1\","
                       "\"lead_type\":\"cold\",\"potential\":60}";
    cr_assert_eq(harness_feed_json(&h, lead), CADENCE_ENGINE_OK);
    cr_assert(strstr(h.state_text, "\"event_ids\":[\"~i1zE337sfTI\"]"), "%s", h.state_text);
    cr_assert_null(strstr(h.state_text, "\"e1\""), "the id itself is not kept");
    cr_assert_eq(harness_feed_json(&h, lead), CADENCE_ENGINE_DUPLICATE);

    /* a state an older version wrote: the plain id in the ring */
    char *old = h.state_text;
    char *at = strstr(old, "~i1zE337sfTI");
    cr_assert_not_null(at);
    h.state_text = g_strdup_printf("%.*se1%s", (int)(at - old), old, at + 12);
    free(old);
    cr_assert_eq(harness_feed_json(&h, lead), CADENCE_ENGINE_DUPLICATE);
    harness_fini(&h);
}

/* The fault suite's lead 93: created on day 0, its "no" on day 1. */
static void feed_lead_93_and_its_no(harness *h)
{
    cr_assert_eq(harness_feed(h, "{\"type\":\"lead\",\"event_id\":\"lead-93\",\"occurred_at\":"
                                 "\"2026-10-01T14:00:00Z\",\"lead_id\":\"L-93\",\"rep_id\":\"r1\","
                                 "\"lead_type\":\"cold\",\"potential\":60}"),
                 CADENCE_ENGINE_OK);
    cr_assert_eq(harness_feed(h,
                              "{\"type\":\"call_outcome\",\"event_id\":\"no-93\",\"occurred_at\":"
                              "\"2026-10-02T14:00:00Z\",\"lead_id\":\"L-93\",\"rep_id\":\"r1\","
                              "\"channel\":\"call\",\"disposition\":\"not_interested\"}"),
                 CADENCE_ENGINE_OK);
}

/* A visit sent twice (a client retried a batch the gateway had already taken) and delivered
 * again after a newer event of its lead is still a replay: its digest is in the ring. */
Test(engine_state, an_old_visit_sent_again_after_a_newer_one_is_a_replay)
{
    harness h;
    harness_init(&h, NULL);
    feed_lead_93_and_its_no(&h);
    const char *old = "{\"type\":\"site_visit\",\"event_id\":\"visit-93-0.5\",\"occurred_at\":"
                      "\"2026-10-02T02:00:00Z\",\"lead_id\":\"L-93\","
                      "\"url\":\"https://example.com/pricing\"}";
    cr_assert_eq(harness_feed_json(&h, old), CADENCE_ENGINE_OK);
    cr_assert_eq(harness_feed(&h, "{\"type\":\"site_visit\",\"event_id\":\"visit-93-40\","
                                  "\"occurred_at\":\"2026-11-10T14:00:00Z\",\"lead_id\":\"L-93\","
                                  "\"url\":\"https://example.com/pricing\"}"),
                 CADENCE_ENGINE_OK);
    size_t n = json_array_size(h.messages);
    cr_assert_eq(harness_feed_json(&h, old), CADENCE_ENGINE_DUPLICATE);
    cr_assert_eq(json_array_size(h.messages), n, "no output for the replay");
    harness_fini(&h);
}

/* A visit from before the "no" that reaches the engine only after a newer visit re-enrolled the
 * lead (its batch was delayed, or two partitions' order differs) is judged as in time order: a
 * view the "no" came after is no trigger, whatever the lead's status now. */
Test(engine_state, a_view_from_before_the_no_arriving_after_re_enrolment_is_no_trigger)
{
    harness h;
    harness_init(&h, NULL);
    feed_lead_93_and_its_no(&h);
    cr_assert_eq(harness_feed(&h, "{\"type\":\"site_visit\",\"event_id\":\"visit-93-40\","
                                  "\"occurred_at\":\"2026-11-10T14:00:00Z\",\"lead_id\":\"L-93\","
                                  "\"url\":\"https://example.com/pricing\"}"),
                 CADENCE_ENGINE_OK);
    cr_assert_eq(messages_with(&h, "alerts.v1", "reason", "former_no_revisit"), 1);
    cr_assert_eq(h.st.status, CADENCE_STATUS_FOLLOW_UP, "%s", cadence_status_name(h.st.status));
    char *task = g_strdup(h.st.open_task_id);
    cr_assert_eq(harness_feed(&h, "{\"type\":\"site_visit\",\"event_id\":\"visit-93-0.5\","
                                  "\"occurred_at\":\"2026-10-02T02:00:00Z\",\"lead_id\":\"L-93\","
                                  "\"url\":\"https://example.com/pricing\"}"),
                 CADENCE_ENGINE_OK);
    cr_assert_eq(messages_with(&h, "alerts.v1", NULL, NULL), 1, "no alert for the old view");
    cr_assert_eq(h.st.status, CADENCE_STATUS_FOLLOW_UP);
    cr_assert_str_eq(h.st.open_task_id, task, "the follow-up touch stands");
    g_free(task);
    harness_fini(&h);
}

/* The state remembers the touch the lead's last cancel or replacement dropped, so that a replay
 * of that event (which has no outputs) can still take it out of the rep's queue. */
Test(engine_state, the_last_dropped_touch_is_remembered)
{
    harness h;
    harness_init(&h, NULL);
    cr_assert_eq(harness_feed(&h, "{\"type\":\"lead\",\"event_id\":\"e1\",\"occurred_at\":"
                                  "\"2026-10-05T14:00:00Z\",\"lead_id\":\"L1\",\"rep_id\":\"r1\","
                                  "\"lead_type\":\"cold\",\"potential\":60}"),
                 CADENCE_ENGINE_OK);
    char first[CADENCE_ID_SIZE];
    g_strlcpy(first, h.st.open_task_id, sizeof first);
    cr_assert(first[0], "the lead has its first touch");
    cr_assert_str_eq(cadence_lead_state_dropped_task_id(&h.st), "");
    /* a no-answer replaces the touch with the next attempt */
    cr_assert_eq(harness_feed(&h, "{\"type\":\"call_outcome\",\"event_id\":\"o1\",\"occurred_at\":"
                                  "\"2026-10-05T15:00:00Z\",\"lead_id\":\"L1\",\"rep_id\":\"r1\","
                                  "\"channel\":\"call\",\"disposition\":\"no_answer\"}"),
                 CADENCE_ENGINE_OK);
    char second[CADENCE_ID_SIZE];
    g_strlcpy(second, h.st.open_task_id, sizeof second);
    cr_assert(second[0] && strcmp(second, first) != 0, "a new touch");
    cr_assert_str_eq(cadence_lead_state_dropped_task_id(&h.st), first);
    /* a "no" cancels it: no open touch, the cancelled one remembered (and kept in the JSON) */
    cr_assert_eq(harness_feed(&h, "{\"type\":\"call_outcome\",\"event_id\":\"o2\",\"occurred_at\":"
                                  "\"2026-10-05T16:00:00Z\",\"lead_id\":\"L1\",\"rep_id\":\"r1\","
                                  "\"channel\":\"call\",\"disposition\":\"not_interested\"}"),
                 CADENCE_ENGINE_OK);
    cr_assert_str_eq(h.st.open_task_id, "");
    cr_assert_str_eq(cadence_lead_state_dropped_task_id(&h.st), second);
    cadence_lead_state back;
    char err[256];
    cr_assert_eq(cadence_lead_state_from_json(h.state_text, &back, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(cadence_lead_state_dropped_task_id(&back), second);
    harness_fini(&h);
}
