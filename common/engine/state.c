/*
 * state — the lead state's JSON form (see state.h).
 *
 * Scalars are described by two tables (strings with their buffers, 64-bit integers), so the
 * writer and the reader cannot drift apart; arrays (attempts, hot views, event ids, pending
 * events) are written by hand. Zero/empty fields are left out to keep the text small.
 */
#include "engine/state.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tzcache.h"
#include "base/json_text.h"

static const char *const status_names[] = {"new",         "active",  "follow_up",
                                           "re_evaluate", "nurture", "meeting_booked",
                                           "won",         "lost",    "do_not_call"};
G_STATIC_ASSERT(G_N_ELEMENTS(status_names) == CADENCE_STATUS_COUNT);

const char *cadence_status_name(cadence_status s)
{
    return (size_t)s < G_N_ELEMENTS(status_names) ? status_names[s] : NULL;
}

typedef struct sfield {
    const char *name;
    size_t off, size;
} sfield;
#define S(m)                                                                                       \
    {                                                                                              \
#m, offsetof(cadence_lead_state, m), sizeof(((cadence_lead_state *)0)->m)                  \
    }
static const sfield str_fields[] = {
    S(lead_id),      S(rep_id),  S(lead_type),       S(vertical), S(first_name),   S(last_name),
    S(company),      S(email),   S(phone),           S(timezone), S(cadence),      S(problems),
    S(next_steps),   S(role),    S(no_reason),       S(alert_id), S(open_task_id), S(open_key),
    S(open_channel), S(country), S(dropped_task_id),
};
#undef S

typedef struct ifield {
    const char *name;
    size_t off;
    int is_int; /* int (else int64_t) */
} ifield;
#define I(m)                                                                                       \
    {                                                                                              \
#m, offsetof(cadence_lead_state, m), sizeof(((cadence_lead_state *)0)->m) == sizeof(int)   \
    }
static const ifield int_fields[] = {
    I(has_lead),
    I(potential),
    I(lead_at),
    I(status_at),
    I(enrolled_at),
    I(cadence_start),
    I(reeval_done),
    I(ftc),
    I(connected_step),
    I(no_email),
    I(callback_at),
    I(ooo_until),
    I(snooze_until), /* the rep's snooze of the open touch */
    I(follow_ups),
    I(connected_at),
    I(conversation_at),
    I(qualification),
    I(qualification_known),
    I(next_contact_at),
    I(no_at),
    I(alert_at),
    I(open_due_at),
    I(open_script),
    I(talk_at),
    I(clock),
    I(answered_next),
    I(callback_kind),
    I(reeval_follow_up),
    I(derived),
    I(derived_from_at),
};
#undef I

void cadence_lead_state_init(cadence_lead_state *st, const char *lead_id)
{
    /* the unused entries of hot_views/pending are never read */
    memset(st, 0, offsetof(cadence_lead_state, hot_views));
    st->connected_step = -1;
    if (lead_id)
        snprintf(st->lead_id, sizeof st->lead_id, "%s", lead_id);
}

void cadence_lead_state_copy(cadence_lead_state *dst, const cadence_lead_state *src)
{
    if (dst == src)
        return;
    memcpy(dst, src, offsetof(cadence_lead_state, hot_views));
    memcpy(dst->hot_views, src->hot_views, sizeof src->hot_views[0] * (size_t)src->n_hot_views);
    memcpy(dst->pending, src->pending, sizeof src->pending[0] * (size_t)src->n_pending);
}

#define STATE_FIXED offsetof(cadence_lead_state, hot_views)

size_t cadence_lead_state_packed_size(const cadence_lead_state *st)
{
    return STATE_FIXED + sizeof st->hot_views[0] * (size_t)st->n_hot_views +
           sizeof st->pending[0] * (size_t)st->n_pending;
}

