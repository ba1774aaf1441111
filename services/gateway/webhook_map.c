/*
 * webhook_map — how marketing tools' own payloads become cadence site visits: a Segment `page`
 * call and a Mautic `mautic.page_on_hit` item. Pure JSON → JSON (no I/O), so the mapping is
 * fuzzed on its own (tests/fuzz/fuzz_gateway_http.c); the result is validated against
 * site-visits.v1 by the caller like any ingested event.
 */
#include <stdio.h>
#include <string.h>

#include "base/id.h"
#include "webhook_map.h"

/* The first string among the JSON paths given (dotted member names), or NULL. */
const char *gw_webhook_first_string(json_t *doc, const char *const *paths)
{
    for (; *paths; paths++) {
        json_t *cur = doc;
        char buf[128];
        snprintf(buf, sizeof(buf), "%s", *paths);
        char *save = NULL;
        for (char *part = strtok_r(buf, ".", &save); part && cur; part = strtok_r(NULL, ".", &save))
            cur = json_object_get(cur, part);
        const char *s = json_string_value(cur);
        if (s && *s)
            return s;
    }
    return NULL;
}

static void set_if(json_t *ev, const char *name, const char *value)
{
    if (value)
        json_object_set_new(ev, name, json_string(value));
}

/* A Segment `page` call → a site visit (validated later with the others). */
json_t *gw_webhook_segment_page(json_t *call)
{
    static const char *const id_p[] = {"messageId", NULL};
    static const char *const ts_p[] = {"timestamp", "originalTimestamp", "sentAt", NULL};
    static const char *const url_p[] = {"properties.url", "context.page.url", NULL};
    static const char *const title_p[] = {"properties.title", "context.page.title", NULL};
    static const char *const ref_p[] = {"properties.referrer", "context.page.referrer", NULL};
    static const char *const email_p[] = {"traits.email", "context.traits.email",
                                          "properties.email", NULL};
    static const char *const user_p[] = {"userId", NULL};
    json_t *ev = json_pack("{s:s,s:s}", "type", "site_visit", "source", "segment");
    set_if(ev, "event_id", gw_webhook_first_string(call, id_p));
    set_if(ev, "occurred_at", gw_webhook_first_string(call, ts_p));
    set_if(ev, "url", gw_webhook_first_string(call, url_p));
    set_if(ev, "title", gw_webhook_first_string(call, title_p));
    set_if(ev, "referrer", gw_webhook_first_string(call, ref_p));
    const char *user = gw_webhook_first_string(call, user_p);
    const char *email = gw_webhook_first_string(call, email_p);
    /* userId is our lead id when it is one; an email-like userId is the email. */
    if (user && cadence_id_valid(user) && !strchr(user, '@'))
        set_if(ev, "lead_id", user);
    else if (user && strchr(user, '@') && !email)
        email = user;
    set_if(ev, "email", email);
    return ev;
}

/* A Mautic page hit → a site visit, or NULL when it names no email to find the lead by. */
json_t *gw_webhook_mautic_hit(json_t *item)
{
    json_t *hit = json_object_get(item, "hit");
    if (!json_is_object(hit))
        return NULL;
    static const char *const email_p[] = {"lead.email", "lead.fields.core.email.value", NULL};
    static const char *const ts_p[] = {"dateHit", NULL};
    static const char *const title_p[] = {"page.title", "urlTitle", NULL};
    const char *email = gw_webhook_first_string(hit, email_p);
    if (!email)
        return NULL;
    json_t *ev = json_pack("{s:s,s:s}", "type", "site_visit", "source", "mautic");
    json_t *id = json_object_get(hit, "id");
    char event_id[80];
    if (json_is_integer(id))
        snprintf(event_id, sizeof(event_id), "mautic-hit-%lld", (long long)json_integer_value(id));
    else if (json_is_string(id))
        snprintf(event_id, sizeof(event_id), "mautic-hit-%.50s", json_string_value(id));
    else
        event_id[0] = '\0';
    set_if(ev, "event_id", event_id[0] ? event_id : NULL);
    const char *ts = gw_webhook_first_string(hit, ts_p);
    set_if(ev, "occurred_at", ts ? ts : json_string_value(json_object_get(item, "timestamp")));
    set_if(ev, "url", json_string_value(json_object_get(hit, "url")));
    set_if(ev, "title", gw_webhook_first_string(hit, title_p));
    set_if(ev, "referrer", json_string_value(json_object_get(hit, "referer")));
    set_if(ev, "email", email);
    return ev;
}
