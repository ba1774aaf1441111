/*
 * event — input events from JSON and back (see event.h).
 *
 * String fields are described by one table (JSON name, offset in the struct, buffer size, is
 * it an id), so parsing and serialising share the field list; the enums are name tables.
 */
#include "base/id.h"
#include "engine/event.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "engine/tzcache.h"

static const char *const channel_names[] = {"call", "email", "linkedin", "social", "delivery"};
static const char *const disposition_names[] = {
    "no_answer",      "voicemail_left", "gatekeeper", "connected",   "callback_received",
    "not_interested", "meeting_booked", "closed_won", "closed_lost", "wrong_number",
    "do_not_call",    "sent",           "replied",    "bounced",     "out_of_office",
    "snoozed",        "skipped"};
static const char *const type_names[] = {"lead", "site_visit", "call_outcome"};
static const char *const roles[] = {"decision_maker", "influencer", "info_gatherer", "end_user"};
static const char *const qual_names[] = {"problem", "decision_makers", "timeline", "price"};

G_STATIC_ASSERT(G_N_ELEMENTS(disposition_names) == CADENCE_DISP_COUNT);

const char *cadence_channel_name(cadence_channel c)
{
    return (size_t)c < G_N_ELEMENTS(channel_names) ? channel_names[c] : NULL;
}

const char *cadence_disposition_name(cadence_disposition d)
{
    return (size_t)d < G_N_ELEMENTS(disposition_names) ? disposition_names[d] : NULL;
}

const char *cadence_event_type_name(cadence_event_type t)
{
    return (size_t)t < G_N_ELEMENTS(type_names) ? type_names[t] : NULL;
}

static int lookup(const char *s, const char *const *names, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return (int)i;
    return -1;
}

/* String fields: name, offset, buffer size, id syntax required. */
typedef struct str_field {
    const char *name;
    size_t off, size;
    int is_id;
} str_field;

#define F(n, member, id)                                                                           \
    {                                                                                              \
        n, offsetof(cadence_event, member), sizeof(((cadence_event *)0)->member), id               \
    }
static const str_field str_fields[] = {
    F("lead_id", lead_id, 1),     F("rep_id", rep_id, 1),     F("email", email, 0),
    F("lead_type", lead_type, 0), F("vertical", vertical, 0), F("first_name", first_name, 0),
    F("last_name", last_name, 0), F("company", company, 0),   F("phone", phone, 0),
    F("timezone", timezone, 0),   F("url", url, 0),           F("title", title, 0),
    F("source", source, 0),       F("task_id", task_id, 1),   F("message_id", message_id, 1),
    F("no_reason", no_reason, 0), F("country", country, 0),
};
#undef F

/* Zone names already looked up in the tz database: name -> 1 (known) / 2 (unknown). Shared
 * by all threads; bounded (past the bound, names are looked up without being cached). */
G_LOCK_DEFINE_STATIC(zones);
static GHashTable *zones;
#define ZONES_MAX 4096

static int zone_known(const char *name)
{
    G_LOCK(zones);
    if (!zones)
        zones = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    int v = GPOINTER_TO_INT(g_hash_table_lookup(zones, name));
    G_UNLOCK(zones);
    if (v)
        return v == 1;
    GTimeZone *z = g_time_zone_new_identifier(name);
    if (z)
        g_time_zone_unref(z);
    G_LOCK(zones);
    if (g_hash_table_size(zones) < ZONES_MAX)
        g_hash_table_insert(zones, g_strdup(name), GINT_TO_POINTER(z ? 1 : 2));
    G_UNLOCK(zones);
    return z != NULL;
}

static int copy_str(const json_t *v, char *dst, size_t size, const char *path, char *errstr,
                    size_t errstr_size)
{
    if (!json_is_string(v)) {
        snprintf(errstr, errstr_size, "%s: not a string", path);
        return -1;
    }
    size_t n = json_string_length(v);
    if (n >= size) {
        snprintf(errstr, errstr_size, "%s: longer than %zu characters", path, size - 1);
        return -1;
    }
    memcpy(dst, json_string_value(v), n + 1);
    return 0;
}

static int get_time(const json_t *doc, const char *key, int64_t *out, int required, char *errstr,
                    size_t errstr_size)
{
    const json_t *v = json_object_get(doc, key);
    if (!v) {
        if (required)
            snprintf(errstr, errstr_size, "/%s: required", key);
        return required ? -1 : 0;
    }
    if (cadence_time_parse(json_string_value(v), out) != 0) {
        snprintf(errstr, errstr_size, "/%s: not an RFC 3339 date-time", key);
        return -1;
    }
    return 0;
}

