/*
 * playbook — loading and checking the sales playbook (see playbook.h).
 *
 * The loader walks the document with small typed getters that all report errors the same
 * way ("playbook: <json pointer>: <problem>"), so every check names the field it refused.
 * Strings are copied (g_strdup) and freed with the playbook; hot-page patterns are compiled
 * once into GPatternSpec. The only read of system data is the time zone lookup that checks
 * `default_timezone` (GLib reads the system tz database).
 */
#include "base/id.h"
#include "engine/playbook.h"

#include <glib.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct rule {
    char *lead_type; /* "warm", "cold" or "any" */
    int min_potential;
    const cadence_playbook_cadence *cadence;
} rule;

typedef struct hot_page {
    char *pattern;
    GPatternSpec *spec;
    int weight;
} hot_page;

typedef struct calendar {
    char *name;
    uint32_t *days; /* sorted Julian days */
    size_t n;
} calendar;

typedef struct cal_map {
    char *key; /* a country code, a zone, or a zone prefix ending in "*" */
    int calendar;
} cal_map;

struct cadence_playbook {
    char *default_timezone;
    int default_potential;
    int nurture_below;
    cadence_playbook_slot hours;
    int working[8]; /* index 1..7 = Monday..Sunday */
    uint32_t holidays[CADENCE_PLAYBOOK_MAX_HOLIDAYS];
    size_t n_holidays;
    int daily_cap;
    int64_t cooldown_ms;
    int64_t vm_gap_ms, vm_pause_ms;
    int vm_max_without;
    int fu_gap_days;
    cadence_playbook_slot fu_slot;
    int fu_voicemail, fu_max_unanswered;
    char *fu_suggestion;
    int64_t freshness_ms;
    char *callback_opener;
    calendar calendars[CADENCE_PLAYBOOK_MAX_CALENDARS];
    size_t n_calendars;
    cal_map countries[CADENCE_PLAYBOOK_MAX_CALENDAR_MAP], zones[CADENCE_PLAYBOOK_MAX_CALENDAR_MAP];
    size_t n_countries, n_zones;
    int default_calendar;
    int64_t cool_off_ms;
    char *opener;
    char *reopen_opener; /* after a "no" with nothing discussed */
    char *first_opener;  /* before any conversation */
    cadence_playbook_cadence cadences[CADENCE_PLAYBOOK_MAX_CADENCES];
    cadence_playbook_step steps[CADENCE_PLAYBOOK_MAX_CADENCES][CADENCE_PLAYBOOK_MAX_STEPS];
    size_t n_cadences;
    rule rules[CADENCE_PLAYBOOK_MAX_RULES];
    size_t n_rules;
    hot_page hot[CADENCE_PLAYBOOK_MAX_HOT_PAGES];
    size_t n_hot;
    char *vm_ids[CADENCE_PLAYBOOK_MAX_SCRIPTS];
    char *em_ids[CADENCE_PLAYBOOK_MAX_SCRIPTS];
    char *vm_texts[CADENCE_PLAYBOOK_MAX_SCRIPTS]; /* the voicemail's words */
    char *em_texts[CADENCE_PLAYBOOK_MAX_SCRIPTS]; /* the email's body */
    char *em_subjects[CADENCE_PLAYBOOK_MAX_SCRIPTS];
    size_t n_vm, n_em;
};

/* ---- error reporting ---- */

typedef struct ctx {
    char *errstr;
    size_t errstr_size;
    int failed;
} ctx;

static void fail(ctx *c, const char *path, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void fail(ctx *c, const char *path, const char *fmt, ...)
{
    if (c->failed)
        return;
    c->failed = 1;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): false positive on glibc va_list */
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->errstr && c->errstr_size)
        snprintf(c->errstr, c->errstr_size, "playbook: %s: %s", path, msg);
}

/* ---- typed getters: each returns the value or a default after recording an error ---- */

static const json_t *get(ctx *c, const json_t *obj, const char *path, const char *key, int required)
{
    const json_t *v = json_object_get(obj, key);
    if (!v && required)
        fail(c, path, "missing required field \"%s\"", key);
    return v;
}

static long get_int(ctx *c, const json_t *obj, const char *path, const char *key, long dflt,
                    long min, long max)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", path, key);
    const json_t *v = json_object_get(obj, key);
    if (!v)
        return dflt;
    if (!json_is_integer(v)) {
        fail(c, p, "not an integer");
        return dflt;
    }
    long long x = json_integer_value(v);
    if (x < min || x > max) {
        fail(c, p, "%lld out of range %ld..%ld", x, min, max);
        return dflt;
    }
    return (long)x;
}

static int get_bool(ctx *c, const json_t *obj, const char *path, const char *key, int dflt)
{
    const json_t *v = json_object_get(obj, key);
    if (!v)
        return dflt;
    if (!json_is_boolean(v)) {
        fail(c, path, "\"%s\" is not a boolean", key);
        return dflt;
    }
    return json_is_true(v);
}

static const char *get_str(ctx *c, const json_t *obj, const char *path, const char *key,
                           int required, size_t max_len)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", path, key);
    const json_t *v = get(c, obj, path, key, required);
    if (!v)
        return NULL;
    if (!json_is_string(v)) {
        fail(c, p, "not a string");
        return NULL;
    }
    const char *s = json_string_value(v);
    if (strlen(s) == 0 || strlen(s) > max_len) {
        fail(c, p, "length must be 1..%zu", max_len);
        return NULL;
    }
    return s;
}

