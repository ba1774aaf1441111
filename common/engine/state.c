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
    S(lead_id),    S(rep_id), S(lead_type), S(vertical), S(first_name),   S(last_name),
    S(company),    S(email),  S(phone),     S(timezone), S(cadence),      S(problems),
    S(next_steps), S(role),   S(no_reason), S(alert_id), S(open_task_id), S(open_key),
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

const char *cadence_lead_state_email(const cadence_lead_state *st)
{
    return st->email;
}

char *cadence_lead_state_to_json(const cadence_lead_state *st)
{
    json_t *o = json_object();
    json_object_set_new(o, "format", json_integer(CADENCE_STATE_FORMAT));
    json_object_set_new(o, "status", json_string(status_names[st->status]));
    for (size_t i = 0; i < G_N_ELEMENTS(str_fields); i++) {
        const char *s = (const char *)st + str_fields[i].off;
        if (*s)
            json_object_set_new(o, str_fields[i].name, json_string(s));
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
        if (v || strcmp(int_fields[i].name, "connected_step") == 0)
            json_object_set_new(o, int_fields[i].name, json_integer(v));
    }
    if (st->scripts_used)
        json_object_set_new(o, "scripts_used", json_integer(st->scripts_used));
    json_t *a = json_array();
    for (int i = 0; i < st->n_attempts; i++)
        json_array_append_new(a, json_pack("[Iii]", (json_int_t)st->attempts[i].at,
                                           st->attempts[i].voicemail, st->attempts[i].follow_up));
    json_object_set_new(o, "attempts", a);
    json_t *h = json_array();
    for (int i = 0; i < st->n_hot_views; i++)
        json_array_append_new(h, json_pack("[Iiss]", (json_int_t)st->hot_views[i].at,
                                           st->hot_views[i].weight, st->hot_views[i].url,
                                           st->hot_views[i].event_id));
    json_object_set_new(o, "hot_views", h);
    json_t *e = json_array();
    for (int i = 0; i < st->n_event_ids; i++)
        json_array_append_new(e, json_string(st->event_ids[i]));
    json_object_set_new(o, "event_ids", e);
    json_object_set_new(o, "event_ids_next", json_integer(st->event_ids_next));
    json_t *p = json_array();
    for (int i = 0; i < st->n_pending; i++)
        json_array_append_new(p, cadence_event_to_json(&st->pending[i]));
    json_object_set_new(o, "pending", p);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
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