static int parse_conversation(const json_t *c, cadence_event *ev, char *errstr, size_t n)
{
    if (!json_is_object(c)) {
        snprintf(errstr, n, "/conversation: not an object");
        return -1;
    }
    ev->has_conversation = 1;
    const json_t *pr = json_object_get(c, "problems");
    if (pr) {
        if (!json_is_array(pr) || json_array_size(pr) > CADENCE_EVENT_MAX_PROBLEMS) {
            snprintf(errstr, n, "/conversation/problems: not an array of at most %d strings",
                     CADENCE_EVENT_MAX_PROBLEMS);
            return -1;
        }
        size_t i;
        const json_t *p;
        json_array_foreach(pr, i, p)
        {
            char path[64];
            snprintf(path, sizeof path, "/conversation/problems/%zu", i);
            if (copy_str(p, ev->problems[i], sizeof ev->problems[i], path, errstr, n) != 0)
                return -1;
            ev->n_problems = (int)i + 1;
        }
    }
    const json_t *v = json_object_get(c, "next_steps");
    if (v && copy_str(v, ev->next_steps, sizeof ev->next_steps, "/conversation/next_steps", errstr,
                      n) != 0)
        return -1;
    v = json_object_get(c, "role");
    if (v) {
        int r = lookup(json_string_value(v), roles, G_N_ELEMENTS(roles));
        if (r < 0) {
            snprintf(errstr, n,
                     "/conversation/role: not one of decision_maker, influencer, "
                     "info_gatherer, end_user");
            return -1;
        }
        snprintf(ev->role, sizeof ev->role, "%s", roles[r]);
    }
    v = json_object_get(c, "qualification");
    if (v) {
        if (!json_is_object(v)) {
            snprintf(errstr, n, "/conversation/qualification: not an object");
            return -1;
        }
        for (size_t i = 0; i < G_N_ELEMENTS(qual_names); i++) {
            const json_t *b = json_object_get(v, qual_names[i]);
            if (!b)
                continue;
            if (!json_is_boolean(b)) {
                snprintf(errstr, n, "/conversation/qualification/%s: not a boolean", qual_names[i]);
                return -1;
            }
            ev->qualification_known |= 1 << i;
            if (json_is_true(b))
                ev->qualification |= 1 << i;
        }
    }
    v = json_object_get(c, "next_contact_at");
    if (v && cadence_time_parse(json_string_value(v), &ev->next_contact_at) != 0) {
        snprintf(errstr, n, "/conversation/next_contact_at: not an RFC 3339 date-time");
        return -1;
    }
    return 0;
}

int cadence_event_from_json(const json_t *doc, cadence_event *ev, char *errstr, size_t n)
{
    memset(ev, 0, sizeof *ev);
    ev->potential = -1;
    if (!json_is_object(doc)) {
        snprintf(errstr, n, "/: not an object");
        return -1;
    }
    int t = lookup(json_string_value(json_object_get(doc, "type")), type_names,
                   G_N_ELEMENTS(type_names));
    if (t < 0) {
        snprintf(errstr, n, "/type: not one of lead, site_visit, call_outcome");
        return -1;
    }
    ev->type = (cadence_event_type)t;
    const json_t *v = json_object_get(doc, "event_id");
    if (!v || copy_str(v, ev->event_id, sizeof ev->event_id, "/event_id", errstr, n) != 0 ||
        !cadence_id_valid(ev->event_id)) {
        if (!v || json_is_string(v))
            snprintf(errstr, n, "/event_id: required, ^[A-Za-z0-9._:-]{1,64}$");
        return -1;
    }
    if (get_time(doc, "occurred_at", &ev->occurred_at, 1, errstr, n) != 0)
        return -1;
    for (size_t i = 0; i < G_N_ELEMENTS(str_fields); i++) {
        const str_field *f = &str_fields[i];
        v = json_object_get(doc, f->name);
        if (!v || json_is_null(v))
            continue;
        char path[32];
        snprintf(path, sizeof path, "/%s", f->name);
        char *dst = (char *)ev + f->off;
        if (copy_str(v, dst, f->size, path, errstr, n) != 0)
            return -1;
        if (f->is_id && !cadence_id_valid(dst)) {
            snprintf(errstr, n, "%s: does not match ^[A-Za-z0-9._:-]{1,64}$", path);
            return -1;
        }
    }
    if (ev->type != CADENCE_EVENT_SITE_VISIT && !ev->lead_id[0]) {
        snprintf(errstr, n, "/lead_id: required");
        return -1;
    }
    if (ev->type == CADENCE_EVENT_SITE_VISIT && !ev->lead_id[0] && !ev->email[0]) {
        snprintf(errstr, n, "/lead_id: one of lead_id or email is required");
        return -1;
    }
    switch (ev->type) {
    case CADENCE_EVENT_LEAD:
        if (strcmp(ev->lead_type, "warm") != 0 && strcmp(ev->lead_type, "cold") != 0) {
            snprintf(errstr, n, "/lead_type: required, one of warm, cold");
            return -1;
        }
        if (!ev->rep_id[0]) {
            snprintf(errstr, n, "/rep_id: required");
            return -1;
        }
        v = json_object_get(doc, "potential");
        if (v) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 100) {
                snprintf(errstr, n, "/potential: not an integer 0..100");
                return -1;
            }
            ev->potential = (int)json_integer_value(v);
        }
        if (ev->timezone[0] && !zone_known(ev->timezone)) {
            snprintf(errstr, n, "/timezone: unknown IANA time zone \"%.64s\"", ev->timezone);
            return -1;
        }
        if (ev->country[0] && (strlen(ev->country) != 2 || !g_ascii_isupper(ev->country[0]) ||
                               !g_ascii_isupper(ev->country[1]))) {
            snprintf(errstr, n, "/country: not an ISO 3166-1 alpha-2 code (two capitals)");
            return -1;
        }
        ev->do_not_call = json_is_true(json_object_get(doc, "do_not_call"));
        ev->reenroll = json_is_true(json_object_get(doc, "reenroll"));
        break;
    case CADENCE_EVENT_SITE_VISIT:
        if (!ev->url[0]) {
            snprintf(errstr, n, "/url: required");
            return -1;
        }
        break;
    case CADENCE_EVENT_CALL_OUTCOME: {
        int c = lookup(json_string_value(json_object_get(doc, "channel")), channel_names,
                       G_N_ELEMENTS(channel_names));
        if (c < 0) {
            snprintf(errstr, n,
                     "/channel: required, one of call, email, linkedin, social, "
                     "delivery");
            return -1;
        }
        ev->channel = (cadence_channel)c;
        int d = lookup(json_string_value(json_object_get(doc, "disposition")), disposition_names,
                       G_N_ELEMENTS(disposition_names));
        if (d < 0) {
            snprintf(errstr, n, "/disposition: required, not a known disposition");
            return -1;
        }
        ev->disposition = (cadence_disposition)d;
        v = json_object_get(doc, "conversation");
        if (v && parse_conversation(v, ev, errstr, n) != 0)
            return -1;
        if (get_time(doc, "return_date", &ev->return_date, 0, errstr, n) != 0)
            return -1;
        v = json_object_get(doc, "notes");
        if (v && copy_str(v, ev->notes, sizeof ev->notes, "/notes", errstr, n) != 0)
            return -1;
        if (get_time(doc, "snooze_until", &ev->snooze_until,
                     ev->disposition == CADENCE_DISP_SNOOZED, errstr, n) != 0)
            return -1;
        break;
    }
    }
    return 0;
}