/* "HH:MM" → minutes after midnight (24:00 allowed as an end), or -1. */
static int parse_hhmm(const char *s)
{
    if (!s || strlen(s) != 5 || s[2] != ':')
        return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0');
    int m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 24 || m > 59 || (h == 24 && m != 0))
        return -1;
    return h * 60 + m;
}

static cadence_playbook_slot get_slot(ctx *c, const json_t *obj, const char *path, const char *key,
                                      cadence_playbook_slot dflt)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", path, key);
    const json_t *v = json_object_get(obj, key);
    if (!v)
        return dflt;
    if (!json_is_object(v)) {
        fail(c, p, "not an object {\"start\": \"HH:MM\", \"end\": \"HH:MM\"}");
        return dflt;
    }
    cadence_playbook_slot s;
    char ps[300];
    snprintf(ps, sizeof ps, "%s/start", p);
    s.start_min = parse_hhmm(json_string_value(json_object_get(v, "start")));
    if (s.start_min < 0) {
        fail(c, ps, "not HH:MM");
        return dflt;
    }
    snprintf(ps, sizeof ps, "%s/end", p);
    s.end_min = parse_hhmm(json_string_value(json_object_get(v, "end")));
    if (s.end_min < 0) {
        fail(c, ps, "not HH:MM");
        return dflt;
    }
    if (s.end_min <= s.start_min) {
        fail(c, ps, "end must be after start");
        return dflt;
    }
    return s;
}

/* "YYYY-MM-DD" -> Julian day, or 0. */
static uint32_t parse_date(const char *s)
{
    int y = 0, m = 0, d = 0;
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int k = 0; k < 10; k++) {
        if (k == 4 || k == 7)
            continue;
        if (!g_ascii_isdigit(s[k]))
            return 0;
        int dig = s[k] - '0';
        if (k < 4)
            y = y * 10 + dig;
        else if (k < 7)
            m = m * 10 + dig;
        else
            d = d * 10 + dig;
    }
    if (y < 1 || !g_date_valid_dmy((GDateDay)d, (GDateMonth)m, (GDateYear)y))
        return 0;
    GDate gd;
    g_date_clear(&gd, 1);
    g_date_set_dmy(&gd, (GDateDay)d, (GDateMonth)m, (GDateYear)y);
    return g_date_get_julian(&gd);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int calendar_index(const cadence_playbook *pb, const char *name)
{
    for (size_t i = 0; name && i < pb->n_calendars; i++)
        if (strcmp(pb->calendars[i].name, name) == 0)
            return (int)i;
    return -1;
}

static void load_calendars(ctx *c, cadence_playbook *pb, const json_t *doc)
{
    pb->default_calendar = -1;
    const json_t *cals = json_object_get(doc, "calendars");
    if (cals &&
        (!json_is_object(cals) || json_object_size(cals) > CADENCE_PLAYBOOK_MAX_CALENDARS)) {
        fail(c, "/calendars", "must be an object of at most %d named date lists",
             CADENCE_PLAYBOOK_MAX_CALENDARS);
        return;
    }
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)cals, name, v)
    {
        char p[128];
        snprintf(p, sizeof p, "/calendars/%.64s", name);
        if (!cadence_id_valid(name)) {
            fail(c, p, "calendar name does not match ^[A-Za-z0-9._:-]{1,64}$");
            return;
        }
        if (!json_is_array(v) || json_array_size(v) > CADENCE_PLAYBOOK_MAX_HOLIDAYS) {
            fail(c, p, "must be an array of at most %d dates", CADENCE_PLAYBOOK_MAX_HOLIDAYS);
            return;
        }
        calendar *cal = &pb->calendars[pb->n_calendars++];
        cal->name = g_strdup(name);
        cal->days = g_new0(uint32_t, json_array_size(v) + 1);
        size_t i;
        const json_t *it;
        json_array_foreach(v, i, it)
        {
            uint32_t j = parse_date(json_string_value(it));
            if (!j) {
                char pi[160];
                snprintf(pi, sizeof pi, "%s/%zu", p, i);
                fail(c, pi, "not a date YYYY-MM-DD");
                return;
            }
            cal->days[cal->n++] = j;
        }
        qsort(cal->days, cal->n, sizeof cal->days[0], cmp_u32);
    }
    static const char *const maps[] = {"country_calendars", "zone_calendars"};
    for (int m = 0; m < 2; m++) {
        const json_t *map = json_object_get(doc, maps[m]);
        cal_map *out = m ? pb->zones : pb->countries;
        size_t *n = m ? &pb->n_zones : &pb->n_countries;
        char p[160];
        snprintf(p, sizeof p, "/%s", maps[m]);
        if (map &&
            (!json_is_object(map) || json_object_size(map) > CADENCE_PLAYBOOK_MAX_CALENDAR_MAP)) {
            fail(c, p, "must be an object of at most %d entries",
                 CADENCE_PLAYBOOK_MAX_CALENDAR_MAP);
            return;
        }
        json_object_foreach((json_t *)map, name, v)
        {
            snprintf(p, sizeof p, "/%s/%.64s", maps[m], name);
            int ci = calendar_index(pb, json_string_value(v));
            if (ci < 0) {
                fail(c, p, "names no calendar in /calendars");
                return;
            }
            if (m == 0 &&
                (strlen(name) != 2 || !g_ascii_isupper(name[0]) || !g_ascii_isupper(name[1]))) {
                fail(c, p, "not an ISO 3166-1 alpha-2 country code");
                return;
            }
            if (m == 1 && name[0] && name[strlen(name) - 1] != '*') {
                GTimeZone *z = g_time_zone_new_identifier(name);
                if (!z) {
                    fail(c, p, "unknown IANA time zone");
                    return;
                }
                g_time_zone_unref(z);
            }
            out[*n].key = g_strdup(name);
            out[(*n)++].calendar = ci;
        }
    }
    const char *dc = get_str(c, doc, "", "default_calendar", 0, 64);
    if (dc) {
        pb->default_calendar = calendar_index(pb, dc);
        if (pb->default_calendar < 0)
            fail(c, "/default_calendar", "names no calendar in /calendars");
    }
}