void cadence_lead_state_pack(const cadence_lead_state *st, void *buf)
{
    char *out = buf;
    size_t hot = sizeof st->hot_views[0] * (size_t)st->n_hot_views;
    memcpy(out, st, STATE_FIXED);
    memcpy(out + STATE_FIXED, st->hot_views, hot);
    memcpy(out + STATE_FIXED + hot, st->pending, sizeof st->pending[0] * (size_t)st->n_pending);
}

void cadence_lead_state_unpack(const void *buf, cadence_lead_state *st)
{
    const char *in = buf;
    memcpy(st, in, STATE_FIXED); /* the counts first: they size the rest */
    size_t hot = sizeof st->hot_views[0] * (size_t)st->n_hot_views;
    memcpy(st->hot_views, in + STATE_FIXED, hot);
    memcpy(st->pending, in + STATE_FIXED + hot, sizeof st->pending[0] * (size_t)st->n_pending);
}

const char *cadence_lead_state_rep_id(const cadence_lead_state *st)
{
    return st->rep_id;
}

const char *cadence_lead_state_dropped_task_id(const cadence_lead_state *st)
{
    return st->dropped_task_id;
}

const char *cadence_lead_state_email(const cadence_lead_state *st)
{
    return st->email;
}

/*
 * The writer. The state is written straight to text (the worker writes one per event, and
 * building a jansson object of ~40 members first cost a fifth of its CPU); the reader below
 * parses it with jansson. Strings are escaped as RFC 8259 requires, which is also how jansson
 * writes them (UTF-8 kept as is); a string that is not valid UTF-8 is left out, as jansson's
 * json_string() would refuse it.
 */
/* `,"name":` (the comma unless first). */
static void put_key(GString *out, const char *name)
{
    if (out->str[out->len - 1] != '{')
        g_string_append_c(out, ',');
    g_string_append_c(out, '"');
    g_string_append(out, name);
    g_string_append(out, "\":");
}

/* `,"name":"s"`; nothing at all when `s` is not valid UTF-8. */
static void put_text_field(GString *out, const char *name, const char *s)
{
    size_t mark = out->len;
    put_key(out, name);
    if (cadence_json_text_string(out, s) != 0)
        g_string_truncate(out, mark);
}

static void put_int(GString *out, int64_t v)
{
    g_string_append_printf(out, "%" G_GINT64_FORMAT, (gint64)v);
}

