/*
 * engine — the cadence engine (see engine.h for the contract and the rules).
 *
 * One apply is three phases:
 *   1. bookkeeping: replay check, early events held until the lead event arrives;
 *   2. facts: the event updates the state's time-stamped facts (attempts, conversation,
 *      status with its time, the "no", hot views) and emits alerts / status changes; the
 *      dispositions are a table, not an if-chain;
 *   3. plan: the lead's one open touch is recomputed from the state alone (plan()), so the
 *      schedule never depends on the order the facts arrived in; the outputs say whether the
 *      open touch is unchanged, replaced or cancelled.
 * Scheduling (fit()) walks local calendar days in the lead's zone: working day, holiday,
 * slot, voicemail gap, out of office, daily cap — recording each push with its reason.
 */
#include "engine/engine.h"

#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/topics.h"
#include "engine/measures.h"

#define MAX_MOVED 10
#define MAX_WARNINGS 10
#define MS_PER_DAY 86400000LL

typedef struct run {
    const cadence_playbook *pb;
    cadence_tzcache *tzc;
    cadence_tz *zone;
    cadence_lead_state *st;
    cadence_outputs *outs;
    const cadence_event *ev; /* the event being folded in (the input, or a held one) */
    json_t *notes;
    int cal;      /* the lead's holiday calendar (-1 none) */
    int64_t now;  /* the lead's clock: the newest occurred_at the lead has seen */
    int deriving; /* the status change being made is derived (see state.h: derived) */
} run;

/* ---------------------------------------------------------------- small helpers */

/*
 * Output strings are built with jansson's *_nocheck calls (UTF-8 validation is a large part
 * of building JSON): every string is either from a validated input event, a literal, or
 * passed through utf8_trim where truncation could have split a character.
 */
static void utf8_trim(char *s)
{
    const char *end;
    if (!g_utf8_validate(s, -1, &end))
        *(char *)end = '\0';
}

void cadence_engine_id(const char *lead_id, const char *event_id, const char *kind, char *out,
                       size_t out_size)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    const char *parts[3] = {lead_id, event_id, kind};
    for (int i = 0; i < 3; i++) {
        for (const unsigned char *p = (const unsigned char *)parts[i]; p && *p; p++) {
            h ^= *p;
            h *= 0x100000001b3ULL;
        }
        h ^= 0xff; /* separator */
        h *= 0x100000001b3ULL;
    }
    char buf[CADENCE_ID_SIZE];
    size_t n = g_strlcpy(buf, kind, 40);
    if (n > 39)
        n = 39;
    buf[n++] = '-';
    for (int i = 15; i >= 0; i--, h >>= 4)
        buf[n + (size_t)i] = "0123456789abcdef"[h & 15];
    buf[n + 16] = '\0';
    g_strlcpy(out, buf, out_size);
}

void cadence_outputs_init(cadence_outputs *outs)
{
    memset(outs, 0, sizeof *outs);
}

void cadence_outputs_reset(cadence_outputs *outs)
{
    for (size_t i = 0; i < outs->n_messages; i++)
        json_decref(outs->messages[i].value);
    json_decref(outs->timeline);
    json_decref(outs->touch);
    cadence_outputs_init(outs);
}

static void note(run *r, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void note(run *r, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): false positive on glibc va_list */
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    utf8_trim(buf);
    json_array_append_new(r->notes, json_string_nocheck(buf));
}

static void count(run *r, int64_t delta, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void count(run *r, int64_t delta, const char *fmt, ...)
{
    char name[CADENCE_COUNTER_NAME_SIZE];
    va_list ap;
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): false positive on glibc va_list */
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    cadence_outputs *o = r->outs;
    /* the rep of the fact: who dialled (an outcome's rep_id), else the lead's owner */
    const char *rep = r->ev && r->ev->rep_id[0] ? r->ev->rep_id : r->st->rep_id;
    for (size_t i = 0; i < o->n_counters; i++)
        if (strcmp(o->counters[i].name, name) == 0 && strcmp(o->counters[i].rep, rep) == 0) {
            o->counters[i].delta += delta;
            return;
        }
    if (o->n_counters < CADENCE_OUTPUTS_MAX_COUNTERS) {
        cadence_counter_delta *c = &o->counters[o->n_counters++];
        memcpy(c->name, name, sizeof name);
        g_strlcpy(c->rep, rep, sizeof c->rep);
        c->delta = delta;
    }
}

/* The lead's local date of `at` ("YYYY-MM-DD"), in its zone or the playbook's default. */
static void local_day(run *r, int64_t at, char *out, size_t n)
{
    cadence_tz *z = cadence_tzcache_get(r->tzc, r->st->timezone);
    if (!z)
        z = cadence_tzcache_get(r->tzc, cadence_playbook_default_timezone(r->pb));
    if (!z)
        z = cadence_tzcache_get(r->tzc, "UTC");
    GDate d;
    g_date_clear(&d, 1);
    g_date_set_julian(&d, z ? cadence_time_local_day(at, z, NULL) : 1);
    if (g_date_get_year(&d) > 9999 || g_date_strftime(out, n, "%Y-%m-%d", &d) == 0)
        g_strlcpy(out, "9999-12-31", n); /* out of any report's range */
}

static void emit(run *r, const char *topic, json_t *value)
{
    cadence_outputs *o = r->outs;
    if (o->n_messages >= CADENCE_OUTPUTS_MAX_MESSAGES) {
        json_decref(value);
        return;
    }
    cadence_output_message *m = &o->messages[o->n_messages++];
    m->topic = topic;
    g_strlcpy(m->key, r->st->lead_id, sizeof m->key);
    m->value = value;
}

static void set_time_utc(json_t *o, const char *key, int64_t ms)
{
    char buf[40];
    cadence_rfc3339_format(ms, buf, sizeof buf);
    json_object_set_new_nocheck(o, key, json_string_nocheck(buf));
}

static void set_time_local(run *r, json_t *o, const char *key, int64_t ms)
{
    char buf[40];
    cadence_time_format_local(ms, r->zone, buf, sizeof buf);
    json_object_set_new_nocheck(o, key, json_string_nocheck(buf));
}

static void set_str(json_t *o, const char *key, const char *s)
{
    if (s && *s)
        json_object_set_new_nocheck(o, key, json_string_nocheck(s));
}

static const char *step_label(int step, char *buf, size_t n)
{
    if (step < 0)
        return "follow_up";
    snprintf(buf, n, "%d", step);
    return buf;
}

/* The cadence of a statistics row ("none" when the lead is in none). */
static const char *cadence_label(const cadence_lead_state *st)
{
    return st->cadence[0] ? st->cadence : "none";
}

static cadence_tz *lead_zone(run *r)
{
    cadence_tz *z = cadence_tzcache_get(r->tzc, r->st->timezone);
    if (!z)
        z = cadence_tzcache_get(r->tzc, cadence_playbook_default_timezone(r->pb));
    r->cal = cadence_playbook_calendar_for(
        r->pb, r->st->country,
        r->st->timezone[0] ? r->st->timezone : cadence_playbook_default_timezone(r->pb));
    return z;
}

/* ---------------------------------------------------------------- state facts */

static int is_active(cadence_status s)
{
    return s == CADENCE_STATUS_ACTIVE || s == CADENCE_STATUS_FOLLOW_UP ||
           s == CADENCE_STATUS_RE_EVALUATE;
}

/* Attempts that belong to the current enrolment's first-time calls. */
static int cadence_attempts_before(const cadence_lead_state *st, int64_t before)
{
    int k = 0;
    for (int i = 0; i < st->n_attempts; i++)
        if (!st->attempts[i].follow_up && st->attempts[i].at >= st->cadence_start &&
            st->attempts[i].at < before)
            k++;
    return k;
}

static int64_t last_attempt_at(const cadence_lead_state *st)
{
    return st->n_attempts ? st->attempts[st->n_attempts - 1].at : 0;
}

static void attempt_add(cadence_lead_state *st, int64_t at, int voicemail, int follow_up, int call,
                        int talk)
{
    /* sorted insert; when full, forget the oldest */
    if (st->n_attempts == CADENCE_STATE_MAX_ATTEMPTS) {
        if (at < st->attempts[0].at)
            return;
        memmove(&st->attempts[0], &st->attempts[1],
                sizeof st->attempts[0] * (size_t)(st->n_attempts - 1));
        st->n_attempts--;
    }
    int i = st->n_attempts;
    while (i > 0 && st->attempts[i - 1].at > at) {
        st->attempts[i] = st->attempts[i - 1];
        i--;
    }
    st->attempts[i] = (cadence_attempt){at, voicemail, follow_up, call, talk};
    st->n_attempts++;
}

static int is_final(cadence_status s)
{
    return s == CADENCE_STATUS_WON || s == CADENCE_STATUS_DO_NOT_CALL;
}