static const char *const channels[] = {"call", "email", "linkedin", "social", "delivery"};
static const char *const weekdays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static const char *channel_name(const char *s)
{
    for (size_t i = 0; i < G_N_ELEMENTS(channels); i++)
        if (s && strcmp(s, channels[i]) == 0)
            return channels[i];
    return NULL;
}

static void load_steps(ctx *c, cadence_playbook *pb, size_t ci, const json_t *steps,
                       const char *path)
{
    if (!json_is_array(steps) || json_array_size(steps) == 0 ||
        json_array_size(steps) > CADENCE_PLAYBOOK_MAX_STEPS) {
        fail(c, path, "must be an array of 1..%d steps", CADENCE_PLAYBOOK_MAX_STEPS);
        return;
    }
    size_t i;
    const json_t *st;
    json_array_foreach(steps, i, st)
    {
        char p[128];
        snprintf(p, sizeof p, "%s/%zu", path, i);
        if (!json_is_object(st)) {
            fail(c, p, "not an object");
            return;
        }
        cadence_playbook_step *s = &pb->steps[ci][i];
        s->gap_days = (int)get_int(c, st, p, "gap_days", 0, 0, 365);
        if (!json_object_get(st, "gap_days"))
            fail(c, p, "missing required field \"gap_days\"");
        s->slot = get_slot(c, st, p, "slot", pb->hours);
        if (!json_object_get(st, "slot"))
            fail(c, p, "missing required field \"slot\"");
        if (s->slot.start_min < pb->hours.start_min || s->slot.end_min > pb->hours.end_min) {
            char ps[160];
            snprintf(ps, sizeof ps, "%s/slot", p);
            fail(c, ps, "must lie inside business_hours");
        }
        const char *ch = get_str(c, st, p, "channel", 0, 16);
        s->channel = ch ? channel_name(ch) : "call";
        if (!s->channel) {
            char ps[160];
            snprintf(ps, sizeof ps, "%s/channel", p);
            fail(c, ps, "not one of call, email, linkedin, social, delivery");
            s->channel = "call";
        }
        s->voicemail = get_bool(c, st, p, "voicemail", 0);
        s->email = get_bool(c, st, p, "email", 0);
        if (s->voicemail && strcmp(s->channel, "call") != 0)
            fail(c, p, "voicemail needs channel \"call\"");
    }
    pb->cadences[ci].n_steps = json_array_size(steps);
    pb->cadences[ci].steps = pb->steps[ci];
}

static void load_scripts(ctx *c, const json_t *doc, const char *key, char **ids, size_t *n,
                         const char *text_key, char **texts, char **subjects)
{
    char path[64];
    snprintf(path, sizeof path, "/%s", key);
    const json_t *arr = json_object_get(doc, key);
    if (!json_is_array(arr) || json_array_size(arr) < CADENCE_PLAYBOOK_MIN_SCRIPTS ||
        json_array_size(arr) > CADENCE_PLAYBOOK_MAX_SCRIPTS) {
        fail(c, path, "needs %d..%d scripts (never the same message twice to one lead)",
             CADENCE_PLAYBOOK_MIN_SCRIPTS, CADENCE_PLAYBOOK_MAX_SCRIPTS);
        return;
    }
    size_t i;
    const json_t *it;
    json_array_foreach(arr, i, it)
    {
        char p[96];
        snprintf(p, sizeof p, "%s/%zu", path, i);
        const char *id = get_str(c, it, p, "id", 1, 64);
        const char *text = get_str(c, it, p, text_key, 1, 4000);
        /* optional and may be empty; the schema bounds it (300) */
        const char *subject = json_string_value(json_object_get(it, "subject"));
        if (!id)
            return;
        if (!cadence_id_valid(id)) {
            fail(c, p, "id \"%s\" does not match ^[A-Za-z0-9._:-]{1,64}$", id);
            return;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(ids[j], id) == 0) {
                fail(c, p, "duplicate id \"%s\"", id);
                return;
            }
        ids[i] = g_strdup(id);
        texts[i] = g_strdup(text ? text : "");
        if (subjects)
            subjects[i] = g_strdup(subject ? subject : "");
        *n = i + 1;
    }
}

