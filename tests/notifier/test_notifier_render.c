/*
 * The notifier's pure parts (services/notifier/render.h): the Slack Block Kit message, mrkdwn
 * escaping, the webhook signature, the idempotency key, backoff with jitter and Retry-After.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "render.h"

static json_t *former_no(void)
{
    json_error_t e;
    json_t *a = json_loads(
        "{\"event_id\":\"A-1\",\"type\":\"call_now\",\"occurred_at\":\"2026-11-12T14:00:00Z\","
        "\"alert_id\":\"A-1\",\"reason\":\"former_no_revisit\",\"lead_id\":\"L-1\","
        "\"rep_id\":\"rep-1\",\"trigger\":{\"event_id\":\"v-1\",\"occurred_at\":"
        "\"2026-11-12T14:00:00Z\",\"url\":\"https://example.com/plans/pricing/?ref=x\"},"
        "\"lead\":{\"first_name\":\"Ann\",\"last_name\":\"Lee\",\"company\":\"A<B>&C\","
        "\"phone\":\"+1 (555) 010-2000\",\"timezone\":\"Europe/Berlin\",\"status\":\"nurture\"},"
        "\"suggested_opener\":\"Hi Ann\",\"no\":{\"at\":\"2026-11-03T15:00:00Z\","
        "\"reason\":\"no budget\"}}",
        0, &e);
    cr_assert_not_null(a, "%s", e.text);
    return a;
}

static const char *block_text(json_t *msg, size_t i)
{
    return json_string_value(json_object_get(
        json_object_get(json_array_get(json_object_get(msg, "blocks"), i), "text"), "text"));
}

/* 2026-11-12T14:00:00Z = 15:00 in Berlin. */
#define NOW_MS 1794492000000LL

Test(notifier_render, slack_message_has_who_why_what_phone_and_button)
{
    cadence_tzcache *tz = cadence_tzcache_new();
    json_t *a = former_no();
    json_t *msg = notifier_slack_message(a, "https://console.example.com", NOW_MS, tz);
    cr_assert_not_null(msg);
    json_t *blocks = json_object_get(msg, "blocks");
    cr_assert_eq(json_array_size(blocks), 6);
    cr_assert_str_eq(block_text(msg, 0), "Call now: Ann Lee · A<B>&C", "header is plain text");
    json_t *fields = json_object_get(json_array_get(blocks, 1), "fields");
    const char *who = json_string_value(json_object_get(json_array_get(fields, 0), "text"));
    const char *local = json_string_value(json_object_get(json_array_get(fields, 1), "text"));
    const char *phone = json_string_value(json_object_get(json_array_get(fields, 2), "text"));
    cr_assert_str_eq(who, "*Who*\nAnn Lee, A&lt;B&gt;&amp;C");
    cr_assert_str_eq(local, "*Their time*\nThu 3:00 PM (Europe/Berlin)");
    cr_assert_str_eq(phone, "*Phone*\n<tel:+15550102000|+1 (555) 010-2000>");
    cr_assert_str_eq(block_text(msg, 2), "*Why now*\n*Former “no” is back on pricing.*\n"
                                         "Said no on 3 Nov 2026: “no budget”");
    cr_assert_str_eq(block_text(msg, 3), "*What to say*\n>Hi Ann");
    json_t *button = json_array_get(json_object_get(json_array_get(blocks, 4), "elements"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(button, "url")),
                     "https://console.example.com/#lead=L-1");
    cr_assert_not_null(strstr(json_string_value(json_object_get(msg, "text")), "Ann Lee"));
    json_decref(msg);
    json_decref(a);
    cadence_tzcache_free(tz);
}

Test(notifier_render, a_revision_is_marked_as_an_update)
{
    cadence_tzcache *tz = cadence_tzcache_new();
    json_t *a = former_no();
    cr_assert_eq(notifier_alert_revision(a), 1, "no revision means 1");
    json_object_set_new(a, "revision", json_integer(3));
    cr_assert_eq(notifier_alert_revision(a), 3);
    json_t *msg = notifier_slack_message(a, "https://c/", NOW_MS, tz);
    cr_assert(strncmp(block_text(msg, 0), "Update: call Ann Lee", 20) == 0, "%s",
              block_text(msg, 0));
    json_t *ctx = json_array_get(json_object_get(msg, "blocks"), 5);
    const char *c = json_string_value(
        json_object_get(json_array_get(json_object_get(ctx, "elements"), 0), "text"));
    cr_assert_not_null(strstr(c, "revision 3"), "%s", c);
    json_decref(msg);
    json_object_set_new(a, "revision", json_string("x"));
    cr_assert_eq(notifier_alert_revision(a), 1, "a non-integer revision means 1");
    json_decref(a);
    cadence_tzcache_free(tz);
}