char *cadence_lead_state_to_json(const cadence_lead_state *st)
{
    GString *out = g_string_sized_new(2048);
    g_string_append_c(out, '{');
    put_key(out, "format");
    put_int(out, CADENCE_STATE_FORMAT);
    put_text_field(out, "status", status_names[st->status]);
    for (size_t i = 0; i < G_N_ELEMENTS(str_fields); i++) {
        const char *s = (const char *)st + str_fields[i].off;
        if (*s)
            put_text_field(out, str_fields[i].name, s);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(int_fields); i++) {
        const char *p = (const char *)st + int_fields[i].off;
        int64_t v;
        if (int_fields[i].is_int) {
            int x;
            memcpy(&x, p, sizeof x);
            v = x;
        } else {
            memcpy(&v, p, sizeof v);
        }
        if (v || strcmp(int_fields[i].name, "connected_step") == 0) {
            put_key(out, int_fields[i].name);
            put_int(out, v);
        }
    }
    if (st->scripts_used) {
        put_key(out, "scripts_used");
        put_int(out, st->scripts_used);
    }
    put_key(out, "attempts");
    g_string_append_c(out, '[');
    for (int i = 0; i < st->n_attempts; i++) {
        g_string_append_printf(out, "%s[%" G_GINT64_FORMAT ",%d,%d,%d,%d]", i ? "," : "",
                               (gint64)st->attempts[i].at, st->attempts[i].voicemail,
                               st->attempts[i].follow_up, st->attempts[i].call,
                               st->attempts[i].talk);
    }
    g_string_append(out, "]");
    if (st->n_alerts) {
        put_key(out, "alerts");
        g_string_append_c(out, '[');
        for (int i = 0; i < st->n_alerts; i++) {
            const cadence_open_alert *a = &st->alerts[i];
            g_string_append(out, i ? ",[" : "[");
            cadence_json_text_string(out, a->reason);
            g_string_append_c(out, ',');
            cadence_json_text_string(out, a->alert_id);
            g_string_append_printf(out, ",%" G_GINT64_FORMAT ",%d]", (gint64)a->window,
                                   a->revision);
        }
        g_string_append_c(out, ']');
    }
    if (st->n_answered) {
        put_key(out, "answered");
        g_string_append_c(out, '[');
        for (int i = 0; i < st->n_answered; i++) {
            if (i)
                g_string_append_c(out, ',');
            cadence_json_text_string(out, st->answered[i]);
        }
        g_string_append_c(out, ']');
    }
    put_key(out, "hot_views");
    g_string_append_c(out, '[');
    int first = 1;
    for (int i = 0; i < st->n_hot_views; i++) {
        const cadence_hot_view *h = &st->hot_views[i];
        size_t mark = out->len; /* an entry with text that is not UTF-8 is left out whole */
        g_string_append_printf(out, "%s[%" G_GINT64_FORMAT ",%d,", first ? "" : ",", (gint64)h->at,
                               h->weight);
        int ok = cadence_json_text_string(out, h->url) == 0;
        if (ok) {
            g_string_append_c(out, ',');
            ok = cadence_json_text_string(out, h->event_id) == 0;
        }
        if (!ok) {
            g_string_truncate(out, mark);
            continue;
        }
        g_string_append_c(out, ']');
        first = 0;
    }
    g_string_append(out, "]");
    put_key(out, "event_ids");
    g_string_append_c(out, '[');
    first = 1;
    for (int i = 0; i < st->n_event_ids; i++) {
        size_t mark = out->len;
        if (!first)
            g_string_append_c(out, ',');
        if (cadence_json_text_string(out, st->event_ids[i]) != 0) {
            g_string_truncate(out, mark);
            continue;
        }
        first = 0;
    }
    g_string_append(out, "]");
    put_key(out, "event_ids_next");
    put_int(out, st->event_ids_next);
    put_key(out, "pending");
    g_string_append_c(out, '[');
    first = 1;
    for (int i = 0; i < st->n_pending; i++) {
        json_t *ev = cadence_event_to_json(&st->pending[i]);
        char *text = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
        json_decref(ev);
        if (!text)
            continue;
        if (!first)
            g_string_append_c(out, ',');
        g_string_append(out, text);
        free(text);
        first = 0;
    }
    g_string_append(out, "]}");
    return cadence_json_text_steal(out); /* callers free() it */
}