cadence_playbook *cadence_playbook_load_json(const json_t *doc, char *errstr, size_t errstr_size)
{
    ctx c = {errstr, errstr_size, 0};
    if (!json_is_object(doc)) {
        fail(&c, "/", "not an object");
        return NULL;
    }
    cadence_playbook *pb = g_new0(cadence_playbook, 1);

    const char *tz = get_str(&c, doc, "", "default_timezone", 1, 64);
    if (tz) {
        GTimeZone *z = g_time_zone_new_identifier(tz);
        if (!z)
            fail(&c, "/default_timezone", "unknown IANA time zone \"%s\"", tz);
        else
            g_time_zone_unref(z);
        pb->default_timezone = g_strdup(tz);
    }
    pb->default_potential = (int)get_int(&c, doc, "", "default_potential", 50, 0, 100);
    pb->nurture_below = (int)get_int(&c, doc, "", "nurture_below_potential", 20, 0, 101);
    cadence_playbook_slot nine_to_five = {9 * 60, 17 * 60};
    pb->hours = get_slot(&c, doc, "", "business_hours", nine_to_five);

    const json_t *wd = json_object_get(doc, "working_days");
    if (!wd) {
        for (int d = 1; d <= 5; d++)
            pb->working[d] = 1;
    } else if (!json_is_array(wd) || json_array_size(wd) == 0) {
        fail(&c, "/working_days", "must be a non-empty array of mon..sun");
    } else {
        size_t i;
        const json_t *it;
        json_array_foreach(wd, i, it)
        {
            int found = 0;
            for (int d = 0; d < 7; d++)
                if (json_is_string(it) && strcmp(json_string_value(it), weekdays[d]) == 0)
                    pb->working[d + 1] = found = 1;
            if (!found) {
                char p[64];
                snprintf(p, sizeof p, "/working_days/%zu", i);
                fail(&c, p, "not one of mon, tue, wed, thu, fri, sat, sun");
            }
        }
    }

    const json_t *hol = json_object_get(doc, "holidays");
    if (hol && (!json_is_array(hol) || json_array_size(hol) > CADENCE_PLAYBOOK_MAX_HOLIDAYS))
        fail(&c, "/holidays", "must be an array of at most %d dates",
             CADENCE_PLAYBOOK_MAX_HOLIDAYS);
    else if (hol) {
        size_t i;
        const json_t *it;
        json_array_foreach(hol, i, it)
        {
            uint32_t j = parse_date(json_string_value(it));
            if (!j) {
                char p[64];
                snprintf(p, sizeof p, "/holidays/%zu", i);
                fail(&c, p, "not a date YYYY-MM-DD");
                break;
            }
            pb->holidays[pb->n_holidays++] = j;
        }
    }

    pb->daily_cap = (int)get_int(&c, doc, "", "daily_touch_cap", 3, 1, 24);
    const json_t *alerts = json_object_get(doc, "alerts");
    pb->cooldown_ms = get_int(&c, alerts, "/alerts", "cooldown_hours", 24, 0, 8760) * 3600000LL;
    const json_t *vm = json_object_get(doc, "voicemail");
    pb->vm_gap_ms = get_int(&c, vm, "/voicemail", "min_gap_hours", 24, 0, 1440) * 3600000LL;
    pb->vm_pause_ms = get_int(&c, vm, "/voicemail", "pause_after_hours", 3, 0, 720) * 3600000LL;
    pb->vm_max_without = (int)get_int(&c, vm, "/voicemail", "max_calls_without", 2, 0, 100);
    const json_t *fu = json_object_get(doc, "follow_up");
    pb->fu_gap_days = (int)get_int(&c, fu, "/follow_up", "gap_days", 2, 0, 365);
    pb->fu_slot = get_slot(&c, fu, "/follow_up", "slot", pb->hours);
    pb->fu_voicemail = get_bool(&c, fu, "/follow_up", "voicemail", 1);
    pb->fu_max_unanswered = (int)get_int(&c, fu, "/follow_up", "max_unanswered", 3, 0, 100);
    const char *fs = get_str(&c, fu, "/follow_up", "re_evaluate_suggestion", 0, 500);
    pb->fu_suggestion = g_strdup(fs ? fs
                                    : "Follow-ups went unanswered: re-evaluate the lead. Check "
                                      "who really decides, or send something unique.");
    pb->freshness_ms =
        get_int(&c, alerts, "/alerts", "revisit_freshness_hours", 2, 0, 8760) * 3600000LL;
    load_calendars(&c, pb, doc);
    pb->cool_off_ms = get_int(&c, doc, "", "reenroll_cool_off_days", 30, 0, 3650) * 86400000LL;
    const char *op = get_str(&c, doc, "", "opener_template", 1, 1000);
    pb->opener = g_strdup(op ? op : "");
    op = get_str(&c, doc, "", "reopen_opener_template", 0, 1000);
    pb->reopen_opener =
        g_strdup(op ? op
                    : "Hi {first_name} – when we last spoke, the timing wasn't right "
                      "for {company}. Things change, and I had an idea that might be "
                      "of some interest to you. Is now a good time to talk?");
    op = get_str(&c, doc, "", "callback_opener_template", 0, 1000);
    pb->callback_opener = g_strdup(op ? op
                                      : "Hi {first_name} – returning your {reply_to}, thanks for "
                                        "reaching out. What prompted it, and what is {company} "
                                        "looking to solve?");
    op = get_str(&c, doc, "", "first_opener_template", 0, 1000);
    pb->first_opener = g_strdup(op ? op
                                   : "Hi {first_name} – thanks for your interest. I'd like to hear "
                                     "what {company} is looking to solve. Is now a good time?");

    const json_t *cads = json_object_get(doc, "cadences");
    if (!json_is_array(cads) || json_array_size(cads) == 0 ||
        json_array_size(cads) > CADENCE_PLAYBOOK_MAX_CADENCES) {
        fail(&c, "/cadences", "must be an array of 1..%d cadences", CADENCE_PLAYBOOK_MAX_CADENCES);
    } else {
        size_t i;
        const json_t *cd;
        json_array_foreach(cads, i, cd)
        {
            char p[64];
            snprintf(p, sizeof p, "/cadences/%zu", i);
            const char *name = get_str(&c, cd, p, "name", 1, 64);
            if (name && !cadence_id_valid(name))
                fail(&c, p, "name \"%s\" does not match ^[A-Za-z0-9._:-]{1,64}$", name);
            for (size_t j = 0; name && j < i; j++)
                if (strcmp(pb->cadences[j].name, name) == 0)
                    fail(&c, p, "duplicate cadence name \"%s\"", name);
            pb->cadences[i].name = g_strdup(name ? name : "");
            const char *sug = get_str(&c, cd, p, "re_evaluate_suggestion", 0, 500);
            pb->cadences[i].re_evaluate_suggestion = g_strdup(sug ? sug : "");
            char ps[96];
            snprintf(ps, sizeof ps, "%s/steps", p);
            load_steps(&c, pb, i, json_object_get(cd, "steps"), ps);
            pb->n_cadences = i + 1;
        }
    }

    const json_t *rules = json_object_get(doc, "rules");
    if (!json_is_array(rules) || json_array_size(rules) > CADENCE_PLAYBOOK_MAX_RULES) {
        fail(&c, "/rules", "must be an array of at most %d rules", CADENCE_PLAYBOOK_MAX_RULES);
    } else {
        size_t i;
        const json_t *r;
        json_array_foreach(rules, i, r)
        {
            char p[64];
            snprintf(p, sizeof p, "/rules/%zu", i);
            const char *lt = get_str(&c, r, p, "lead_type", 1, 8);
            if (lt && strcmp(lt, "warm") != 0 && strcmp(lt, "cold") != 0 && strcmp(lt, "any") != 0)
                fail(&c, p, "lead_type not one of warm, cold, any");
            const char *cn = get_str(&c, r, p, "cadence", 1, 64);
            pb->rules[i].lead_type = g_strdup(lt ? lt : "any");
            pb->rules[i].min_potential = (int)get_int(&c, r, p, "min_potential", 0, 0, 100);
            pb->rules[i].cadence = cn ? cadence_playbook_cadence_find(pb, cn) : NULL;
            if (cn && !pb->rules[i].cadence)
                fail(&c, p, "cadence \"%s\" is not defined in /cadences", cn);
            pb->n_rules = i + 1;
        }
    }

    const json_t *hot = json_object_get(doc, "hot_pages");
    if (hot && (!json_is_array(hot) || json_array_size(hot) > CADENCE_PLAYBOOK_MAX_HOT_PAGES)) {
        fail(&c, "/hot_pages", "must be an array of at most %d patterns",
             CADENCE_PLAYBOOK_MAX_HOT_PAGES);
    } else if (hot) {
        size_t i;
        const json_t *h;
        json_array_foreach(hot, i, h)
        {
            char p[64];
            snprintf(p, sizeof p, "/hot_pages/%zu", i);
            const char *pat = get_str(&c, h, p, "pattern", 1, 256);
            int w = (int)get_int(&c, h, p, "weight", 1, 1, 1000);
            if (pat && pat[0] != '/')
                fail(&c, p, "pattern must start with \"/\" (a path glob, * and ? allowed)");
            pb->hot[i].pattern = g_strdup(pat ? pat : "/");
            char norm[300];
            cadence_playbook_url_path(pb->hot[i].pattern, norm, sizeof norm);
            pb->hot[i].spec = g_pattern_spec_new(norm);
            pb->hot[i].weight = w;
            pb->n_hot = i + 1;
        }
    }

    load_scripts(&c, doc, "voicemail_scripts", pb->vm_ids, &pb->n_vm, "text", pb->vm_texts, NULL);
    load_scripts(&c, doc, "email_scripts", pb->em_ids, &pb->n_em, "body", pb->em_texts,
                 pb->em_subjects);
    if (!c.failed && pb->n_vm != pb->n_em)
        fail(&c, "/email_scripts",
             "needs as many email scripts as voicemail scripts (%zu): "
             "each voicemail has its matching email",
             pb->n_vm);

    if (c.failed) {
        cadence_playbook_free(pb);
        return NULL;
    }
    return pb;
}