static int status_from(run *r, cadence_status to, const char *reason, int64_t at)
{
    cadence_lead_state *st = r->st;
    int64_t before = st->status_at;
    if (is_final(st->status) && !is_final(to)) {
        note(r, "status %s ignored: %s is final", cadence_status_name(to),
             cadence_status_name(st->status));
        return 0;
    }
    if (at < st->status_at && !(is_final(to) && !is_final(st->status))) {
        note(r, "status %s from an event older than the current status: kept %s",
             cadence_status_name(to), cadence_status_name(st->status));
        return 0;
    }
    st->status_at = at;
    if (st->status == to) {
        if (!r->deriving)
            st->derived = 0; /* said again by an outcome: no longer derived */
        return 0;
    }
    st->derived = r->deriving;
    st->derived_from_at = r->deriving ? before : 0;
    char kind[40];
    snprintf(kind, sizeof kind, "status-%s", cadence_status_name(to));
    char id[CADENCE_ID_SIZE];
    cadence_engine_id(st->lead_id, r->ev->event_id, kind, id, sizeof id);
    json_t *v = json_object();
    json_object_set_new_nocheck(v, "event_id", json_string_nocheck(id));
    json_object_set_new_nocheck(v, "type", json_string_nocheck("lead_status"));
    set_time_utc(v, "occurred_at", at);
    json_object_set_new_nocheck(v, "lead_id", json_string_nocheck(st->lead_id));
    json_object_set_new_nocheck(v, "rep_id", json_string_nocheck(st->rep_id));
    json_object_set_new_nocheck(v, "from", json_string_nocheck(cadence_status_name(st->status)));
    json_object_set_new_nocheck(v, "to", json_string_nocheck(cadence_status_name(to)));
    json_object_set_new_nocheck(v, "reason", json_string_nocheck(reason));
    if ((to == CADENCE_STATUS_NURTURE || to == CADENCE_STATUS_LOST) && st->no_reason[0])
        json_object_set_new_nocheck(v, "no_reason", json_string_nocheck(st->no_reason));
    emit(r, CADENCE_TOPIC_LEAD_STATUS, v);
    note(r, "status %s -> %s (%s)", cadence_status_name(st->status), cadence_status_name(to),
         reason);
    count(r, 1, "status:%s", cadence_status_name(to));
    st->status = to;
    return 1;
}

/* "a", "a and b", "a, b and c" */
static void render_problems(const cadence_event *ev, char *out, size_t n)
{
    out[0] = '\0';
    for (int i = 0; i < ev->n_problems; i++) {
        if (i > 0)
            g_strlcat(out, i == ev->n_problems - 1 ? " and " : ", ", n);
        g_strlcat(out, ev->problems[i], n);
    }
    utf8_trim(out);
}

static const char *const reply_to_names[] = {"call", "email", "meeting request"};

/* Someone spoke with the prospect: a conversation, or a "no" said on the phone. */
static int spoke(const cadence_lead_state *st)
{
    return st->connected_at || st->talk_at || st->no_at;
}

/* The prospect reached out (callback, reply, meeting) after the last attempt. */
static int reached_out(const cadence_lead_state *st)
{
    return st->callback_at && st->callback_at >= last_attempt_at(st);
}

/*
 * The playbook's opener with {first_name}, {last_name}, {company}, {problems}, {next_steps},
 * {reply_to}: "Last we spoke, we discussed ..." only when something was discussed; "returning
 * your call" when the prospect reached out before any conversation; the re-open opener after
 * a "no"; the first-call opener otherwise.
 */
static json_t *render_opener(run *r)
{
    const cadence_lead_state *st = r->st;
    const char *t = st->problems[0] || st->next_steps[0] ? cadence_playbook_opener_template(r->pb)
                    : reached_out(st) && !spoke(st)
                        ? cadence_playbook_callback_opener_template(r->pb)
                    : st->no_at ? cadence_playbook_reopen_opener_template(r->pb)
                                : cadence_playbook_first_opener_template(r->pb);
    GString *s = g_string_sized_new(256);
    while (*t) {
        const char *end = *t == '{' ? strchr(t, '}') : NULL;
        if (!end) {
            g_string_append_c(s, *t++);
            continue;
        }
        size_t n = (size_t)(end - t - 1);
        const char *val = NULL;
        if (n == 10 && strncmp(t + 1, "first_name", n) == 0)
            val = st->first_name[0] ? st->first_name : "there";
        else if (n == 9 && strncmp(t + 1, "last_name", n) == 0)
            val = st->last_name;
        else if (n == 7 && strncmp(t + 1, "company", n) == 0)
            val = st->company[0] ? st->company : "your team";
        else if (n == 8 && strncmp(t + 1, "problems", n) == 0)
            val = st->problems[0] ? st->problems : "what you wanted to solve";
        else if (n == 10 && strncmp(t + 1, "next_steps", n) == 0)
            val = st->next_steps[0] ? st->next_steps : "what was to happen next";
        else if (n == 8 && strncmp(t + 1, "reply_to", n) == 0)
            val = reply_to_names[st->callback_kind >= 0 && st->callback_kind < 3 ? st->callback_kind
                                                                                 : 0];
        if (!val) {
            g_string_append_c(s, *t++);
            continue;
        }
        g_string_append(s, val);
        t = end + 1;
    }
    if (s->len > 1000) {
        g_string_truncate(s, 1000);
        utf8_trim(s->str);
        s->len = strlen(s->str);
    }
    json_t *j = json_stringn_nocheck(s->str, s->len);
    g_string_free(s, TRUE);
    return j ? j : json_string_nocheck("");
}

static json_t *lead_summary(run *r, int with_status)
{
    const cadence_lead_state *st = r->st;
    json_t *o = json_object();
    set_str(o, "first_name", st->first_name);
    set_str(o, "last_name", st->last_name);
    set_str(o, "company", st->company);
    set_str(o, "email", st->email);
    set_str(o, "phone", st->phone);
    set_str(o, "timezone",
            st->timezone[0] ? st->timezone : cadence_playbook_default_timezone(r->pb));
    if (with_status) {
        set_str(o, "lead_type", st->lead_type);
        if (st->has_lead)
            json_object_set_new_nocheck(o, "potential", json_integer(st->potential));
        set_str(o, "vertical", st->vertical);
        json_object_set_new_nocheck(o, "status",
                                    json_string_nocheck(cadence_status_name(st->status)));
    }
    return o;
}

/* ---------------------------------------------------------------- alerts */

static void hot_view_add(cadence_lead_state *st, int64_t at, int weight, const char *url,
                         const char *event_id)
{
    for (int i = 0; i < st->n_hot_views; i++)
        if (st->hot_views[i].at == at && strcmp(st->hot_views[i].url, url) == 0)
            return;
    if (st->n_hot_views == CADENCE_STATE_MAX_HOT_VIEWS) {
        if (at < st->hot_views[0].at)
            return;
        memmove(&st->hot_views[0], &st->hot_views[1],
                sizeof st->hot_views[0] * (size_t)(st->n_hot_views - 1));
        st->n_hot_views--;
    }
    int i = st->n_hot_views;
    while (i > 0 && st->hot_views[i - 1].at > at) {
        st->hot_views[i] = st->hot_views[i - 1];
        i--;
    }
    st->hot_views[i].at = at;
    st->hot_views[i].weight = weight;
    g_strlcpy(st->hot_views[i].event_id, event_id, sizeof st->hot_views[i].event_id);
    g_strlcpy(st->hot_views[i].url, url, sizeof st->hot_views[i].url);
    utf8_trim(st->hot_views[i].url);
    st->n_hot_views++;
}

/*
 * The cooldown window a trigger at `at` falls in, per lead and reason: windows are aligned to
 * the lead's local midnight (a 24 h cooldown = one alert per reason per local day), so the
 * window, and with it the alert id, does not depend on the order triggers arrive in.
 */
static int64_t alert_window(run *r, int64_t at)
{
    int64_t cd_min = cadence_playbook_alert_cooldown_ms(r->pb) / 60000;
    if (cd_min <= 0)
        return at; /* no cooldown: every trigger is its own alert */
    int minute = 0;
    uint32_t day = cadence_time_local_day(at, r->zone, &minute);
    return ((int64_t)day * 1440 + minute) / cd_min;
}

/*
 * Raises a call-now alert for `reason`, or, when the lead already has an alert of that reason
 * in the same cooldown window, updates it: the same alert_id with the next `revision` and the
 * context as it is now (hot views, score, the "no", the conversation).
 */