int cadence_lead_state_from_json(const char *text, cadence_lead_state *st, char *errstr,
                                 size_t errstr_size)
{
    cadence_lead_state_init(st, NULL);
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr);
    if (!json_is_object(o)) {
        snprintf(errstr, errstr_size, "state: not a JSON object: %s", jerr.text);
        json_decref(o);
        return -1;
    }
    int rc = -1;
    json_int_t fmt = json_integer_value(json_object_get(o, "format"));
    if (fmt != CADENCE_STATE_FORMAT) {
        snprintf(errstr, errstr_size, "state: format %lld not supported (this build reads %d)",
                 (long long)fmt, CADENCE_STATE_FORMAT);
        goto out;
    }
    const char *sn = json_string_value(json_object_get(o, "status"));
    for (size_t i = 0; sn && i < G_N_ELEMENTS(status_names); i++)
        if (strcmp(sn, status_names[i]) == 0)
            st->status = (cadence_status)i;
    for (size_t i = 0; i < G_N_ELEMENTS(str_fields); i++) {
        const char *s = json_string_value(json_object_get(o, str_fields[i].name));
        if (s)
            g_strlcpy((char *)st + str_fields[i].off, s, str_fields[i].size);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(int_fields); i++) {
        const json_t *v = json_object_get(o, int_fields[i].name);
        if (!v)
            continue;
        int64_t x = json_integer_value(v);
        char *p = (char *)st + int_fields[i].off;
        if (int_fields[i].is_int) {
            int y = (int)x;
            memcpy(p, &y, sizeof y);
        } else {
            memcpy(p, &x, sizeof x);
        }
    }
    if (!json_object_get(o, "connected_step"))
        st->connected_step = -1;
    st->scripts_used = (uint32_t)json_integer_value(json_object_get(o, "scripts_used"));
    size_t i;
    const json_t *it;
    json_array_foreach(json_object_get(o, "attempts"), i, it)
    {
        if (i >= CADENCE_STATE_MAX_ATTEMPTS)
            break;
        st->attempts[i].at = json_integer_value(json_array_get(it, 0));
        st->attempts[i].voicemail = (int)json_integer_value(json_array_get(it, 1));
        st->attempts[i].follow_up = (int)json_integer_value(json_array_get(it, 2));
        const json_t *call = json_array_get(it, 3);
        st->attempts[i].call = call ? (int)json_integer_value(call) : 1;
        st->attempts[i].talk = (int)json_integer_value(json_array_get(it, 4));
        st->n_attempts = (int)i + 1;
    }
    json_array_foreach(json_object_get(o, "hot_views"), i, it)
    {
        if (i >= CADENCE_STATE_MAX_HOT_VIEWS)
            break;
        st->hot_views[i].at = json_integer_value(json_array_get(it, 0));
        st->hot_views[i].weight = (int)json_integer_value(json_array_get(it, 1));
        const char *u = json_string_value(json_array_get(it, 2));
        g_strlcpy(st->hot_views[i].url, u ? u : "", sizeof st->hot_views[i].url);
        const char *e = json_string_value(json_array_get(it, 3));
        g_strlcpy(st->hot_views[i].event_id, e ? e : "", sizeof st->hot_views[i].event_id);
        st->n_hot_views = (int)i + 1;
    }
    json_array_foreach(json_object_get(o, "alerts"), i, it)
    {
        if (i >= CADENCE_STATE_MAX_ALERTS)
            break;
        cadence_open_alert *a = &st->alerts[i];
        const char *r = json_string_value(json_array_get(it, 0));
        const char *id = json_string_value(json_array_get(it, 1));
        g_strlcpy(a->reason, r ? r : "", sizeof a->reason);
        g_strlcpy(a->alert_id, id ? id : "", sizeof a->alert_id);
        a->window = json_integer_value(json_array_get(it, 2));
        a->revision = (int)json_integer_value(json_array_get(it, 3));
        st->n_alerts = (int)i + 1;
    }
    json_array_foreach(json_object_get(o, "answered"), i, it)
    {
        if (i >= CADENCE_STATE_MAX_ANSWERED)
            break;
        const char *s = json_string_value(it);
        g_strlcpy(st->answered[i], s ? s : "", sizeof st->answered[i]);
        st->n_answered = (int)i + 1;
    }
    st->answered_next %= CADENCE_STATE_MAX_ANSWERED;
    json_array_foreach(json_object_get(o, "event_ids"), i, it)
    {
        if (i >= CADENCE_STATE_MAX_EVENT_IDS)
            break;
        const char *s = json_string_value(it);
        g_strlcpy(st->event_ids[i], s ? s : "", sizeof st->event_ids[i]);
        st->n_event_ids = (int)i + 1;
    }
    st->event_ids_next =
        (int)json_integer_value(json_object_get(o, "event_ids_next")) % CADENCE_STATE_MAX_EVENT_IDS;
    json_array_foreach(json_object_get(o, "pending"), i, it)
    {
        if (i >= CADENCE_STATE_MAX_PENDING)
            break;
        if (cadence_event_from_json(it, &st->pending[i], errstr, errstr_size) != 0)
            goto out;
        st->n_pending = (int)i + 1;
    }
    rc = 0;
out:
    json_decref(o);
    return rc;
}