void cadence_playbook_free(cadence_playbook *pb)
{
    if (!pb)
        return;
    g_free(pb->default_timezone);
    g_free(pb->opener);
    g_free(pb->reopen_opener);
    g_free(pb->first_opener);
    g_free(pb->callback_opener);
    g_free(pb->fu_suggestion);
    for (size_t i = 0; i < pb->n_calendars; i++) {
        g_free(pb->calendars[i].name);
        g_free(pb->calendars[i].days);
    }
    for (size_t i = 0; i < pb->n_countries; i++)
        g_free(pb->countries[i].key);
    for (size_t i = 0; i < pb->n_zones; i++)
        g_free(pb->zones[i].key);
    for (size_t i = 0; i < CADENCE_PLAYBOOK_MAX_CADENCES; i++) {
        g_free((char *)pb->cadences[i].name);
        g_free((char *)pb->cadences[i].re_evaluate_suggestion);
    }
    for (size_t i = 0; i < CADENCE_PLAYBOOK_MAX_RULES; i++)
        g_free(pb->rules[i].lead_type);
    for (size_t i = 0; i < CADENCE_PLAYBOOK_MAX_HOT_PAGES; i++) {
        g_free(pb->hot[i].pattern);
        if (pb->hot[i].spec)
            g_pattern_spec_free(pb->hot[i].spec);
    }
    for (size_t i = 0; i < CADENCE_PLAYBOOK_MAX_SCRIPTS; i++) {
        g_free(pb->vm_ids[i]);
        g_free(pb->em_ids[i]);
        g_free(pb->vm_texts[i]);
        g_free(pb->em_texts[i]);
        g_free(pb->em_subjects[i]);
    }
    g_free(pb);
}