static void alert(run *r, const char *reason, const char *trigger_id, int64_t at, const char *url)
{
    cadence_lead_state *st = r->st;
    int64_t cooldown = cadence_playbook_alert_cooldown_ms(r->pb);
    int64_t window = alert_window(r, at);
    cadence_open_alert *open = NULL;
    for (int i = 0; i < st->n_alerts; i++)
        if (strcmp(st->alerts[i].reason, reason) == 0)
            open = &st->alerts[i];
    char id[CADENCE_ID_SIZE], key[80];
    int revision = 1;
    if (open && open->window == window) {
        revision = open->revision + 1;
        g_strlcpy(id, open->alert_id, sizeof id);
    } else {
        snprintf(key, sizeof key, "%s@%lld", reason, (long long)window);
        cadence_engine_id(st->lead_id, key, "alert", id, sizeof id);
        if (!open) {
            if (st->n_alerts == CADENCE_STATE_MAX_ALERTS) {
                memmove(&st->alerts[0], &st->alerts[1],
                        sizeof st->alerts[0] * (CADENCE_STATE_MAX_ALERTS - 1));
                st->n_alerts--;
            }
            open = &st->alerts[st->n_alerts++];
            memset(open, 0, sizeof *open);
            open->window = INT64_MIN;
            g_strlcpy(open->reason, reason, sizeof open->reason);
        }
    }
    if (window >= open->window) { /* a late trigger of an older window leaves the newest */
        open->window = window;
        open->revision = revision;
        g_strlcpy(open->alert_id, id, sizeof open->alert_id);
    }
    char event_id[CADENCE_ID_SIZE + 16]; /* ids are 22 characters: "-r<n>" fits in 64 */
    if (revision == 1)
        g_strlcpy(event_id, id, sizeof event_id);
    else
        snprintf(event_id, sizeof event_id, "%s-r%d", id, revision);
    json_t *v = json_object();
    json_object_set_new_nocheck(v, "event_id", json_string_nocheck(event_id));
    json_object_set_new_nocheck(v, "type", json_string_nocheck("call_now"));
    set_time_utc(v, "occurred_at", at);
    json_object_set_new_nocheck(v, "alert_id", json_string_nocheck(id));
    json_object_set_new_nocheck(v, "revision", json_integer(revision));
    json_object_set_new_nocheck(v, "reason", json_string_nocheck(reason));
    json_object_set_new_nocheck(v, "lead_id", json_string_nocheck(st->lead_id));
    json_object_set_new_nocheck(v, "rep_id", json_string_nocheck(st->rep_id));
    json_t *trig = json_object();
    json_object_set_new_nocheck(trig, "event_id", json_string_nocheck(trigger_id));
    set_str(trig, "url", url);
    set_time_utc(trig, "occurred_at", at);
    json_object_set_new_nocheck(v, "trigger", trig);
    json_object_set_new_nocheck(v, "lead", lead_summary(r, 1));
    json_object_set_new_nocheck(v, "suggested_opener", render_opener(r));
    if (st->no_at) {
        json_t *no = json_object();
        set_time_utc(no, "at", st->no_at);
        set_str(no, "reason", st->no_reason);
        json_object_set_new_nocheck(v, "no", no);
    }
    if (st->talk_at) {
        json_t *c = json_object();
        set_time_utc(c, "at", st->talk_at);
        set_str(c, "problems", st->problems);
        set_str(c, "next_steps", st->next_steps);
        set_str(c, "role", st->role);
        json_object_set_new_nocheck(v, "conversation", c);
    }
    json_t *views = json_array();
    int score = 0;
    for (int i = 0; i < st->n_hot_views; i++) {
        const cadence_hot_view *h = &st->hot_views[i];
        if (h->at > at || h->at <= at - cooldown)
            continue;
        json_t *hv = json_object();
        json_object_set_new_nocheck(hv, "url", json_string_nocheck(h->url));
        set_time_utc(hv, "occurred_at", h->at);
        json_object_set_new_nocheck(hv, "weight", json_integer(h->weight));
        json_array_append_new(views, hv);
        score += h->weight;
    }
    json_object_set_new_nocheck(v, "hot_views", views);
    json_object_set_new_nocheck(v, "score", json_integer(score));
    emit(r, CADENCE_TOPIC_ALERTS, v);
    if (at >= st->alert_at) {
        st->alert_at = at;
        g_strlcpy(st->alert_id, id, sizeof st->alert_id);
    }
    if (revision == 1) {
        count(r, 1, "alerts:%s", reason);
        note(r, "alert %s (%s)", id, reason);
    } else {
        count(r, 1, "alert_updates:%s", reason);
        note(r, "alert %s (%s) updated: revision %d", id, reason, revision);
    }
}

/*
 * Judges one hot view against the lead's current status and "no". `late`: the view is judged
 * again because a "no" dated before it arrived after it; the alert then goes out only while
 * the view is fresh (alerts.revisit_freshness_hours before the lead's clock), never a stale one.
 * A view dated at or before the "no" is never a trigger, whatever the status now: in time order
 * the "no" answered it (it may arrive after a newer view already re-enrolled the lead).
 */
static void judge_view(run *r, const char *trigger_id, int64_t at, const char *url, int late)
{
    cadence_lead_state *st = r->st;
    if (st->no_at && at <= st->no_at) {
        note(r, "hot view from before the \"no\": no trigger");
        return;
    }
    if ((st->status == CADENCE_STATUS_NURTURE || st->status == CADENCE_STATUS_LOST) && st->no_at) {
        if (late && r->now - at > cadence_playbook_alert_freshness_ms(r->pb))
            note(r, "hot view %s found after a late \"no\" is stale: no alert", trigger_id);
        else
            alert(r, "former_no_revisit", trigger_id, at, url);
        if (at >= st->no_at + cadence_playbook_reenroll_cool_off_ms(r->pb)) {
            st->callback_at = at > st->callback_at ? at : st->callback_at;
            r->deriving = 1;
            status_from(r, CADENCE_STATUS_FOLLOW_UP, "trigger_revisit", at);
            r->deriving = 0;
        }
    } else if (is_active(st->status)) {
        alert(r, "hot_page_active", trigger_id, at, url);
    } else {
        note(r, "hot view while %s: no alert", cadence_status_name(st->status));
    }
}

/* ---------------------------------------------------------------- event handlers */

static void enrol(run *r, int64_t at, const char *reason)
{
    cadence_lead_state *st = r->st;
    const cadence_playbook_cadence *cd =
        cadence_playbook_cadence_choose(r->pb, st->lead_type, st->potential);
    if (!cd) {
        if (status_from(r, CADENCE_STATUS_NURTURE, "low_potential", at))
            count(r, 1, "nurture:low_potential");
        return;
    }
    g_strlcpy(st->cadence, cd->name, sizeof st->cadence);
    st->enrolled_at = at;
    st->cadence_start = at;
    st->reeval_done = 0;
    status_from(r, CADENCE_STATUS_ACTIVE, reason, at);
    count(r, 1, "enrolled:%s:%s", cd->name, st->lead_type);
}

int cadence_engine_visit_is_noise(const cadence_playbook *pb, const cadence_event *ev)
{
    return ev->type == CADENCE_EVENT_SITE_VISIT && cadence_playbook_hot_weight(pb, ev->url) == 0;
}

static void apply_any(run *r, const cadence_event *ev);
static void settle_touch(run *r);

static void on_lead(run *r, const cadence_event *ev)
{
    cadence_lead_state *st = r->st;
    int first = !st->has_lead;
    if (first || ev->occurred_at >= st->lead_at) {
        st->lead_at = ev->occurred_at;
        g_strlcpy(st->rep_id, ev->rep_id, sizeof st->rep_id);
        g_strlcpy(st->lead_type, ev->lead_type, sizeof st->lead_type);
        st->potential =
            ev->potential >= 0 ? ev->potential : cadence_playbook_default_potential(r->pb);
        g_strlcpy(st->vertical, ev->vertical, sizeof st->vertical);
        g_strlcpy(st->first_name, ev->first_name, sizeof st->first_name);
        g_strlcpy(st->last_name, ev->last_name, sizeof st->last_name);
        g_strlcpy(st->company, ev->company, sizeof st->company);
        g_strlcpy(st->email, ev->email, sizeof st->email);
        g_strlcpy(st->phone, ev->phone, sizeof st->phone);
        if (ev->timezone[0] && !cadence_tzcache_get(r->tzc, ev->timezone))
            note(r, "unknown time zone \"%s\": the playbook's default is used", ev->timezone);
        g_strlcpy(st->timezone, ev->timezone, sizeof st->timezone);
        g_strlcpy(st->country, ev->country, sizeof st->country);
        r->zone = lead_zone(r);
    }
    st->has_lead = 1;
    if (first) {
        count(r, 1, "leads:%s", st->lead_type);
        if (!ev->do_not_call) /* a do-not-call lead is never enrolled (nor alerted on) */
            enrol(r, ev->occurred_at, "enrolled");
        if (st->status == CADENCE_STATUS_ACTIVE && strcmp(st->lead_type, "warm") == 0)
            alert(r, "warm_inbound", ev->event_id, ev->occurred_at, NULL);
    } else if (ev->reenroll) {
        int64_t since = st->no_at ? st->no_at : st->status_at;
        int64_t ready = since + cadence_playbook_reenroll_cool_off_ms(r->pb);
        if (st->status != CADENCE_STATUS_NURTURE && st->status != CADENCE_STATUS_LOST) {
            note(r, "reenroll ignored: the lead is %s", cadence_status_name(st->status));
        } else if (ev->occurred_at < ready) {
            char buf[40];
            cadence_rfc3339_format(ready, buf, sizeof buf);
            note(r, "reenroll refused: the cool-off lasts until %s", buf);
        } else {
            enrol(r, ev->occurred_at, "reenrolled");
        }
    } else if (st->status == CADENCE_STATUS_NURTURE && !st->no_at &&
               ev->occurred_at >= st->lead_at && !ev->do_not_call &&
               cadence_playbook_cadence_choose(r->pb, st->lead_type, st->potential)) {
        /* re-scored: it never said no, so no cool-off applies */
        enrol(r, ev->occurred_at, "rescored");
    } else {
        note(r, "lead updated (the cadence is not restarted)");
    }
    if (ev->do_not_call)
        status_from(r, CADENCE_STATUS_DO_NOT_CALL, "do_not_call", ev->occurred_at);
    if (first && st->n_pending) {
        /* Fold the held events in, oldest first (they are kept sorted). */
        int n = st->n_pending;
        cadence_event *held = g_new(cadence_event, (gsize)n);
        memcpy(held, st->pending, sizeof *held * (size_t)n);
        st->n_pending = 0;
        note(r, "folding in %d earlier event(s)", n);
        /* Settle the touch after the lead and after each held event, exactly as if they had
         * arrived one by one in time order: a touch planned and then cancelled still reserved
         * its script, so the state is the one an in-order run reaches. */
        settle_touch(r);
        const cadence_event *saved = r->ev;
        for (int i = 0; i < n; i++) {
            r->ev = &held[i];
            apply_any(r, &held[i]);
            settle_touch(r);
        }
        r->ev = saved;
        g_free(held);
    }
}