static void set_time(json_t *o, const char *key, int64_t ms)
{
    char buf[40];
    cadence_time_format_utc(ms, buf, sizeof buf);
    json_object_set_new(o, key, json_string(buf));
}

json_t *cadence_event_to_json(const cadence_event *ev)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(type_names[ev->type]));
    json_object_set_new(o, "event_id", json_string(ev->event_id));
    set_time(o, "occurred_at", ev->occurred_at);
    for (size_t i = 0; i < G_N_ELEMENTS(str_fields); i++) {
        const char *s = (const char *)ev + str_fields[i].off;
        if (*s)
            json_object_set_new(o, str_fields[i].name, json_string(s));
    }
    switch (ev->type) {
    case CADENCE_EVENT_LEAD:
        if (ev->potential >= 0)
            json_object_set_new(o, "potential", json_integer(ev->potential));
        if (ev->do_not_call)
            json_object_set_new(o, "do_not_call", json_true());
        if (ev->reenroll)
            json_object_set_new(o, "reenroll", json_true());
        break;
    case CADENCE_EVENT_SITE_VISIT:
        break;
    case CADENCE_EVENT_CALL_OUTCOME:
        json_object_set_new(o, "channel", json_string(channel_names[ev->channel]));
        json_object_set_new(o, "disposition", json_string(disposition_names[ev->disposition]));
        if (ev->return_date)
            set_time(o, "return_date", ev->return_date);
        if (ev->snooze_until)
            set_time(o, "snooze_until", ev->snooze_until);
        if (ev->notes[0])
            json_object_set_new(o, "notes", json_string(ev->notes));
        if (ev->has_conversation) {
            json_t *c = json_object();
            json_t *pr = json_array();
            for (int i = 0; i < ev->n_problems; i++)
                json_array_append_new(pr, json_string(ev->problems[i]));
            json_object_set_new(c, "problems", pr);
            if (ev->next_steps[0])
                json_object_set_new(c, "next_steps", json_string(ev->next_steps));
            if (ev->role[0])
                json_object_set_new(c, "role", json_string(ev->role));
            if (ev->qualification_known) {
                json_t *q = json_object();
                for (size_t i = 0; i < G_N_ELEMENTS(qual_names); i++)
                    if (ev->qualification_known & (1 << i))
                        json_object_set_new(q, qual_names[i],
                                            json_boolean(ev->qualification & (1 << i)));
                json_object_set_new(c, "qualification", q);
            }
            if (ev->next_contact_at)
                set_time(c, "next_contact_at", ev->next_contact_at);
            json_object_set_new(o, "conversation", c);
        }
        break;
    }
    return o;
}