size_t cadence_playbook_cadence_count(const cadence_playbook *pb)
{
    return pb->n_cadences;
}

const cadence_playbook_cadence *cadence_playbook_cadence_at(const cadence_playbook *pb, size_t i)
{
    return i < pb->n_cadences ? &pb->cadences[i] : NULL;
}

const cadence_playbook_cadence *cadence_playbook_cadence_find(const cadence_playbook *pb,
                                                              const char *name)
{
    for (size_t i = 0; name && i < pb->n_cadences; i++)
        if (pb->cadences[i].name && strcmp(pb->cadences[i].name, name) == 0)
            return &pb->cadences[i];
    return NULL;
}

const cadence_playbook_cadence *
cadence_playbook_cadence_choose(const cadence_playbook *pb, const char *lead_type, int potential)
{
    if (potential < 0)
        potential = pb->default_potential;
    if (potential < pb->nurture_below)
        return NULL;
    for (size_t i = 0; i < pb->n_rules; i++) {
        const rule *r = &pb->rules[i];
        if (strcmp(r->lead_type, "any") != 0 &&
            (!lead_type || strcmp(r->lead_type, lead_type) != 0))
            continue;
        if (potential >= r->min_potential)
            return r->cadence;
    }
    return NULL;
}

/* A locale segment: "en", "de-de", "pt_br", "zh-hans" (2 letters, optionally - or _ and 2-4
 * letters). */
static int is_locale(const char *seg, size_t n)
{
    if (n != 2 && (n < 5 || n > 7))
        return 0;
    if (!g_ascii_isalpha(seg[0]) || !g_ascii_isalpha(seg[1]))
        return 0;
    if (n == 2)
        return 1;
    if (seg[2] != '-' && seg[2] != '_')
        return 0;
    for (size_t i = 3; i < n; i++)
        if (!g_ascii_isalpha(seg[i]))
            return 0;
    return 1;
}

void cadence_playbook_url_path(const char *url, char *out, size_t out_size)
{
    if (!out_size)
        return;
    out[0] = '\0';
    if (!url)
        return;
    const char *p = url;
    const char *scheme = strstr(url, "://");
    if (scheme && (size_t)(scheme - url) < strcspn(url, "/?#")) {
        p = scheme + 3;
        p += strcspn(p, "/?#"); /* the host */
    } else if (p[0] == '/' && p[1] == '/') {
        p += 2; /* "//host/path" */
        p += strcspn(p, "/?#");
    } else if (p[0] != '/') {
        p += strcspn(p, "/?#"); /* scheme-less "www.acme.com/pricing": the host goes */
    }
    size_t n = strcspn(p, "?#");
    GString *s = g_string_sized_new(n + 2);
    if (n == 0 || p[0] != '/')
        g_string_append_c(s, '/');
    for (size_t i = 0; i < n; i++)
        g_string_append_c(s, g_ascii_tolower(p[i]));
    /* a leading locale segment: "/en/pricing", "/de-de/pricing", "/en" */
    size_t seg = strcspn(s->str + 1, "/");
    if (is_locale(s->str + 1, seg))
        g_string_erase(s, 0, (gssize)(seg + 1));
    if (s->len == 0 || s->str[0] != '/')
        g_string_prepend_c(s, '/');
    while (s->len > 1 && s->str[s->len - 1] == '/')
        g_string_truncate(s, s->len - 1);
    g_strlcpy(out, s->str, out_size);
    g_string_free(s, TRUE);
}

int cadence_playbook_hot_weight(const cadence_playbook *pb, const char *url)
{
    if (!url)
        return 0;
    char path[2100];
    cadence_playbook_url_path(url, path, sizeof path);
    for (size_t i = 0; i < pb->n_hot; i++)
        if (g_pattern_spec_match_string(pb->hot[i].spec, path))
            return pb->hot[i].weight;
    return 0;
}