static void on_visit(run *r, const cadence_event *ev)
{
    int w = cadence_playbook_hot_weight(r->pb, ev->url);
    if (!w) {
        note(r, "visit %s (not a hot page)", ev->url);
        return;
    }
    hot_view_add(r->st, ev->occurred_at, w, ev->url, ev->event_id);
    judge_view(r, ev->event_id, ev->occurred_at, ev->url, 0);
}

typedef enum kind {
    K_ATTEMPT,  /* a first-time or follow-up attempt that did not get a conversation */
    K_CONNECT,  /* a conversation */
    K_CALLBACK, /* the prospect called back / replied: follow up now */
    K_STATUS,   /* leaves the cadence with a status change */
    K_SENT,     /* an email went out */
    K_BOUNCE,
    K_OOO,
    K_SNOOZE, /* the rep put the open touch off */
    K_SKIP,   /* the rep passed the open touch over */
} kind;

static const struct disposition_rule {
    const char *reason; /* lead-status reason when the status changes */
    kind kind;
    cadence_status to;
    int voicemail; /* a voicemail was left */
    int is_no;     /* records the "no" (date and reason) */
} disposition_rules[CADENCE_DISP_COUNT] = {
    [CADENCE_DISP_NO_ANSWER] = {NULL, K_ATTEMPT, 0, 0, 0},
    [CADENCE_DISP_VOICEMAIL_LEFT] = {NULL, K_ATTEMPT, 0, 1, 0},
    [CADENCE_DISP_GATEKEEPER] = {NULL, K_ATTEMPT, 0, 0, 0},
    [CADENCE_DISP_CONNECTED] = {"connected", K_CONNECT, CADENCE_STATUS_FOLLOW_UP, 0, 0},
    [CADENCE_DISP_CALLBACK_RECEIVED] = {NULL, K_CALLBACK, 0, 0, 0},
    [CADENCE_DISP_NOT_INTERESTED] = {"not_interested", K_STATUS, CADENCE_STATUS_NURTURE, 0, 1},
    [CADENCE_DISP_MEETING_BOOKED] = {"meeting_booked", K_STATUS, CADENCE_STATUS_MEETING_BOOKED, 0,
                                     0},
    [CADENCE_DISP_CLOSED_WON] = {"closed_won", K_STATUS, CADENCE_STATUS_WON, 0, 0},
    [CADENCE_DISP_CLOSED_LOST] = {"closed_lost", K_STATUS, CADENCE_STATUS_LOST, 0, 1},
    [CADENCE_DISP_WRONG_NUMBER] = {"wrong_number", K_STATUS, CADENCE_STATUS_DO_NOT_CALL, 0, 0},
    [CADENCE_DISP_DO_NOT_CALL] = {"do_not_call", K_STATUS, CADENCE_STATUS_DO_NOT_CALL, 0, 0},
    [CADENCE_DISP_SENT] = {NULL, K_SENT, 0, 0, 0},
    [CADENCE_DISP_REPLIED] = {NULL, K_CALLBACK, 0, 0, 0},
    [CADENCE_DISP_BOUNCED] = {NULL, K_BOUNCE, 0, 0, 0},
    [CADENCE_DISP_OUT_OF_OFFICE] = {NULL, K_OOO, 0, 0, 0},
    [CADENCE_DISP_SNOOZED] = {NULL, K_SNOOZE, 0, 0, 0},
    [CADENCE_DISP_SKIPPED] = {NULL, K_SKIP, 0, 0, 0},
};

static void take_conversation(cadence_lead_state *st, const cadence_event *ev)
{
    if (!ev->has_conversation || ev->occurred_at < st->conversation_at)
        return;
    st->conversation_at = ev->occurred_at;
    if (ev->n_problems)
        render_problems(ev, st->problems, sizeof st->problems);
    if (ev->next_steps[0])
        g_strlcpy(st->next_steps, ev->next_steps, sizeof st->next_steps);
    if (ev->role[0])
        g_strlcpy(st->role, ev->role, sizeof st->role);
    st->qualification_known |= ev->qualification_known;
    st->qualification = (st->qualification & ~ev->qualification_known) | ev->qualification;
    st->next_contact_at = ev->next_contact_at;
}

/* Stages in which nobody works the lead: a reach-out brings it back to a rep. */
static int is_resting(cadence_status s)
{
    return s == CADENCE_STATUS_NURTURE || s == CADENCE_STATUS_LOST ||
           s == CADENCE_STATUS_RE_EVALUATE;
}

static const char *const reach_out_reasons[] = {"inbound_callback", "inbound_reply",
                                                "inbound_meeting"};
static const char *const reach_out_status_reasons[] = {"callback_received", "inbound_reply",
                                                       "meeting_booked"};

/*
 * The prospect reached out (the newest reach-out, st->callback_at / callback_kind): from a
 * resting stage the lead goes back to follow-up, and the rep gets a call-now alert whatever
 * the stage — `former_no_callback` after a "no", else inbound_callback / inbound_reply /
 * inbound_meeting. Also called when a status older than the reach-out arrives late, so any
 * order ends where time order ends.
 */
static void reach_out(run *r, const char *trigger_id)
{
    cadence_lead_state *st = r->st;
    int64_t at = st->callback_at;
    int rk = st->callback_kind >= 0 && st->callback_kind < 3 ? st->callback_kind : 0;
    if (is_final(st->status)) {
        note(r, "the prospect reached out, but the lead is %s", cadence_status_name(st->status));
        return;
    }
    /* older than a resting status (the "no" came after it): the status stands, and the
     * alert goes out only while the reach-out is fresh */
    int older = is_resting(st->status) && at < st->status_at;
    /* dated inside a status the engine derived later (follow-ups or the cadence running
     * out): in time order it was judged in the stage before, so it alerts like that run
     * did, and the derivation is judged again (check_follow_ups_end) */
    int rejudge = st->derived && at >= st->derived_from_at && at < st->status_at;
    if (rejudge)
        older = 0;
    if (older && r->now - at > cadence_playbook_alert_freshness_ms(r->pb)) {
        note(r, "a reach-out older than the %s status is stale: no alert",
             cadence_status_name(st->status));
        return;
    }
    if (!older && !rejudge && is_resting(st->status) && rk != 2) {
        r->deriving = 1;
        status_from(r, CADENCE_STATUS_FOLLOW_UP, reach_out_status_reasons[rk], at);
        r->deriving = 0;
    }
    alert(r, st->no_at && st->no_at < at ? "former_no_callback" : reach_out_reasons[rk], trigger_id,
          at, NULL);
}

/* Unanswered attempts since the newest conversation or reach-out. */
static int unanswered_since_talk(const cadence_lead_state *st, int64_t *nth_at, int nth)
{
    int64_t base = st->talk_at > st->callback_at ? st->talk_at : st->callback_at;
    int k = 0;
    for (int i = 0; i < st->n_attempts; i++)
        if (st->attempts[i].at > base) {
            if (++k == nth && nth_at)
                *nth_at = st->attempts[i].at;
        }
    return k;
}

/* Follow-ups end: after follow_up.max_unanswered unanswered attempts, re-evaluate. */
static void check_follow_ups_end(run *r)
{
    cadence_lead_state *st = r->st;
    int max = cadence_playbook_follow_up_max_unanswered(r->pb);
    int64_t nth_at = 0;
    if (max <= 0)
        return;
    int64_t talk = st->talk_at > st->callback_at ? st->talk_at : st->callback_at;
    if (st->no_at > talk)
        return; /* a "no" since the last conversation or reach-out ended them */
    if (unanswered_since_talk(st, &nth_at, max) < max) {
        if (st->status == CADENCE_STATUS_RE_EVALUATE && st->reeval_follow_up) {
            /* a conversation or reach-out dated before the last unanswered attempts arrived
             * late: in time order the follow-ups never ended */
            int64_t base = st->talk_at > st->callback_at ? st->talk_at : st->callback_at;
            st->reeval_follow_up = 0;
            st->status_at = base;
            status_from(r, CADENCE_STATUS_FOLLOW_UP,
                        base == st->talk_at ? "connected"
                                            : reach_out_status_reasons[st->callback_kind == 1],
                        base);
        }
        return;
    }
    if (st->status == CADENCE_STATUS_RE_EVALUATE && st->reeval_follow_up &&
        nth_at < st->status_at) {
        st->status_at = nth_at; /* an earlier unanswered attempt arrived late */
        return;
    }
    if (st->status != CADENCE_STATUS_FOLLOW_UP)
        return;
    st->reeval_follow_up = 1;
    st->reeval_done = 0;
    r->deriving = 1;
    if (status_from(r, CADENCE_STATUS_RE_EVALUATE, "follow_ups_unanswered", nth_at))
        note(r, "%d follow-ups unanswered: re-evaluate", max);
    r->deriving = 0;
}

/* Does the outcome answer the open touch? Its task_id says so; without one, its channel. */
static int answers_open_touch(const cadence_lead_state *st, const cadence_event *ev)
{
    if (!st->open_task_id[0])
        return 0;
    if (ev->task_id[0])
        return strcmp(ev->task_id, st->open_task_id) == 0;
    return strcmp(st->open_channel, cadence_channel_name(ev->channel)) == 0;
}