Test(notifier_render, other_reasons_and_missing_fields_still_render)
{
    cadence_tzcache *tz = cadence_tzcache_new();
    json_error_t e;
    json_t *a = json_loads("{\"alert_id\":\"A-2\",\"reason\":\"hot_page_active\",\"lead_id\":"
                           "\"L-2\",\"rep_id\":\"r\",\"lead\":{\"status\":\"active\"},\"score\":"
                           "12,\"hot_views\":[{\"url\":\"https://x.com/demo-request\","
                           "\"occurred_at\":\"2026-11-12T14:00:00Z\",\"weight\":5}]}",
                           0, &e);
    json_t *msg = notifier_slack_message(a, "https://c", NOW_MS, tz);
    cr_assert_str_eq(block_text(msg, 0), "Call now: lead L-2");
    cr_assert_str_eq(block_text(msg, 2),
                     "*Why now*\n*Reading the hot pages right now (score 12).* demo request");
    json_t *fields = json_object_get(json_array_get(json_object_get(msg, "blocks"), 1), "fields");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(fields, 2), "text")),
                     "*Phone*\nnone on file");
    json_decref(msg);
    json_decref(a);
    cadence_tzcache_free(tz);
}

Test(notifier_render, escaping_never_splits_a_character)
{
    char out[8];
    notifier_slack_escape("a<b", out, sizeof(out));
    cr_assert_str_eq(out, "a&lt;b");
    notifier_slack_escape("ééééé", out, sizeof(out)); /* 2 bytes each: 3 fit in 7 */
    cr_assert_str_eq(out, "ééé");
    notifier_slack_escape("&&", out, sizeof(out)); /* "&amp;" twice does not fit */
    cr_assert_str_eq(out, "&amp;");
}

Test(notifier_render, signature_matches_an_independent_hmac)
{
    /* printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac s3cret */
    char sig[200];
    const char *body = "{\"a\":1}";
    cr_assert_eq(notifier_sign("s3cret", 1700000000LL, body, strlen(body), sig, sizeof(sig)), 0);
    cr_assert_str_eq(sig, "t=1700000000,v1="
                          "1698a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e098940");
    char other[200];
    notifier_sign("s3cret", 1700000001LL, body, strlen(body), other, sizeof(other));
    cr_assert_str_neq(strchr(sig, ','), strchr(other, ','), "the time is signed too");
    cr_assert_eq(notifier_sign("s3cret", 1, body, strlen(body), sig, 20), -1, "too small");
}

Test(notifier_render, idempotency_key_is_the_alert_id_then_with_the_revision)
{
    char k[100];
    notifier_idempotency_key("A-1", 1, k, sizeof(k));
    cr_assert_str_eq(k, "A-1");
    notifier_idempotency_key("A-1", 4, k, sizeof(k));
    cr_assert_str_eq(k, "A-1:4");
}

Test(notifier_render, backoff_doubles_is_capped_and_jittered_within_half)
{
    for (uint32_t rnd = 0; rnd < 2000; rnd += 7) {
        int64_t d1 = notifier_backoff_ms(1, 500, 60000, rnd);
        cr_assert(d1 >= 250 && d1 <= 500, "%lld", (long long)d1);
        int64_t d3 = notifier_backoff_ms(3, 500, 60000, rnd);
        cr_assert(d3 >= 1000 && d3 <= 2000, "%lld", (long long)d3);
        int64_t d30 = notifier_backoff_ms(30, 500, 60000, rnd);
        cr_assert(d30 >= 30000 && d30 <= 60000, "%lld", (long long)d30);
    }
    cr_assert_neq(notifier_backoff_ms(5, 500, 60000, 1), notifier_backoff_ms(5, 500, 60000, 977),
                  "jitter spreads retries");
}

Test(notifier_render, retry_after_in_seconds_or_as_a_date)
{
    cr_assert_eq(notifier_retry_after_ms("2", 0), 2000);
    cr_assert_eq(notifier_retry_after_ms(" 120 ", 0), 120000);
    cr_assert_eq(notifier_retry_after_ms(NULL, 0), -1);
    cr_assert_eq(notifier_retry_after_ms("soon", 0), -1);
    cr_assert_eq(notifier_retry_after_ms("-1", 0), -1);
    /* Sun, 06 Nov 1994 08:49:37 GMT = 784111777 */
    cr_assert_eq(notifier_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", 784111770LL), 7000);
    cr_assert_eq(notifier_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", 784111800LL), 0);
}