int cadence_playbook_calendar_for(const cadence_playbook *pb, const char *country, const char *zone)
{
    for (size_t i = 0; country && *country && i < pb->n_countries; i++)
        if (strcmp(pb->countries[i].key, country) == 0)
            return pb->countries[i].calendar;
    for (size_t i = 0; zone && *zone && i < pb->n_zones; i++) {
        const char *k = pb->zones[i].key;
        size_t kn = strlen(k);
        if (kn && k[kn - 1] == '*' ? strncmp(k, zone, kn - 1) == 0 : strcmp(k, zone) == 0)
            return pb->zones[i].calendar;
    }
    return pb->default_calendar;
}

const char *cadence_playbook_calendar_name(const cadence_playbook *pb, int cal)
{
    return cal >= 0 && (size_t)cal < pb->n_calendars ? pb->calendars[cal].name : NULL;
}

int cadence_playbook_is_holiday_in(const cadence_playbook *pb, int cal, uint32_t julian)
{
    if (cadence_playbook_is_holiday(pb, julian))
        return 1;
    if (cal < 0 || (size_t)cal >= pb->n_calendars)
        return 0;
    const calendar *c = &pb->calendars[cal];
    return bsearch(&julian, c->days, c->n, sizeof c->days[0], cmp_u32) != NULL;
}

int cadence_playbook_is_holiday(const cadence_playbook *pb, uint32_t julian)
{
    for (size_t i = 0; i < pb->n_holidays; i++)
        if (pb->holidays[i] == julian)
            return 1;
    return 0;
}

int cadence_playbook_is_working_day(const cadence_playbook *pb, int weekday)
{
    return weekday >= 1 && weekday <= 7 && pb->working[weekday];
}

size_t cadence_playbook_script_count(const cadence_playbook *pb)
{
    return pb->n_vm;
}

const char *cadence_playbook_voicemail_id(const cadence_playbook *pb, size_t i)
{
    return i < pb->n_vm ? pb->vm_ids[i] : NULL;
}

const char *cadence_playbook_email_id(const cadence_playbook *pb, size_t i)
{
    return i < pb->n_em ? pb->em_ids[i] : NULL;
}

const char *cadence_playbook_message_text(const cadence_playbook *pb, const char *message_id,
                                          const char **subject)
{
    if (subject)
        *subject = NULL;
    for (size_t i = 0; message_id && i < pb->n_vm; i++)
        if (strcmp(pb->vm_ids[i], message_id) == 0)
            return pb->vm_texts[i];
    for (size_t i = 0; message_id && i < pb->n_em; i++)
        if (strcmp(pb->em_ids[i], message_id) == 0) {
            if (subject)
                *subject = pb->em_subjects[i];
            return pb->em_texts[i];
        }
    return NULL;
}

int cadence_playbook_script_find(const cadence_playbook *pb, const char *message_id)
{
    for (size_t i = 0; message_id && i < pb->n_vm; i++)
        if (strcmp(pb->vm_ids[i], message_id) == 0 || strcmp(pb->em_ids[i], message_id) == 0)
            return (int)i;
    return -1;
}

const char *cadence_playbook_default_timezone(const cadence_playbook *pb)
{
    return pb->default_timezone;
}
int cadence_playbook_default_potential(const cadence_playbook *pb)
{
    return pb->default_potential;
}
cadence_playbook_slot cadence_playbook_business_hours(const cadence_playbook *pb)
{
    return pb->hours;
}
int cadence_playbook_daily_touch_cap(const cadence_playbook *pb)
{
    return pb->daily_cap;
}
int64_t cadence_playbook_alert_cooldown_ms(const cadence_playbook *pb)
{
    return pb->cooldown_ms;
}
int64_t cadence_playbook_voicemail_min_gap_ms(const cadence_playbook *pb)
{
    return pb->vm_gap_ms;
}
int64_t cadence_playbook_voicemail_pause_ms(const cadence_playbook *pb)
{
    return pb->vm_pause_ms;
}
int cadence_playbook_voicemail_max_calls_without(const cadence_playbook *pb)
{
    return pb->vm_max_without;
}
int cadence_playbook_follow_up_gap_days(const cadence_playbook *pb)
{
    return pb->fu_gap_days;
}
cadence_playbook_slot cadence_playbook_follow_up_slot(const cadence_playbook *pb)
{
    return pb->fu_slot;
}
int64_t cadence_playbook_reenroll_cool_off_ms(const cadence_playbook *pb)
{
    return pb->cool_off_ms;
}
int cadence_playbook_follow_up_voicemail(const cadence_playbook *pb)
{
    return pb->fu_voicemail;
}
int cadence_playbook_follow_up_max_unanswered(const cadence_playbook *pb)
{
    return pb->fu_max_unanswered;
}
const char *cadence_playbook_follow_up_suggestion(const cadence_playbook *pb)
{
    return pb->fu_suggestion;
}
int64_t cadence_playbook_alert_freshness_ms(const cadence_playbook *pb)
{
    return pb->freshness_ms;
}
const char *cadence_playbook_callback_opener_template(const cadence_playbook *pb)
{
    return pb->callback_opener;
}