/* An attempt (a call without conversation, or a non-call step done) at `at`. */
static void record_attempt(run *r, const cadence_event *ev, int voicemail, int call)
{
    cadence_lead_state *st = r->st;
    int64_t at = ev->occurred_at;
    char sb[16];
    int follow_up = st->connected_at && at > st->connected_at;
    int step = cadence_attempts_before(st, at);
    attempt_add(st, at, voicemail, follow_up, call, 0);
    if (follow_up)
        st->follow_ups++;
    else
        st->ftc++;
    if (!call) /* a non-call step done (calls are counted as dials in on_outcome) */
        count(r, 1, "attempts:%s:%s:%s", cadence_label(st),
              follow_up ? "follow_up" : step_label(step, sb, sizeof sb), st->lead_type);
    if (st->status == CADENCE_STATUS_RE_EVALUATE && at > st->status_at)
        st->reeval_done = 1;
    if (st->status == CADENCE_STATUS_ACTIVE) {
        const cadence_playbook_cadence *cd = cadence_playbook_cadence_find(r->pb, st->cadence);
        int64_t last = last_attempt_at(st);
        if (cd && cadence_attempts_before(st, INT64_MAX) >= (int)cd->n_steps) {
            st->reeval_follow_up = 0;
            r->deriving = 1;
            status_from(r, CADENCE_STATUS_RE_EVALUATE, "cadence_complete", last);
            r->deriving = 0;
        }
    }
}

/*
 * The managers' activity counters of one outcome (engine/measures.h): every dial is an attempt
 * of its step's row, connects are counted among them, and the first dial that reached the
 * prospect (a conversation, a "no", a meeting, a deal) counts the attempts made before it.
 */
static void count_dial(run *r, const cadence_event *ev, int step, int follow_up)
{
    cadence_lead_state *st = r->st;
    char sb[16];
    const char *row = follow_up ? "follow_up" : step_label(step, sb, sizeof sb);
    cadence_dial_kind dial = cadence_measures_dial(ev->disposition, ev->channel);
    if (ev->disposition == CADENCE_DISP_MEETING_BOOKED)
        count(r, 1, "meetings");
    if (dial == CADENCE_DIAL_NONE)
        return;
    count(r, 1, "dials");
    count(r, 1, "attempts:%s:%s:%s", cadence_label(st), row, st->lead_type);
    if (dial != CADENCE_DIAL_CONNECT)
        return;
    count(r, 1, "connects");
    count(r, 1, "connects:%s:%s:%s", cadence_label(st), row, st->lead_type);
    int contacted = st->connected_at || st->no_at || st->status == CADENCE_STATUS_MEETING_BOOKED ||
                    st->status == CADENCE_STATUS_WON;
    if (contacted)
        return;
    int before = 0;
    for (int i = 0; i < st->n_attempts; i++)
        before += st->attempts[i].at < ev->occurred_at;
    count(r, 1, "first_contacts");
    count(r, before, "attempts_before_first_contact");
}

static void on_outcome(run *r, const cadence_event *ev)
{
    cadence_lead_state *st = r->st;
    const struct disposition_rule *rule = &disposition_rules[ev->disposition];
    int64_t at = ev->occurred_at;
    char sb[16];
    int is_call = ev->channel == CADENCE_CHANNEL_CALL;
    /* A script is spent when an outcome says it was used: its message_id, or for a voicemail
     * left without one, the script the open touch carried. Planning reserves nothing. */
    int script = cadence_playbook_script_find(r->pb, ev->message_id);
    if (script < 0 && !ev->message_id[0] && ev->disposition == CADENCE_DISP_VOICEMAIL_LEFT &&
        st->open_script && answers_open_touch(st, ev))
        script = st->open_script - 1;
    if (script >= 0 && (ev->disposition == CADENCE_DISP_VOICEMAIL_LEFT ||
                        ev->disposition == CADENCE_DISP_SENT || ev->message_id[0]))
        st->scripts_used |= 1U << script;
    take_conversation(st, ev);
    int follow_up = st->connected_at && at > st->connected_at;
    int step = cadence_attempts_before(st, at);
    int open_other =
        st->open_channel[0] && strcmp(st->open_channel, "call") != 0 && answers_open_touch(st, ev);
    count_dial(r, ev, step, follow_up);
    switch (rule->kind) {
    case K_ATTEMPT:
        record_attempt(r, ev, rule->voicemail && is_call, is_call);
        if (rule->voicemail)
            count(r, 1, "voicemails_left");
        break;
    case K_CONNECT:
        attempt_add(st, at, 0, follow_up, is_call, 1);
        if (at > st->talk_at)
            st->talk_at = at;
        if (!st->connected_at || at < st->connected_at) {
            st->connected_at = at;
            st->connected_step = step;
            /* attempts that arrived before this (earlier) conversation were follow-ups */
            for (int i = 0; i < st->n_attempts; i++)
                if (st->attempts[i].at > at && !st->attempts[i].follow_up) {
                    st->attempts[i].follow_up = 1;
                    if (!st->attempts[i].talk) { /* a conversation was never an FTC attempt */
                        st->ftc--;
                        st->follow_ups++;
                    }
                }
        } else {
            st->follow_ups++;
        }
        /* A conversation supersedes cadence progress whatever the order; after a "no" or a
         * booked meeting the latest event wins; won and do-not-call are final. */
        if (st->status == CADENCE_STATUS_NEW || st->status == CADENCE_STATUS_ACTIVE ||
            st->status == CADENCE_STATUS_RE_EVALUATE) {
            if (at < st->status_at)
                st->status_at = at;
            status_from(r, rule->to, rule->reason, at);
        } else if (st->status == CADENCE_STATUS_NURTURE || st->status == CADENCE_STATUS_LOST ||
                   st->status == CADENCE_STATUS_MEETING_BOOKED) {
            status_from(r, rule->to, rule->reason, at);
        } else if (st->status == CADENCE_STATUS_FOLLOW_UP && at > st->status_at) {
            /* a newer conversation re-affirms follow-up: a "no" dated before it that
             * arrives later does not end it (in time order the conversation came after) */
            st->status_at = at;
            st->derived = 0;
        }
        break;
    case K_CALLBACK:
        count(r, 1,
              ev->disposition == CADENCE_DISP_REPLIED ? "email_replies" : "callbacks_received");
        if (at > st->callback_at) {
            st->callback_at = at;
            st->callback_kind = ev->disposition == CADENCE_DISP_REPLIED ? 1 : 0;
            reach_out(r, ev->event_id);
        } else {
            note(r, "an older reach-out than the newest one: nothing new to do");
        }
        break;
    case K_STATUS: {
        if (rule->is_no && at >= st->no_at) {
            st->no_at = at;
            g_strlcpy(st->no_reason, ev->no_reason, sizeof st->no_reason);
        }
        int64_t talk = st->talk_at > st->callback_at ? st->talk_at : st->callback_at;
        if (rule->is_no && st->status == CADENCE_STATUS_RE_EVALUATE && st->reeval_follow_up &&
            at < st->status_at && at > talk) {
            /* a late "no" dated before the follow-ups ran out: in time order it ended them */
            st->reeval_follow_up = 0;
            st->status_at = at;
        }
        if (st->derived && at < st->status_at && at >= st->derived_from_at &&
            !is_final(st->status)) {
            /* the status the engine derived (from a reach-out, the cadence or follow-ups
             * running out) came after this one in time: put this one in its place; what it
             * derived is judged again against it below */
            note(r, "%s dated before the %s it led to: the status is judged again", rule->reason,
                 cadence_status_name(st->status));
            st->status_at = at;
            st->reeval_follow_up = 0;
        }
        int changed = status_from(r, rule->to, rule->reason, at);
        if (changed && rule->to == CADENCE_STATUS_WON) {
            count(r, 1, "won_deals");
            count(r, st->follow_ups, "follow_ups_to_close");
            count(r, 1, "wins:%s:%s:%s", cadence_label(st),
                  step_label(st->connected_step >= 0 ? st->connected_step : step, sb, sizeof sb),
                  st->lead_type);
        }
        if (rule->to == CADENCE_STATUS_MEETING_BOOKED && !is_call && at > st->callback_at) {
            /* booked by the prospect (a scheduling link, an email: not on a rep's call), in
             * any stage: a reach-out, a rep confirms it now */
            st->callback_at = at;
            st->callback_kind = 2;
            reach_out(r, ev->event_id);
        }
        if (rule->is_no && st->status == rule->to) {
            /* Views remembered from after the "no" (arrived first) are triggers now. */
            for (int i = 0; i < st->n_hot_views; i++)
                if (st->hot_views[i].at > st->no_at && st->status == rule->to)
                    judge_view(r, st->hot_views[i].event_id, st->hot_views[i].at,
                               st->hot_views[i].url, 1);
        }
        break;
    }
    case K_SENT:
        if (open_other)
            record_attempt(r, ev, 0, 0);
        else
            note(r, "%s sent", cadence_channel_name(ev->channel));
        break;
    case K_BOUNCE:
        if (ev->channel == CADENCE_CHANNEL_EMAIL) {
            st->no_email = 1;
            count(r, 1, "emails_bounced");
        }
        if (open_other)
            record_attempt(r, ev, 0, 0);
        break;
    case K_OOO:
        if (ev->return_date > st->ooo_until)
            st->ooo_until = ev->return_date;
        break;
    case K_SNOOZE:
        /* only the touch it names (or the open one on its channel); a later snooze replaces */
        if (answers_open_touch(st, ev)) {
            st->snooze_until = ev->snooze_until;
            note(r, "snoozed%s%s", ev->notes[0] ? ": " : "", ev->notes);
        } else {
            note(r, "a snooze of a touch that is no longer open: nothing to move");
        }
        break;
    case K_SKIP:
        /* the step counts as done without a call and without counting as an attempt: the
         * cadence goes on to its next touch */
        if (answers_open_touch(st, ev)) {
            attempt_add(st, at, 0, follow_up, 0, 0);
            if (follow_up)
                st->follow_ups++;
            note(r, "touch skipped%s%s", ev->notes[0] ? ": " : "", ev->notes);
            if (st->status == CADENCE_STATUS_RE_EVALUATE && at > st->status_at)
                st->reeval_done = 1;
            const cadence_playbook_cadence *cd = cadence_playbook_cadence_find(r->pb, st->cadence);
            if (st->status == CADENCE_STATUS_ACTIVE && cd &&
                cadence_attempts_before(st, INT64_MAX) >= (int)cd->n_steps) {
                st->reeval_follow_up = 0;
                status_from(r, CADENCE_STATUS_RE_EVALUATE, "cadence_complete", last_attempt_at(st));
            }
        } else {
            note(r, "a skip of a touch that is no longer open: nothing to skip");
        }
        break;
    }
    /* a snooze holds only until the rep acts on the lead again */
    if (st->snooze_until && (at >= st->snooze_until || rule->kind == K_CALLBACK ||
                             rule->kind == K_CONNECT || rule->kind == K_STATUS))
        st->snooze_until = 0;
    /* A reach-out newer than a status that arrived late still wins (any order = time order). */
    if (rule->kind != K_CALLBACK && st->callback_at > st->status_at && is_resting(st->status) &&
        st->callback_kind != 2)
        reach_out(r, ev->event_id);
    check_follow_ups_end(r);
    /* the re_evaluate task is answered by any attempt after it (whatever the arrival order) */
    if (st->status == CADENCE_STATUS_RE_EVALUATE)
        st->reeval_done = last_attempt_at(st) > st->status_at;
}

