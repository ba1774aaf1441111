/*
 * test_engine_alerts — call-now alerts: warm inbound, a former "no" revisiting a hot page
 * (never for a visit from before the "no"), hot pages during an active cadence, and the
 * cooldown that turns later views into context instead of more alerts.
 */
#include "engine_harness.h"

static json_t *last_alert(const harness *h)
{
    json_t *found = NULL;
    size_t i;
    json_t *m;
    json_array_foreach(h->messages, i, m)
    {
        if (strcmp(json_string_value(json_object_get(m, "topic")), CADENCE_TOPIC_ALERTS) == 0)
            found = json_object_get(m, "value");
    }
    return found;
}

static void said_no(harness *h, const char *at)
{
    harness_lead(h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    harness_feed(h,
                 "{\"type\":\"call_outcome\",\"event_id\":\"no\",\"occurred_at\":\"%s\","
                 "\"lead_id\":\"L1\",\"rep_id\":\"r1\",\"channel\":\"call\","
                 "\"disposition\":\"not_interested\",\"no_reason\":\"budget frozen\"}",
                 at);
}

Test(engine_alerts, a_new_warm_lead_raises_warm_inbound)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "warm", 60, "America/New_York");
    json_t *a = last_alert(&h);
    cr_assert(a);
    cr_assert_str_eq(json_string_value(json_object_get(a, "reason")), "warm_inbound");
    cr_assert_str_eq(json_string_value(json_object_get(a, "rep_id")), "r1");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(a, "lead"), "status")),
                     "active");
    harness_fini(&h);
}

Test(engine_alerts, a_former_no_viewing_a_hot_page_raises_former_no_revisit)
{
    harness h;
    harness_init(&h, NULL);
    said_no(&h, "2026-10-06T15:00:00Z");
    harness_visit(&h, "v", "2026-10-08T15:00:00Z", "https://www.example.com/pricing?x=1");
    json_t *a = last_alert(&h);
    cr_assert(a);
    cr_assert_str_eq(json_string_value(json_object_get(a, "reason")), "former_no_revisit");
    json_t *no = json_object_get(a, "no");
    cr_assert_str_eq(json_string_value(json_object_get(no, "at")), "2026-10-06T15:00:00Z");
    cr_assert_str_eq(json_string_value(json_object_get(no, "reason")), "budget frozen");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(a, "trigger"), "url")),
                     "https://www.example.com/pricing?x=1");
    cr_assert(strstr(json_string_value(json_object_get(a, "suggested_opener")), "Hi Ana"));
    cr_assert_eq(json_integer_value(json_object_get(a, "score")), 10);
    cr_assert_null(h.touch, "inside the cool-off: an alert, no re-enrolment");
    harness_fini(&h);
}

Test(engine_alerts, a_visit_from_before_the_no_never_triggers)
{
    harness h;
    harness_init(&h, NULL);
    said_no(&h, "2026-10-06T15:00:00Z");
    harness_visit(&h, "v", "2026-10-06T14:59:00Z", "/pricing"); /* arrives late */
    cr_assert_null(last_alert(&h));
    harness_fini(&h);
}

Test(engine_alerts, pages_that_are_not_hot_raise_nothing)
{
    harness h;
    harness_init(&h, NULL);
    said_no(&h, "2026-10-06T15:00:00Z");
    harness_visit(&h, "v", "2026-10-08T15:00:00Z", "/blog/pricing-tips");
    cr_assert_null(last_alert(&h));
    harness_fini(&h);
}

Test(engine_alerts, a_hot_page_during_an_active_cadence_raises_hot_page_active)
{
    harness h;
    harness_init(&h, NULL);
    harness_lead(&h, "l", "2026-10-05T12:00:00Z", "cold", 60, "America/New_York");
    harness_visit(&h, "v", "2026-10-05T14:00:00Z", "/demo");
    json_t *a = last_alert(&h);
    cr_assert(a);
    cr_assert_str_eq(json_string_value(json_object_get(a, "reason")), "hot_page_active");
    cr_assert_null(json_object_get(a, "no"));
    harness_fini(&h);
}