/* Voicemails one run of `cd` can leave: its voicemail steps, plus the calls the caller-ID
 * rule (at most N calls in a row without one) turns into voicemails. */
static int cadence_voicemails(const cadence_playbook *pb, const cadence_playbook_cadence *cd)
{
    int n = 0, since = 0;
    for (size_t i = 0; i < cd->n_steps; i++) {
        const cadence_playbook_step *st = &cd->steps[i];
        if (strcmp(st->channel, "call") != 0)
            continue;
        if (st->voicemail || (pb->vm_max_without > 0 && since >= pb->vm_max_without)) {
            n++;
            since = 0;
        } else {
            since++;
        }
    }
    return n;
}

int cadence_playbook_warnings(const cadence_playbook *pb, GString *out)
{
    int n = 0;
    int fu = pb->fu_voicemail ? pb->fu_max_unanswered : 0;
    for (size_t i = 0; i < pb->n_cadences; i++) {
        const cadence_playbook_cadence *cd = &pb->cadences[i];
        int once = cadence_voicemails(pb, cd);
        /* a lead can run the cadence, be re-enrolled after a "no" and run it again; the
         * follow-ups between leave voicemails too (until max_unanswered ends them) */
        int total = 2 * once + fu;
        if ((size_t)total > pb->n_vm) {
            g_string_append_printf(out,
                                   "warning: cadence %s can leave %d voicemails to one lead (%d "
                                   "per run, a re-enrolment runs it again, %d in follow-ups) but "
                                   "there are only %zu voicemail scripts: the last ones would have "
                                   "no fresh message\n",
                                   cd->name, total, once, fu, pb->n_vm);
            n++;
        }
    }
    return n;
}

const char *cadence_playbook_opener_template(const cadence_playbook *pb)
{
    return pb->opener;
}

const char *cadence_playbook_reopen_opener_template(const cadence_playbook *pb)
{
    return pb->reopen_opener;
}

const char *cadence_playbook_first_opener_template(const cadence_playbook *pb)
{
    return pb->first_opener;
}

void cadence_playbook_describe(const cadence_playbook *pb, FILE *out)
{
    fprintf(out, "time zone %s (default), business hours %02d:%02d-%02d:%02d, working days",
            pb->default_timezone, pb->hours.start_min / 60, pb->hours.start_min % 60,
            pb->hours.end_min / 60, pb->hours.end_min % 60);
    for (int d = 1; d <= 7; d++)
        if (pb->working[d])
            fprintf(out, " %s", weekdays[d - 1]);
    fprintf(out, ", %zu holidays, at most %d touches a day\n", pb->n_holidays, pb->daily_cap);
    fprintf(out, "potential below %d: no cadence, straight to nurture\n", pb->nurture_below);
    for (size_t i = 0; i < pb->n_rules; i++)
        fprintf(out, "rule: %s leads, potential >= %d -> %s\n", pb->rules[i].lead_type,
                pb->rules[i].min_potential, pb->rules[i].cadence->name);
    for (size_t i = 0; i < pb->n_cadences; i++) {
        const cadence_playbook_cadence *cd = &pb->cadences[i];
        fprintf(out, "cadence %s:\n", cd->name);
        int day = 0;
        for (size_t s = 0; s < cd->n_steps; s++) {
            const cadence_playbook_step *st = &cd->steps[s];
            day += st->gap_days;
            fprintf(out, "  day %d (%d after the previous attempt) %02d:%02d-%02d:%02d %s%s%s\n",
                    day, st->gap_days, st->slot.start_min / 60, st->slot.start_min % 60,
                    st->slot.end_min / 60, st->slot.end_min % 60, st->channel,
                    st->voicemail ? " + voicemail" : "", st->email ? " + email" : "");
        }
        fprintf(out, "  then: re-evaluate (%s)\n", cd->re_evaluate_suggestion);
    }
    fprintf(out,
            "voicemail: >= %lld h between voicemails, %lld h pause after one, at most %d calls "
            "in a row without\n",
            (long long)(pb->vm_gap_ms / 3600000), (long long)(pb->vm_pause_ms / 3600000),
            pb->vm_max_without);
    fprintf(out,
            "follow-ups every %d days; alerts at most one per %lld h; re-enrol after %lld "
            "days\n",
            pb->fu_gap_days, (long long)(pb->cooldown_ms / 3600000),
            (long long)(pb->cool_off_ms / 86400000));
    for (size_t i = 0; i < pb->n_hot; i++)
        fprintf(out, "hot page %s (weight %d)\n", pb->hot[i].pattern, pb->hot[i].weight);
    fprintf(out, "%zu voicemail/email script pairs\n", pb->n_vm);
    fprintf(out,
            "follow-ups: %s voicemail, re-evaluate after %d unanswered; a late \"no\" still "
            "alerts on views up to %lld h old\n",
            pb->fu_voicemail ? "with" : "without", pb->fu_max_unanswered,
            (long long)(pb->freshness_ms / 3600000));
    for (size_t i = 0; i < pb->n_calendars; i++)
        fprintf(out, "calendar %s: %zu holidays%s\n", pb->calendars[i].name, pb->calendars[i].n,
                (int)i == pb->default_calendar ? " (default)" : "");
}
