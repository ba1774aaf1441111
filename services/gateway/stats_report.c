/* stats_report — see stats_report.h. */
#include "stats_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/stats.h"

/* The per-day activity: the stored counter and its name in by_day. */
static const struct {
    const char *counter, *field;
} activity[] = {
    {"dials", "dials"},
    {"connects", "connects"},
    {"voicemails_left", "voicemails"},
    {"meetings", "meetings"},
};
#define N_ACTIVITY (sizeof activity / sizeof activity[0])

struct gw_stats_report {
    char from[11];
    size_t n_days;
    char rep[72];
    int has_rep;
    json_t *totals;                /* counter → sum */
    json_t *reps;                  /* rep → {counter → sum} */
    long long (*days)[N_ACTIVITY]; /* per day, per activity counter */
};

gw_stats_report *gw_stats_report_new(const char *from, size_t n_days, const char *rep)
{
    gw_stats_report *r = calloc(1, sizeof(*r));
    if (!r || n_days < 1)
        abort();
    snprintf(r->from, sizeof r->from, "%s", from);
    r->n_days = n_days;
    if (rep) {
        snprintf(r->rep, sizeof r->rep, "%s", rep);
        r->has_rep = 1;
    }
    r->totals = json_object();
    r->reps = json_object();
    r->days = calloc(n_days, sizeof(*r->days));
    if (!r->totals || !r->reps || !r->days)
        abort();
    return r;
}

void gw_stats_report_free(gw_stats_report *r)
{
    if (!r)
        return;
    json_decref(r->totals);
    json_decref(r->reps);
    free(r->days);
    free(r);
}

static long long get(const json_t *obj, const char *name)
{
    return (long long)json_integer_value(json_object_get(obj, name));
}

/* Adds in place: no allocation once the counter exists (a read folds ~100k cells). */
static void add_to(json_t *obj, const char *name, long long v)
{
    json_t *n = json_object_get(obj, name);
    if (n)
        json_integer_set(n, json_integer_value(n) + (json_int_t)v);
    else
        json_object_set_new(obj, name, json_integer((json_int_t)v));
}

void gw_stats_report_add(gw_stats_report *r, size_t day, const char *rep, size_t rep_len,
                         const char *counter, size_t counter_len, long long value)
{
    if (day >= r->n_days || counter_len == 0 || counter_len >= 200 || rep_len > 64)
        return;
    char name[200], who[72];
    memcpy(name, counter, counter_len);
    name[counter_len] = '\0';
    memcpy(who, rep, rep_len);
    who[rep_len] = '\0';
    add_to(r->totals, name, value);
    json_t *per = json_object_get(r->reps, who);
    if (!per) {
        per = json_object();
        json_object_set_new(r->reps, who, per);
    }
    add_to(per, name, value);
    for (size_t i = 0; i < N_ACTIVITY; i++)
        if (strcmp(name, activity[i].counter) == 0)
            r->days[day][i] += value;
}

/* num / den, or null when den is 0. */
static json_t *ratio(long long num, long long den)
{
    return den ? json_real((double)num / (double)den) : json_null();
}

/* The seeds' measures and the activity of one set of counters (the team's or a rep's). */
static json_t *measures(const json_t *c)
{
    json_t *m = json_object();
    static const char *const counts[] = {
        "dials",    "connects",       "voicemails_left", "callbacks_received",
        "meetings", "first_contacts", "won_deals",       "email_replies"};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        json_object_set_new(m, counts[i], json_integer((json_int_t)get(c, counts[i])));
    json_object_set_new(m, "connect_rate", ratio(get(c, "connects"), get(c, "dials")));
    json_object_set_new(m, "callbacks_per_voicemail",
                        ratio(get(c, "callbacks_received"), get(c, "voicemails_left")));
    json_object_set_new(m, "attempts_before_first_contact",
                        ratio(get(c, "attempts_before_first_contact"), get(c, "first_contacts")));
    json_object_set_new(m, "follow_ups_per_won_deal",
                        ratio(get(c, "follow_ups_to_close"), get(c, "won_deals")));
    return m;
}

/* "attempts:<cadence>:<step>:<lead_type>" (also connects, wins) → its row in `rows`. */
static void add_step(json_t *rows, const char *name, long long v)
{
    static const char *const kinds[] = {"attempts", "connects", "wins"};
    const char *colon = strchr(name, ':');
    if (!colon)
        return;
    const char *kind = NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strlen(kinds[i]) == (size_t)(colon - name) &&
            strncmp(name, kinds[i], (size_t)(colon - name)) == 0)
            kind = kinds[i];
    const char *type_sep = strrchr(name, ':');
    if (!kind || type_sep == colon)
        return;
    const char *step_sep = type_sep - 1;
    while (step_sep > colon && *step_sep != ':')
        step_sep--;
    if (step_sep == colon)
        return;
    json_t *row = json_object_get(rows, colon + 1);
    if (!row) {
        row = json_pack("{s:s%,s:s%,s:s,s:I,s:I,s:I}", "cadence", colon + 1,
                        (size_t)(step_sep - colon - 1), "step", step_sep + 1,
                        (size_t)(type_sep - step_sep - 1), "lead_type", type_sep + 1, "attempts",
                        (json_int_t)0, "connects", (json_int_t)0, "wins", (json_int_t)0);
        json_object_set_new(rows, colon + 1, row);
    }
    add_to(row, kind, v);
}