static void apply_any(run *r, const cadence_event *ev)
{
    switch (ev->type) {
    case CADENCE_EVENT_LEAD:
        on_lead(r, ev);
        break;
    case CADENCE_EVENT_SITE_VISIT:
        on_visit(r, ev);
        break;
    case CADENCE_EVENT_CALL_OUTCOME:
        on_outcome(r, ev);
        break;
    }
}

/* ---------------------------------------------------------------- scheduling */

typedef struct moved {
    const char *reason;
    int64_t from;
} moved;

typedef struct plan_t {
    int has;
    char key[112];
    int64_t due;
    const char *objective;
    const char *channel;
    int voicemail, email, script, ftc_attempt, step;
    int opener;   /* the touch carries an opener */
    int callback; /* answers the prospect's reach-out (due at once) */
    const char *suggestion;
    moved moved[MAX_MOVED];
    int n_moved;
    const char *warn_code[MAX_WARNINGS];
    char warn_msg[MAX_WARNINGS][160];
    int n_warn;
} plan_t;

static void push_moved(plan_t *p, const char *reason, int64_t from)
{
    for (int i = 0; i < p->n_moved; i++)
        if (strcmp(p->moved[i].reason, reason) == 0)
            return;
    if (p->n_moved < MAX_MOVED)
        p->moved[p->n_moved++] = (moved){reason, from};
}

static void warn(plan_t *p, const char *code, const char *msg)
{
    if (p->n_warn < MAX_WARNINGS) {
        p->warn_code[p->n_warn] = code;
        g_strlcpy(p->warn_msg[p->n_warn], msg, sizeof p->warn_msg[0]);
        utf8_trim(p->warn_msg[p->n_warn++]);
    }
}

/* Attempts made on local `day`, given the day's bounds [from, to) as instants. */
static int attempts_between(const cadence_lead_state *st, int64_t from, int64_t to)
{
    int n = 0;
    for (int i = 0; i < st->n_attempts; i++)
        n += st->attempts[i].at >= from && st->attempts[i].at < to;
    return n;
}

/*
 * The first instant >= `earliest` on local `day` or later that lies in `slot` on a working
 * day that is not a holiday (the common ones and the lead's calendar), after the
 * out-of-office date and, for an `outbound` attempt, under the daily cap. The time the step
 * would naturally have had is `natural`; when `earliest` is later because of a constraint,
 * `why` names it. A reply to the prospect (callback, email reply) is not outbound: no cap.
 */
static int64_t fit(run *r, plan_t *p, uint32_t day, cadence_playbook_slot slot, int64_t natural,
                   int64_t earliest, const char *why, int outbound)
{
    const cadence_playbook *pb = r->pb;
    int64_t start0 = cadence_time_at_local(day, slot.start_min, r->zone);
    int64_t nat = natural > start0 ? natural : start0;
    if (earliest > nat && why)
        push_moved(p, why, nat);
    if (earliest < natural)
        earliest = natural;
    uint32_t eday = cadence_time_local_day(earliest, r->zone, NULL);
    if (eday > day)
        day = eday;
    for (int guard = 0; guard < 800; guard++, day++) {
        GDate d;
        g_date_clear(&d, 1);
        g_date_set_julian(&d, day);
        int64_t start = cadence_time_at_local(day, slot.start_min, r->zone);
        int64_t end = cadence_time_at_local(day, slot.end_min, r->zone);
        int64_t t = start > earliest ? start : earliest;
        if (!cadence_playbook_is_working_day(pb, g_date_get_weekday(&d))) {
            push_moved(p, "weekend", t);
            continue;
        }
        if (cadence_playbook_is_holiday_in(pb, r->cal, day)) {
            push_moved(p, "holiday", t);
            continue;
        }
        if (t >= end) {
            push_moved(p, "outside_hours", t);
            continue;
        }
        if (r->st->ooo_until && t < r->st->ooo_until) {
            push_moved(p, "out_of_office", t);
            earliest = r->st->ooo_until;
            day = cadence_time_local_day(earliest, r->zone, NULL) - 1;
            continue;
        }
        if (r->st->snooze_until && t < r->st->snooze_until) {
            push_moved(p, "snoozed", t);
            earliest = r->st->snooze_until;
            day = cadence_time_local_day(earliest, r->zone, NULL) - 1;
            continue;
        }
        if (outbound && r->st->n_attempts &&
            attempts_between(r->st, cadence_time_at_local(day, 0, r->zone),
                             cadence_time_at_local(day + 1, 0, r->zone)) >=
                cadence_playbook_daily_touch_cap(pb)) {
            push_moved(p, "daily_cap", t);
            continue;
        }
        return t;
    }
    return earliest;
}

static void pick_script(run *r, plan_t *p)
{
    const cadence_lead_state *st = r->st;
    if (!p->voicemail && !p->email)
        return;
    size_t kn = strlen(p->key);
    if (st->open_script && strncmp(st->open_key, p->key, kn) == 0 && st->open_key[kn] == '|' &&
        !(st->scripts_used & (1U << (st->open_script - 1)))) {
        p->script = st->open_script - 1; /* the open touch keeps its (unspent) script */
        return;
    }
    size_t n = cadence_playbook_script_count(r->pb);
    for (size_t i = 0; i < n; i++)
        if (!(st->scripts_used & (1U << i))) {
            p->script = (int)i;
            return;
        }
    char msg[160];
    snprintf(msg, sizeof msg,
             "all %zu voicemail/email scripts were used for this lead: write a "
             "fresh message instead of repeating one",
             n);
    warn(p, "scripts_exhausted", msg);
}

static void follow_up_warnings(run *r, plan_t *p)
{
    const cadence_lead_state *st = r->st;
    if (!spoke(st))
        return; /* nobody has spoken to the prospect yet: nothing is known to warn about */
    if (strcmp(st->role, "decision_maker") != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "the contact is %s, not the decision maker: find who decides",
                 st->role[0] ? st->role : "of unknown role");
        warn(p, "not_decision_maker", msg);
    }
    static const char *const names[] = {"problem", "decision_makers", "timeline", "price"};
    char missing[96] = "";
    for (int i = 0; i < 4; i++)
        if (!(st->qualification & (1 << i))) {
            if (missing[0])
                g_strlcat(missing, ", ", sizeof missing);
            g_strlcat(missing, names[i], sizeof missing);
        }
    if (missing[0]) {
        char msg[160];
        snprintf(msg, sizeof msg, "qualification checks missing: %s", missing);
        warn(p, "qualification_missing", msg);
    }
}

/* Before any conversation a touch is a first-time call, numbered on (seed: FTC #n). */
static void first_time_or_follow_up(run *r, plan_t *p)
{
    if (spoke(r->st)) {
        p->objective = "follow_up";
    } else {
        p->objective = "first_time_call";
        p->ftc_attempt = r->st->ftc + 1;
    }
    p->opener = 1;
}

/*
 * The voicemail rules for an outbound call (first-time or follow-up): the caller-ID rule
 * turns a call without voicemail into one after N calls without; after a voicemail the next
 * call waits the pause, and the next voicemail the minimum gap. Returns the earliest time.
 */
static int64_t voicemail_rules(run *r, plan_t *p, int64_t earliest)
{
    const cadence_lead_state *st = r->st;
    int64_t last_vm = 0;
    int since_vm = 0;
    for (int i = 0; i < st->n_attempts; i++) {
        if (st->attempts[i].voicemail) {
            last_vm = st->attempts[i].at;
            since_vm = 0;
        } else if (st->attempts[i].call) {
            since_vm++;
        }
    }
    int max_without = cadence_playbook_voicemail_max_calls_without(r->pb);
    if (!p->voicemail && max_without > 0 && since_vm >= max_without)
        p->voicemail = 1; /* caller-ID rule: too many calls without a message */
    if (last_vm && last_vm + cadence_playbook_voicemail_pause_ms(r->pb) > earliest)
        earliest = last_vm + cadence_playbook_voicemail_pause_ms(r->pb);
    if (p->voicemail && last_vm &&
        last_vm + cadence_playbook_voicemail_min_gap_ms(r->pb) > earliest)
        earliest = last_vm + cadence_playbook_voicemail_min_gap_ms(r->pb);
    return earliest;
}