Test(engine_alerts, one_alert_per_reason_and_window_later_views_update_it)
{
    harness h;
    harness_init(&h, NULL);
    said_no(&h, "2026-10-06T15:00:00Z");
    /* v1..v2: Thursday 8 Oct in New York; v3, v4: Friday 9 Oct (24 h windows = local days) */
    harness_visit(&h, "v1", "2026-10-08T15:00:00Z", "/pricing");
    harness_visit(&h, "v2", "2026-10-08T16:00:00Z", "/demo");
    cr_assert_eq(messages_with(&h, CADENCE_TOPIC_ALERTS, NULL, NULL), 2);
    json_t *a = last_alert(&h);
    json_t *first =
        json_object_get(json_array_get(h.messages, json_array_size(h.messages) - 2), "value");
    cr_assert_str_eq(json_string_value(json_object_get(a, "alert_id")),
                     json_string_value(json_object_get(first, "alert_id")), "an update");
    cr_assert_eq(json_integer_value(json_object_get(first, "revision")), 1);
    cr_assert_eq(json_integer_value(json_object_get(a, "revision")), 2);
    cr_assert_str_neq(json_string_value(json_object_get(a, "event_id")),
                      json_string_value(json_object_get(first, "event_id")));
    cr_assert_eq(json_integer_value(json_object_get(a, "score")), 18, "v1 + v2");
    cr_assert_eq(counter(&h, "alerts:former_no_revisit"), 1);
    cr_assert_eq(counter(&h, "alert_updates:former_no_revisit"), 1);
    harness_visit(&h, "v3", "2026-10-09T14:59:00Z", "/pricing/enterprise");
    a = last_alert(&h);
    cr_assert_str_neq(json_string_value(json_object_get(a, "alert_id")),
                      json_string_value(json_object_get(first, "alert_id")), "a new day");
    cr_assert_eq(json_integer_value(json_object_get(a, "revision")), 1);
    cr_assert_eq(h.st.n_hot_views, 3, "the context is kept in the state");
    harness_visit(&h, "v4", "2026-10-09T15:00:01Z", "/pricing");
    a = last_alert(&h);
    cr_assert_eq(json_integer_value(json_object_get(a, "revision")), 2);
    cr_assert_eq(json_array_size(json_object_get(a, "hot_views")), 3, "v2, v3, v4");
    cr_assert_eq(json_integer_value(json_object_get(a, "score")), 28);
    cr_assert_eq(counter(&h, "alerts:former_no_revisit"), 2);
    harness_fini(&h);
}

Test(engine_alerts, a_trigger_after_the_cool_off_reenrols_into_follow_up)
{
    harness h;
    harness_init(&h, NULL);
    said_no(&h, "2026-10-06T15:00:00Z");
    harness_visit(&h, "v", "2026-11-16T15:00:00Z", "/pricing");
    cr_assert_eq(h.st.status, CADENCE_STATUS_FOLLOW_UP);
    cr_assert_eq(messages_with(&h, CADENCE_TOPIC_LEAD_STATUS, "reason", "trigger_revisit"), 1);
    cr_assert_str_eq(touch_str(&h, "objective"), "follow_up");
    cr_assert_str_eq(touch_str(&h, "due_at"), "2026-11-16T10:00:00-05:00");
    harness_fini(&h);
}

Test(engine_alerts, alert_ids_are_deterministic)
{
    char a[CADENCE_ID_SIZE], b[CADENCE_ID_SIZE], c[CADENCE_ID_SIZE];
    cadence_engine_id("L1", "e1", "alert", a, sizeof a);
    cadence_engine_id("L1", "e1", "alert", b, sizeof b);
    cadence_engine_id("L1", "e1", "task", c, sizeof c);
    cr_assert_str_eq(a, b);
    cr_assert_str_neq(a, c);
    GRegex *re = g_regex_new("^[A-Za-z0-9._:-]{1,64}$", 0, 0, NULL);
    cr_assert(g_regex_match(re, a, 0, NULL));
    cr_assert(g_regex_match(re, c, 0, NULL));
    g_regex_unref(re);
}

Test(engine_alerts, long_non_ascii_urls_are_cut_on_a_character_boundary)
{
    harness h;
    harness_init(&h, NULL);
    said_no(&h, "2026-10-06T15:00:00Z");
    GString *url = g_string_new("/pricing/");
    for (int i = 0; i < 300; i++)
        g_string_append(url, "é");
    harness_visit(&h, "v", "2026-10-08T15:00:00Z", url->str);
    g_string_free(url, TRUE);
    json_t *a = last_alert(&h);
    cr_assert(a);
    const char *kept = json_string_value(
        json_object_get(json_array_get(json_object_get(a, "hot_views"), 0), "url"));
    cr_assert(kept && g_utf8_validate(kept, -1, NULL));
    cr_assert_lt(strlen(kept), 512);
    char *text = json_dumps(a, 0);
    cr_assert(text);
    free(text);
    harness_fini(&h);
}

/* "Last we spoke, we discussed …" only when something was discussed; otherwise the opener
 * fits the situation: a former "no" with nothing recorded, or a lead never spoken to. */
Test(engine_alerts, the_opener_matches_what_was_said_before)
{
    harness h;
    harness_init(&h, NULL);
    said_no(&h, "2026-10-06T15:00:00Z");
    harness_visit(&h, "v", "2026-10-08T15:00:00Z", "/pricing");
    const char *reopen = json_string_value(json_object_get(last_alert(&h), "suggested_opener"));
    cr_assert(strstr(reopen, "timing wasn't right"), "%s", reopen);
    cr_assert_null(strstr(reopen, "we discussed"), "%s", reopen);
    harness_fini(&h);

    harness_init(&h, NULL);
    harness_lead(&h, "w", "2026-10-05T12:00:00Z", "warm", 80, "America/New_York");
    const char *first = json_string_value(json_object_get(last_alert(&h), "suggested_opener"));
    cr_assert(strstr(first, "thanks for your interest"), "%s", first);
    cr_assert_null(strstr(first, "last we spoke"), "%s", first);
    harness_fini(&h);
}