static void set_rates(json_t *row)
{
    long long a = get(row, "attempts");
    json_object_set_new(row, "connect_rate", ratio(get(row, "connects"), a));
    json_object_set_new(row, "win_rate", ratio(get(row, "wins"), a));
}

static int row_order(const void *pa, const void *pb)
{
    const json_t *a = *(const json_t *const *)pa, *b = *(const json_t *const *)pb;
    int c = strcmp(json_string_value(json_object_get(a, "cadence")),
                   json_string_value(json_object_get(b, "cadence")));
    if (c)
        return c;
    const char *sa = json_string_value(json_object_get(a, "step"));
    const char *sb = json_string_value(json_object_get(b, "step"));
    /* numeric steps in order, then "follow_up" */
    char *ea, *eb;
    long na = strtol(sa, &ea, 10), nb = strtol(sb, &eb, 10);
    int da = *sa && !*ea, db = *sb && !*eb;
    if (da != db)
        return da ? -1 : 1;
    if (da && na != nb)
        return na < nb ? -1 : 1;
    if (!da && (c = strcmp(sa, sb)))
        return c;
    return strcmp(json_string_value(json_object_get(a, "lead_type")),
                  json_string_value(json_object_get(b, "lead_type")));
}

json_t *gw_stats_report_json(const gw_stats_report *r)
{
    /* by_step, sorted; by_lead_type from its rows and the new leads */
    json_t *rows = json_object(), *by_type = json_object();
    const char *name;
    json_t *value;
    json_object_foreach(r->totals, name, value)
    {
        add_step(rows, name, (long long)json_integer_value(value));
        if (strncmp(name, "leads:", 6) == 0) {
            json_t *t =
                json_pack("{s:I,s:I,s:I,s:I}", "leads", json_integer_value(value), "attempts",
                          (json_int_t)0, "connects", (json_int_t)0, "wins", (json_int_t)0);
            json_object_set_new(by_type, name + 6, t);
        }
    }
    size_t n = json_object_size(rows), k = 0;
    json_t **sorted = calloc(n ? n : 1, sizeof(json_t *));
    if (!sorted)
        abort();
    json_object_foreach(rows, name, value)
    {
        sorted[k++] = value;
        const char *lt = json_string_value(json_object_get(value, "lead_type"));
        json_t *t = json_object_get(by_type, lt);
        if (!t) {
            t = json_pack("{s:I,s:I,s:I,s:I}", "leads", (json_int_t)0, "attempts", (json_int_t)0,
                          "connects", (json_int_t)0, "wins", (json_int_t)0);
            json_object_set_new(by_type, lt, t);
        }
        add_to(t, "attempts", get(value, "attempts"));
        add_to(t, "connects", get(value, "connects"));
        add_to(t, "wins", get(value, "wins"));
        set_rates(value);
    }
    qsort(sorted, n, sizeof(json_t *), row_order);
    json_t *steps = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append(steps, sorted[i]);
    free(sorted);
    json_decref(rows);
    json_object_foreach(by_type, name, value) set_rates(value);

    json_t *by_day = json_array();
    int64_t first = cadence_store_stats_day_number(r->from);
    for (size_t d = 0; d < r->n_days; d++) {
        char day[11];
        cadence_store_stats_day_text(first + (int64_t)d, day);
        json_t *o = json_pack("{s:s}", "day", day);
        for (size_t i = 0; i < N_ACTIVITY; i++)
            json_object_set_new(o, activity[i].field, json_integer((json_int_t)r->days[d][i]));
        json_array_append_new(by_day, o);
    }
    char to[11];
    cadence_store_stats_day_text(first + (int64_t)r->n_days - 1, to);

    json_t *by_rep = json_object();
    json_object_foreach(r->reps, name, value) json_object_set_new(by_rep, name, measures(value));

    return json_pack("{s:s,s:s,s:s?,s:I,s:s,s:o,s:o,s:o,s:o,s:o,s:O}", "from", r->from, "to", to,
                     "rep", r->has_rep ? r->rep : NULL, "days", (json_int_t)r->n_days, "day_basis",
                     "lead_local", "measures", measures(r->totals), "by_day", by_day, "by_step",
                     steps, "by_lead_type", by_type, "by_rep", by_rep, "totals", r->totals);
}
