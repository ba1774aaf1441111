/*
 * render — Slack Block Kit, signature, keys and delays. See render.h.
 */
#include "render.h"

#include <curl/curl.h>
#include <glib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Slack limits: a section's text 3000 characters, a header's 150, a button URL 3000. */
#define SECTION_MAX 2900
#define HEADER_MAX 150

long notifier_alert_revision(const json_t *alert)
{
    json_t *r = json_object_get(alert, "revision");
    if (json_is_integer(r) && json_integer_value(r) >= 1)
        return (long)json_integer_value(r);
    return 1;
}

/* Copies at most `out_size - 1` bytes of `in`, not cutting a UTF-8 character. */
static size_t utf8_copy(char *out, size_t out_size, const char *in, size_t len)
{
    if (out_size == 0)
        return 0;
    if (len >= out_size) {
        len = out_size - 1;
        while (len > 0 && ((unsigned char)in[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(out, in, len);
    out[len] = '\0';
    return len;
}

void notifier_slack_escape(const char *in, char *out, size_t out_size)
{
    size_t o = 0;
    if (out_size == 0)
        return;
    for (const char *p = in; *p; p++) {
        const char *rep = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : NULL;
        if (rep) {
            size_t rl = strlen(rep);
            if (o + rl >= out_size)
                break;
            memcpy(out + o, rep, rl);
            o += rl;
            continue;
        }
        /* A multi-byte character is copied whole or not at all. */
        size_t cl = 1;
        unsigned char c = (unsigned char)*p;
        if (c >= 0xF0)
            cl = 4;
        else if (c >= 0xE0)
            cl = 3;
        else if (c >= 0xC0)
            cl = 2;
        if (o + cl >= out_size || strnlen(p, cl) < cl)
            break;
        memcpy(out + o, p, cl);
        o += cl;
        p += cl - 1;
    }
    out[o] = '\0';
}

static const char *str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && *s ? s : NULL;
}

/* A page's name from its URL: the last path segment ("pricing"), else the host. */
static void page_name(const char *url, char *out, size_t out_size)
{
    const char *start = strstr(url, "://");
    start = start ? start + 3 : url;
    size_t end = strcspn(start, "?#");
    char buf[512];
    utf8_copy(buf, sizeof(buf), start, end);
    size_t n = strlen(buf);
    while (n > 0 && buf[n - 1] == '/')
        buf[--n] = '\0';
    char *slash = strrchr(buf, '/');
    const char *name = slash ? slash + 1 : buf;
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%s", name);
    for (char *p = tmp; *p; p++)
        if (*p == '-' || *p == '_')
            *p = ' ';
    notifier_slack_escape(tmp, out, out_size);
}

/* Formats Unix ms `ms` in `zone` (NULL = UTC) with a GLib format; "" on failure. */
static void format_time(int64_t ms, cadence_tz *zone, const char *fmt, char *out, size_t n)
{
    out[0] = '\0';
    GDateTime *utc = g_date_time_new_from_unix_utc(ms / 1000);
    if (!utc)
        return;
    GDateTime *local = zone ? g_date_time_to_timezone(utc, cadence_tz_gtimezone(zone)) : NULL;
    gchar *text = g_date_time_format(local ? local : utc, fmt);
    if (text)
        snprintf(out, n, "%s", text);
    g_free(text);
    if (local)
        g_date_time_unref(local);
    g_date_time_unref(utc);
}

/* "<date> (“<reason>”)" of the earlier no, escaped. */
static void no_words(const json_t *no, char *out, size_t n)
{
    out[0] = '\0';
    if (!no)
        return;
    int64_t at = 0;
    char date[64] = "";
    const char *at_text = str(no, "at");
    if (at_text && cadence_rfc3339_parse(at_text, &at) == 0)
        format_time(at, NULL, "%-d %b %Y", date, sizeof(date));
    char reason[1600] = "";
    if (str(no, "reason"))
        notifier_slack_escape(str(no, "reason"), reason, sizeof(reason));
    if (date[0] && reason[0])
        snprintf(out, n, "Said no on %s: “%s”", date, reason);
    else if (date[0])
        snprintf(out, n, "Said no on %s", date);
    else if (reason[0])
        snprintf(out, n, "Said no: “%s”", reason);
}

static void why_words(const json_t *alert, char *out, size_t n)
{
    const char *reason = str(alert, "reason");
    const char *url = str(json_object_get(alert, "trigger"), "url");
    char page[300] = "";
    if (url)
        page_name(url, page, sizeof(page));
    if (reason && strcmp(reason, "former_no_revisit") == 0) {
        char no[1800];
        no_words(json_object_get(alert, "no"), no, sizeof(no));
        snprintf(out, n, "*Former “no” is back%s%s.*%s%s", page[0] ? " on " : "", page,
                 no[0] ? "\n" : "", no);
    } else if (reason && strcmp(reason, "warm_inbound") == 0) {
        snprintf(out, n, "*New warm inbound lead%s%s.* Call while they are thinking of you.",
                 page[0] ? " — came in on " : "", page);
    } else if (reason && strcmp(reason, "hot_page_active") == 0) {
        char pages[1200] = "";
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(alert, "hot_views"), i, v)
        {
            const char *u = str(v, "url");
            char name[200];
            if (!u || i >= 5)
                continue;
            page_name(u, name, sizeof(name));
            size_t len = strlen(pages);
            snprintf(pages + len, sizeof(pages) - len, "%s%s", len ? ", " : "", name);
        }
        json_t *score = json_object_get(alert, "score");
        char sc[64] = "";
        if (json_is_number(score))
            snprintf(sc, sizeof(sc), " (score %g)", json_number_value(score));
        snprintf(out, n, "*Reading the hot pages right now%s.*%s%s", sc, pages[0] ? " " : "",
                 pages[0] ? pages : page);
    } else {
        snprintf(out, n, "*Call now.*");
    }
}

/* tel: link text for Slack: <tel:+15551234567|+1 (555) 123-4567>. */
static void phone_link(const char *phone, char *out, size_t n)
{
    char digits[40];
    size_t d = 0;
    for (const char *p = phone; *p && d + 1 < sizeof(digits); p++)
        if ((*p >= '0' && *p <= '9') || (*p == '+' && d == 0))
            digits[d++] = *p;
    digits[d] = '\0';
    char shown[100];
    notifier_slack_escape(phone, shown, sizeof(shown));
    snprintf(out, n, "<tel:%s|%s>", digits, shown);
}

json_t *notifier_slack_message(const json_t *alert, const char *console_url, int64_t now_ms,
                               cadence_tzcache *tz)
{
    const json_t *lead = json_object_get(alert, "lead");
    const char *first = str(lead, "first_name"), *last = str(lead, "last_name");
    const char *company = str(lead, "company"), *phone = str(lead, "phone");
    const char *lead_id = str(alert, "lead_id") ? str(alert, "lead_id") : "?";
    const char *alert_id = str(alert, "alert_id") ? str(alert, "alert_id") : "?";
    long revision = notifier_alert_revision(alert);

    char name_plain[260];
    if (first || last)
        snprintf(name_plain, sizeof(name_plain), "%s%s%s", first ? first : "",
                 first && last ? " " : "", last ? last : "");
    else
        snprintf(name_plain, sizeof(name_plain), "lead %s", lead_id);
    char header[HEADER_MAX * 4 + 1], header_cut[HEADER_MAX + 1];
    snprintf(header, sizeof(header), "%s %s%s%s",
             revision > 1 ? "Update: call" : "Call now:", name_plain, company ? " · " : "",
             company ? company : "");
    /* Slack counts characters; cutting at 150 bytes (whole characters) stays within it. */
    utf8_copy(header_cut, sizeof(header_cut), header, strlen(header));

    char name[600], comp[500], who[1400];
    notifier_slack_escape(name_plain, name, sizeof(name));
    notifier_slack_escape(company ? company : "", comp, sizeof(comp));
    snprintf(who, sizeof(who), "*Who*\n%s%s%s", name, company ? ", " : "", comp);

    char local[400] = "";
    const char *zone_name = str(lead, "timezone");
    cadence_tz *zone = zone_name && tz ? cadence_tzcache_get(tz, zone_name) : NULL;
    if (zone) {
        char t[100], z[100];
        format_time(now_ms, zone, "%a %-l:%M %p", t, sizeof(t));
        notifier_slack_escape(zone_name, z, sizeof(z));
        snprintf(local, sizeof(local), "*Their time*\n%s (%s)", t, z);
    } else {
        snprintf(local, sizeof(local), "*Their time*\nunknown (no time zone)");
    }
    char phone_text[300];
    if (phone) {
        char link[200];
        phone_link(phone, link, sizeof(link));
        snprintf(phone_text, sizeof(phone_text), "*Phone*\n%s", link);
    } else {
        snprintf(phone_text, sizeof(phone_text), "*Phone*\nnone on file");
    }

    char why[SECTION_MAX], why_section[SECTION_MAX + 16];
    why_words(alert, why, sizeof(why));
    snprintf(why_section, sizeof(why_section), "*Why now*\n%s", why);

    char opener[SECTION_MAX], say[SECTION_MAX + 32];
    notifier_slack_escape(str(alert, "suggested_opener") ? str(alert, "suggested_opener")
                                                         : "(no opener in the playbook)",
                          opener, sizeof(opener));
    snprintf(say, sizeof(say), "*What to say*\n>%s", opener);

    char link[3000];
    size_t cl = strlen(console_url);
    snprintf(link, sizeof(link), "%s%s#lead=%s", console_url,
             cl && console_url[cl - 1] == '/' ? "" : "/", lead_id);

    char context[600];
    const char *at = str(alert, "occurred_at");
    if (revision > 1)
        snprintf(context, sizeof(context),
                 "Update (revision %ld) of alert `%s` — replaces the earlier message for this "
                 "alert · %s",
                 revision, alert_id, at ? at : "");
    else
        snprintf(context, sizeof(context), "Alert `%s` · %s", alert_id, at ? at : "");

    char fallback[HEADER_MAX * 4 + 300];
    char why_plain[400];
    why_words(alert, why, sizeof(why));
    utf8_copy(why_plain, sizeof(why_plain), why, strcspn(why, "\n"));
    snprintf(fallback, sizeof(fallback), "%s — %s", header_cut, why_plain);

    json_t *msg = json_pack(
        "{s:s,s:[{s:s,s:{s:s,s:s,s:b}},{s:s,s:[{s:s,s:s},{s:s,s:s},{s:s,s:s}]},"
        "{s:s,s:{s:s,s:s}},{s:s,s:{s:s,s:s}},"
        "{s:s,s:[{s:s,s:{s:s,s:s},s:s,s:s,s:s}]},{s:s,s:[{s:s,s:s}]}]}",
        "text", fallback, "blocks",
        /* header */
        "type", "header", "text", "type", "plain_text", "text", header_cut, "emoji", 1,
        /* who, local time, phone */
        "type", "section", "fields", "type", "mrkdwn", "text", who, "type", "mrkdwn", "text", local,
        "type", "mrkdwn", "text", phone_text,
        /* why */
        "type", "section", "text", "type", "mrkdwn", "text", why_section,
        /* what to say */
        "type", "section", "text", "type", "mrkdwn", "text", say,
        /* button */
        "type", "actions", "elements", "type", "button", "text", "type", "plain_text", "text",
        "Open lead in cadence", "url", link, "action_id", "open_lead", "style", "primary",
        /* context */
        "type", "context", "elements", "type", "mrkdwn", "text", context);
    return msg;
}

int notifier_sign(const char *secret, long long t, const void *body, size_t len, char *out,
                  size_t out_size)
{
    /* The signed text is "<t>.<body>", as the gateway's verifier reads it. */
    char prefix[32];
    int plen = snprintf(prefix, sizeof(prefix), "%lld.", t);
    size_t total = (size_t)plen + len;
    unsigned char *text = malloc(total);
    if (!text)
        return -1;
    memcpy(text, prefix, (size_t)plen);
    if (len)
        memcpy(text + plen, body, len);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    const unsigned char *ok =
        HMAC(EVP_sha256(), secret, (int)strlen(secret), text, total, mac, &mac_len);
    free(text);
    if (!ok)
        return -1;
    int n = snprintf(out, out_size, "t=%lld,v1=", t);
    if (n < 0 || (size_t)n + 2 * (size_t)mac_len + 1 > out_size)
        return -1;
    static const char hex[] = "0123456789abcdef";
    for (unsigned int i = 0; i < mac_len; i++) {
        out[n + 2 * i] = hex[mac[i] >> 4];
        out[n + 2 * i + 1] = hex[mac[i] & 15];
    }
    out[n + 2 * mac_len] = '\0';
    return 0;
}

void notifier_idempotency_key(const char *alert_id, long revision, char *out, size_t out_size)
{
    if (revision > 1)
        snprintf(out, out_size, "%s:%ld", alert_id, revision);
    else
        snprintf(out, out_size, "%s", alert_id);
}

int64_t notifier_backoff_ms(int attempt, long base_ms, long max_ms, uint32_t rnd)
{
    int64_t d = base_ms;
    for (int i = 1; i < attempt && d < max_ms; i++)
        d *= 2;
    if (d > max_ms)
        d = max_ms;
    int64_t half = d / 2;
    return half + (int64_t)(rnd % (uint64_t)(d - half + 1));
}

int64_t notifier_retry_after_ms(const char *value, long long now_s)
{
    if (!value)
        return -1;
    while (*value == ' ')
        value++;
    if (*value >= '0' && *value <= '9') {
        char *end = NULL;
        long long s = strtoll(value, &end, 10);
        while (end && *end == ' ')
            end++;
        if (end && *end == '\0' && s >= 0 && s < 100000000)
            return (int64_t)s * 1000;
        return -1;
    }
    time_t t = curl_getdate(value, NULL);
    if (t == -1)
        return -1;
    return (long long)t > now_s ? ((int64_t)t - now_s) * 1000 : 0;
}