/* The prospect reached out: call back at once (the same day when it is a working hour). No
 * daily cap, no voicemail pause: those are for outbound attempts. */
static void plan_immediate(run *r, plan_t *p, int64_t at)
{
    snprintf(p->key, sizeof p->key, "callback:%lld", (long long)at);
    p->has = 1;
    p->callback = 1;
    p->channel = "call";
    p->step = -1;
    first_time_or_follow_up(r, p);
    uint32_t day = cadence_time_local_day(at, r->zone, NULL);
    p->due = fit(r, p, day, cadence_playbook_business_hours(r->pb), at, at, NULL, 0);
    follow_up_warnings(r, p);
}

static void plan(run *r, plan_t *p)
{
    cadence_lead_state *st = r->st;
    memset(p, 0, sizeof *p);
    p->script = -1;
    if (!st->has_lead)
        return;
    int64_t last = last_attempt_at(st);
    if ((st->status == CADENCE_STATUS_ACTIVE || st->status == CADENCE_STATUS_FOLLOW_UP ||
         (st->status == CADENCE_STATUS_MEETING_BOOKED && st->callback_at >= st->status_at)) &&
        reached_out(st)) {
        plan_immediate(r, p, st->callback_at);
        return;
    }
    if (st->status == CADENCE_STATUS_ACTIVE) {
        const cadence_playbook_cadence *cd = cadence_playbook_cadence_find(r->pb, st->cadence);
        int k = cadence_attempts_before(st, INT64_MAX);
        if (!cd || k >= (int)cd->n_steps)
            return;
        const cadence_playbook_step *s = &cd->steps[k];
        int64_t prev = k ? last : st->enrolled_at;
        if (prev < st->enrolled_at)
            prev = st->enrolled_at;
        p->has = 1;
        snprintf(p->key, sizeof p->key, "ftc:%s:%d:%lld", st->cadence, k,
                 (long long)st->cadence_start);
        p->objective = "first_time_call";
        p->channel = s->channel;
        p->step = k;
        p->ftc_attempt = st->ftc + 1;
        int is_call = strcmp(s->channel, "call") == 0;
        p->voicemail = s->voicemail && is_call;
        p->email = s->email;
        /* the voicemail rules (and their pause) apply to calls only */
        int64_t earliest = is_call ? voicemail_rules(r, p, prev) : prev;
        if (st->no_email && p->email) {
            p->email = 0;
            warn(p, "email_bounced", "an email to this lead bounced: no email is sent");
        }
        pick_script(r, p);
        uint32_t day = cadence_time_local_day(prev, r->zone, NULL) + (uint32_t)s->gap_days;
        int64_t natural = cadence_time_at_local(day, s->slot.start_min, r->zone);
        if (natural < prev)
            natural = prev;
        p->due = fit(r, p, day, s->slot, natural, earliest, "voicemail_gap", 1);
        return;
    }
    if (st->status == CADENCE_STATUS_FOLLOW_UP) {
        p->has = 1;
        p->channel = "call";
        p->step = -1;
        first_time_or_follow_up(r, p);
        int64_t base = last > st->connected_at ? last : st->connected_at;
        if (st->conversation_at > base)
            base = st->conversation_at;
        if (st->callback_at > base)
            base = st->callback_at;
        snprintf(p->key, sizeof p->key, "follow_up:%lld", (long long)base);
        follow_up_warnings(r, p);
        if (st->next_contact_at && st->next_contact_at > last) {
            /* agreed with the prospect: honoured as given (out of office still applies) */
            p->due = st->next_contact_at;
            if (st->ooo_until > p->due) {
                push_moved(p, "out_of_office", p->due);
                p->due = st->ooo_until;
            }
            if (st->snooze_until > p->due) {
                push_moved(p, "snoozed", p->due);
                p->due = st->snooze_until;
            }
            return;
        }
        /* follow-up calls leave voicemails by the same rules, with the same rotating scripts */
        p->voicemail = cadence_playbook_follow_up_voicemail(r->pb);
        int64_t earliest = voicemail_rules(r, p, base);
        if (p->voicemail) {
            p->email = !st->no_email;
            pick_script(r, p);
        }
        uint32_t day = cadence_time_local_day(base, r->zone, NULL) +
                       (uint32_t)cadence_playbook_follow_up_gap_days(r->pb);
        cadence_playbook_slot slot = cadence_playbook_follow_up_slot(r->pb);
        int64_t natural = cadence_time_at_local(day, slot.start_min, r->zone);
        p->due =
            fit(r, p, day, slot, natural > base ? natural : base, earliest, "voicemail_gap", 1);
        return;
    }
    if (st->status == CADENCE_STATUS_RE_EVALUATE && !st->reeval_done) {
        const cadence_playbook_cadence *cd = cadence_playbook_cadence_find(r->pb, st->cadence);
        p->has = 1;
        snprintf(p->key, sizeof p->key, "re_evaluate:%lld", (long long)st->status_at);
        p->objective = "re_evaluate";
        p->channel = "delivery";
        p->step = cd && !st->reeval_follow_up ? (int)cd->n_steps : -1;
        p->suggestion = st->reeval_follow_up ? cadence_playbook_follow_up_suggestion(r->pb)
                        : cd                 ? cd->re_evaluate_suggestion
                                             : NULL;
        uint32_t day = cadence_time_local_day(st->status_at, r->zone, NULL);
        p->due = fit(r, p, day, cadence_playbook_business_hours(r->pb), st->status_at,
                     st->status_at, NULL, 1);
    }
}

static json_t *touch_json(run *r, const plan_t *p, const char *task_id)
{
    const cadence_lead_state *st = r->st;
    json_t *v = json_object();
    json_object_set_new_nocheck(v, "event_id", json_string_nocheck(task_id));
    json_object_set_new_nocheck(v, "type", json_string_nocheck("touch_due"));
    set_time_utc(v, "occurred_at", r->ev->occurred_at);
    json_object_set_new_nocheck(v, "task_id", json_string_nocheck(task_id));
    json_object_set_new_nocheck(v, "lead_id", json_string_nocheck(st->lead_id));
    json_object_set_new_nocheck(v, "rep_id", json_string_nocheck(st->rep_id));
    set_time_local(r, v, "due_at", p->due);
    json_object_set_new_nocheck(v, "channel", json_string_nocheck(p->channel));
    json_object_set_new_nocheck(v, "voicemail", json_boolean(p->voicemail));
    json_object_set_new_nocheck(v, "email", json_boolean(p->email));
    if (p->script >= 0)
        json_object_set_new_nocheck(
            v, "message_id",
            json_string_nocheck(p->voicemail
                                    ? cadence_playbook_voicemail_id(r->pb, (size_t)p->script)
                                    : cadence_playbook_email_id(r->pb, (size_t)p->script)));
    json_object_set_new_nocheck(v, "objective", json_string_nocheck(p->objective));
    if (p->ftc_attempt)
        json_object_set_new_nocheck(v, "ftc_attempt", json_integer(p->ftc_attempt));
    set_str(v, "cadence", st->cadence);
    if (p->callback)
        json_object_set_new_nocheck(v, "callback", json_true());
    if (strcmp(st->lead_type, "warm") == 0 || strcmp(st->lead_type, "cold") == 0)
        json_object_set_new_nocheck(v, "lead_type", json_string_nocheck(st->lead_type));
    if (p->step >= 0)
        json_object_set_new_nocheck(v, "step", json_integer(p->step));
    if (p->opener)
        json_object_set_new_nocheck(v, "opener", render_opener(r));
    set_str(v, "suggestion", p->suggestion);
    json_t *w = json_array();
    for (int i = 0; i < p->n_warn; i++) {
        json_t *wo = json_object();
        json_object_set_new_nocheck(wo, "code", json_string_nocheck(p->warn_code[i]));
        json_object_set_new_nocheck(wo, "message", json_string_nocheck(p->warn_msg[i]));
        json_array_append_new(w, wo);
    }
    json_object_set_new_nocheck(v, "warnings", w);
    json_t *m = json_array();
    for (int i = 0; i < p->n_moved; i++) {
        json_t *mv = json_object();
        json_object_set_new_nocheck(mv, "reason", json_string_nocheck(p->moved[i].reason));
        set_time_local(r, mv, "from", p->moved[i].from);
        json_array_append_new(m, mv);
    }
    json_object_set_new_nocheck(v, "moved", m);
    json_object_set_new_nocheck(v, "lead", lead_summary(r, 0));
    return v;
}

static void settle_touch(run *r)
{
    cadence_lead_state *st = r->st;
    cadence_outputs *o = r->outs;
    plan_t p;
    plan(r, &p);
    if (!p.has) {
        if (st->open_task_id[0]) {
            o->touch_action = CADENCE_TOUCH_CANCEL;
            g_strlcpy(o->cancelled_task_id, st->open_task_id, sizeof o->cancelled_task_id);
            g_strlcpy(st->dropped_task_id, st->open_task_id, sizeof st->dropped_task_id);
            note(r, "open touch %s cancelled", st->open_task_id);
        }
        st->open_task_id[0] = '\0';
        st->open_key[0] = '\0';
        st->open_due_at = 0;
        st->open_script = 0;
        st->open_channel[0] = '\0';
        return;
    }
    /* what the touch is for, plus what it says: any change re-issues it */
    char full[sizeof st->open_key];
    snprintf(full, sizeof full, "%s|%d%d%d%d%d%s%d%c", p.key, p.voicemail, p.email, p.script,
             p.n_warn, p.n_moved, p.channel, p.ftc_attempt, p.objective[0]);
    if (st->open_task_id[0] && strcmp(st->open_key, full) == 0 && st->open_due_at == p.due)
        return; /* unchanged */
    char id[CADENCE_ID_SIZE];
    cadence_engine_id(st->lead_id, r->ev->event_id, "task", id, sizeof id);
    o->touch_action = CADENCE_TOUCH_SET;
    g_strlcpy(o->cancelled_task_id, st->open_task_id, sizeof o->cancelled_task_id);
    if (st->open_task_id[0])
        g_strlcpy(st->dropped_task_id, st->open_task_id, sizeof st->dropped_task_id);
    g_strlcpy(o->task_id, id, sizeof o->task_id);
    o->due_at = p.due;
    json_decref(o->touch);
    o->touch = touch_json(r, &p, id);
    g_strlcpy(st->open_task_id, id, sizeof st->open_task_id);
    g_strlcpy(st->open_key, full, sizeof st->open_key);
    st->open_due_at = p.due;
    st->open_script = p.script >= 0 ? p.script + 1 : 0;
    g_strlcpy(st->open_channel, p.channel, sizeof st->open_channel);
    char buf[40];
    cadence_time_format_local(p.due, r->zone, buf, sizeof buf);
    note(r, "touch %s (%s) due %s", id, p.objective, buf);
}

/* ---------------------------------------------------------------- apply */

/* The ring of recent event ids keeps a digest of each id, not the id: "~" and 11 base64url
 * characters of the first 64 bits of its SHA-256 — 12 bytes whatever the id's length or shape
 * (a ring of 32 UUIDs is ~1.2 KB of JSON that hardly compresses; 32 digests are ~0.4 KB).
 * '~' is no id character, so an id an older version kept as it is never equals a digest. */
static void id_digest(const char *event_id, char out[CADENCE_ENGINE_ID_DIGEST_SIZE])
{
    guint8 sum[32];
    gsize len = sizeof sum;
    GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(c, (const guchar *)event_id, (gssize)strlen(event_id));
    g_checksum_get_digest(c, sum, &len);
    g_checksum_free(c);
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | sum[i];
    out[0] = '~';
    for (int i = 0; i < 10; i++) /* 60 bits, most significant first */
        out[1 + i] = b64[(v >> (58 - 6 * i)) & 63];
    out[11] = b64[(v & 15) << 2]; /* the last 4 bits, as base64 pads them */
    out[12] = '\0';
}

void cadence_engine_id_digest(const char *event_id, char out[CADENCE_ENGINE_ID_DIGEST_SIZE])
{
    id_digest(event_id, out);
}

/* `digest`: the event id's (id_digest), computed once per apply for seen() and remember() */
static int seen(const cadence_lead_state *st, const char *event_id, const char *digest)
{
    for (int i = 0; i < st->n_event_ids; i++)
        if (strcmp(st->event_ids[i], digest) == 0 || strcmp(st->event_ids[i], event_id) == 0)
            return 1;
    for (int i = 0; i < st->n_pending; i++)
        if (strcmp(st->pending[i].event_id, event_id) == 0)
            return 1;
    return 0;
}

/* "task_id#disposition": an outcome that answers a task, as remembered. */
static void answer_key(const cadence_event *ev, char *out, size_t n)
{
    snprintf(out, n, "%s#%d", ev->task_id, (int)ev->disposition);
}

static int answered(const cadence_lead_state *st, const cadence_event *ev)
{
    if (ev->type != CADENCE_EVENT_CALL_OUTCOME || !ev->task_id[0])
        return 0;
    char key[CADENCE_ID_SIZE + 4];
    answer_key(ev, key, sizeof key);
    for (int i = 0; i < st->n_answered; i++)
        if (strcmp(st->answered[i], key) == 0)
            return 1;
    return 0;
}

static void remember_answer(cadence_lead_state *st, const cadence_event *ev)
{
    if (ev->type != CADENCE_EVENT_CALL_OUTCOME || !ev->task_id[0])
        return;
    answer_key(ev, st->answered[st->answered_next], sizeof st->answered[0]);
    st->answered_next = (st->answered_next + 1) % CADENCE_STATE_MAX_ANSWERED;
    if (st->n_answered < CADENCE_STATE_MAX_ANSWERED)
        st->n_answered++;
}

static void remember(cadence_lead_state *st, const char *digest)
{
    g_strlcpy(st->event_ids[st->event_ids_next], digest, sizeof st->event_ids[0]);
    st->event_ids_next = (st->event_ids_next + 1) % CADENCE_STATE_MAX_EVENT_IDS;
    if (st->n_event_ids < CADENCE_STATE_MAX_EVENT_IDS)
        st->n_event_ids++;
}

static void hold(run *r, const cadence_event *ev)
{
    cadence_lead_state *st = r->st;
    if (st->n_pending == CADENCE_STATE_MAX_PENDING) {
        if (ev->occurred_at < st->pending[0].occurred_at) {
            note(r, "too many events before the lead: this (oldest) one is dropped");
            return;
        }
        note(r, "too many events before the lead: the oldest held one is dropped");
        memmove(&st->pending[0], &st->pending[1],
                sizeof st->pending[0] * (size_t)(st->n_pending - 1));
        st->n_pending--;
    }
    int i = st->n_pending;
    while (i > 0 && st->pending[i - 1].occurred_at > ev->occurred_at) {
        st->pending[i] = st->pending[i - 1];
        i--;
    }
    st->pending[i] = *ev;
    st->n_pending++;
    note(r, "held until the lead event arrives");
}

cadence_engine_status cadence_engine_apply(const cadence_lead_state *in, const cadence_event *ev,
                                           const cadence_playbook *pb, cadence_tzcache *tz,
                                           cadence_lead_state *out, cadence_outputs *outs)
{
    if (!ev || !pb || !tz || !out || !outs || !ev->lead_id[0])
        return CADENCE_ENGINE_ERROR;
    if (in && in->lead_id[0] && strcmp(in->lead_id, ev->lead_id) != 0)
        return CADENCE_ENGINE_ERROR;
    if (in != out) {
        if (in)
            cadence_lead_state_copy(out, in);
        else
            cadence_lead_state_init(out, ev->lead_id);
    }
    if (!out->lead_id[0])
        g_strlcpy(out->lead_id, ev->lead_id, sizeof out->lead_id);
    /* a replayed event, or a dialer retry: another event_id, same task_id and disposition */
    char digest[CADENCE_ENGINE_ID_DIGEST_SIZE];
    id_digest(ev->event_id, digest);
    if (seen(out, ev->event_id, digest) || answered(out, ev))
        return CADENCE_ENGINE_DUPLICATE;

    run r = {pb, tz, NULL, out, outs, ev, json_array(), -1, 0, 0};
    r.zone = lead_zone(&r);
    remember(out, digest);
    remember_answer(out, ev);
    /* "now" without a system clock: the newest occurred_at the lead has seen (kept in the
     * state, a function of the events alone). Freshness is judged on the lead's own
     * timeline, never against the arrival time: a trigger is stale when the lead's history
     * has moved on past it, so a delayed partition decides as the time-order run does. */
    if (ev->occurred_at > out->clock && !cadence_engine_visit_is_noise(pb, ev))
        out->clock = ev->occurred_at;
    r.now = out->clock;
    if (!out->has_lead && ev->type != CADENCE_EVENT_LEAD)
        hold(&r, ev);
    else
        apply_any(&r, ev);
    if (r.zone)
        settle_touch(&r);

    local_day(&r, ev->occurred_at, outs->stats_day, sizeof outs->stats_day);
    json_t *tl = json_object();
    set_time_utc(tl, "at", ev->occurred_at);
    json_object_set_new_nocheck(tl, "event_id", json_string_nocheck(ev->event_id));
    char what[128];
    snprintf(what, sizeof what, "%s%s%s", cadence_event_type_name(ev->type),
             ev->type == CADENCE_EVENT_CALL_OUTCOME ? ":" : "",
             ev->type == CADENCE_EVENT_CALL_OUTCOME ? cadence_disposition_name(ev->disposition)
                                                    : "");
    json_object_set_new_nocheck(tl, "event", json_string_nocheck(what));
    json_object_set_new_nocheck(tl, "status",
                                json_string_nocheck(cadence_status_name(out->status)));
    json_object_set_new_nocheck(tl, "notes", r.notes);
    /* what the rep recorded (conversation, reasons, notes) or the page a visit viewed, for the
     * lead's history as the console shows it */
    if (ev->type != CADENCE_EVENT_LEAD) {
        /* less what the entry and its key already say: a lead keeps up to 200 of these */
        json_t *detail = cadence_event_to_json(ev);
        static const char *const said[] = {"type", "event_id", "occurred_at", "lead_id"};
        for (size_t i = 0; detail && i < sizeof said / sizeof said[0]; i++)
            json_object_del(detail, said[i]);
        json_object_set_new_nocheck(tl, "detail", detail);
    }
    json_decref(outs->timeline);
    outs->timeline = tl;
    return CADENCE_ENGINE_OK;
}
