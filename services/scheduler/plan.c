/* plan — see plan.h. */
#include "plan.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/id.h"
#include "base/rfc3339.h"

uint32_t scheduler_plan_sweep_start(uint64_t seed, uint64_t sweep, uint32_t shards)
{
    if (shards == 0)
        return 0;
    return (uint32_t)((seed % shards + sweep % shards) % shards);
}

uint32_t scheduler_plan_sweep_shard(uint32_t start, uint32_t i, uint32_t shards)
{
    if (shards == 0)
        return 0;
    return (uint32_t)(((uint64_t)start + i) % shards);
}

int scheduler_plan_claim_args(scheduler_claim_args *a, int64_t now_ms, long lease_ms, long limit)
{
    if (lease_ms <= 0 || limit <= 0)
        return -1;
    a->now_ms = now_ms;
    a->deadline_ms = now_ms + lease_ms;
    a->limit = limit;
    return 0;
}

/* Copies the id field `name` of `v` into `out`; 0, or -1 with errstr. */
static int read_id(json_t *v, const char *name, char *out, char *errstr, size_t n)
{
    const char *s = json_string_value(json_object_get(v, name));
    if (!cadence_id_valid(s)) {
        snprintf(errstr, n, "%s: missing or not a valid id", name);
        return -1;
    }
    snprintf(out, SCHEDULER_ID_SIZE, "%s", s);
    return 0;
}

int scheduler_plan_task_read(const char *json, size_t len, scheduler_task_info *out, char *errstr,
                             size_t errstr_size)
{
    json_error_t je;
    json_t *v = json_loadb(json, len, 0, &je);
    if (!json_is_object(v)) {
        snprintf(errstr, errstr_size, "not a JSON object: %s", v ? "wrong type" : je.text);
        json_decref(v);
        return -1;
    }
    int rc = -1;
    if (read_id(v, "task_id", out->task_id, errstr, errstr_size) ||
        read_id(v, "lead_id", out->lead_id, errstr, errstr_size) ||
        read_id(v, "rep_id", out->rep_id, errstr, errstr_size))
        goto done;
    const char *due = json_string_value(json_object_get(v, "due_at"));
    if (!due || cadence_rfc3339_parse(due, &out->due_ms) != 0) {
        snprintf(errstr, errstr_size, "due_at: missing or not an RFC 3339 time");
        goto done;
    }
    rc = 0;
done:
    json_decref(v);
    return rc;
}

double scheduler_plan_lag_seconds(int64_t now_ms, int64_t due_ms)
{
    return now_ms > due_ms ? (double)(now_ms - due_ms) / 1000.0 : 0.0;
}

/* ------------------------------------------------------------ rep capacity */

int scheduler_plan_priority(int callback, const char *objective, const char *lead_type)
{
    if (callback)
        return SCHEDULER_PRIORITY_CALLBACK;
    if (objective && strcmp(objective, "first_time_call") == 0)
        return lead_type && strcmp(lead_type, "warm") == 0 ? SCHEDULER_PRIORITY_WARM_FIRST
                                                           : SCHEDULER_PRIORITY_COLD_FIRST;
    return SCHEDULER_PRIORITY_FOLLOW_UP;
}

int scheduler_plan_touch_class(const char *json, size_t len, scheduler_touch_class *out,
                               char *errstr, size_t errstr_size)
{
    json_error_t je;
    json_t *v = json_loadb(json, len, 0, &je);
    memset(out, 0, sizeof(*out));
    if (!json_is_object(v)) {
        snprintf(errstr, errstr_size, "not a JSON object: %s", v ? "wrong type" : je.text);
        json_decref(v);
        return -1;
    }
    int rc = -1;
    const char *due = json_string_value(json_object_get(v, "due_at"));
    if (!due || cadence_rfc3339_parse(due, &out->due_ms) != 0) {
        snprintf(errstr, errstr_size, "due_at: missing or not an RFC 3339 time");
        goto done;
    }
    out->priority = scheduler_plan_priority(json_is_true(json_object_get(v, "callback")),
                                            json_string_value(json_object_get(v, "objective")),
                                            json_string_value(json_object_get(v, "lead_type")));
    const char *rep = json_string_value(json_object_get(v, "rep_id"));
    if (!cadence_id_valid(rep)) {
        snprintf(errstr, errstr_size, "rep_id: missing or not a valid id");
        goto done;
    }
    snprintf(out->rep, sizeof(out->rep), "%s", rep);
    const char *zone = json_string_value(json_object_get(json_object_get(v, "lead"), "timezone"));
    snprintf(out->zone, sizeof(out->zone), "%s",
             zone && strlen(zone) < sizeof(out->zone) ? zone : "");
    rc = 0;
done:
    json_decref(v);
    return rc;
}

static int by_rank(const void *a, const void *b, void *data)
{
    const scheduler_touch_class *t = data;
    const scheduler_touch_class *x = &t[*(const size_t *)a], *y = &t[*(const size_t *)b];
    int c = strcmp(x->rep, y->rep);
    if (!c)
        c = strcmp(x->day, y->day);
    if (c)
        return c;
    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    if (x->due_ms != y->due_ms)
        return x->due_ms < y->due_ms ? -1 : 1;
    return strcmp(x->id ? x->id : "", y->id ? y->id : "");
}

void scheduler_plan_rank(const scheduler_touch_class *t, size_t n, size_t *order)
{
    if (n > SCHEDULER_PLAN_MAX_RANK)
        n = SCHEDULER_PLAN_MAX_RANK;
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    g_qsort_with_data(order, (gint)n, sizeof(*order), by_rank, (gpointer)t);
}

/* The lead's zone, else the playbook's default. */
static cadence_tz *zone_of(const cadence_playbook *pb, cadence_tzcache *tz, const char *zone)
{
    cadence_tz *z = zone && zone[0] ? cadence_tzcache_get(tz, zone) : NULL;
    return z ? z : cadence_tzcache_get(tz, cadence_playbook_default_timezone(pb));
}

int scheduler_plan_rep_day(const cadence_playbook *pb, cadence_tzcache *tz, const char *zone,
                           int64_t now_ms, char out[11])
{
    cadence_tz *z = zone_of(pb, tz, zone);
    if (!z)
        return -1;
    GDate d;
    g_date_clear(&d, 1);
    g_date_set_julian(&d, cadence_time_local_day(now_ms, z, NULL));
    char buf[48];
    int len = snprintf(buf, sizeof(buf), "%04d-%02d-%02d", (int)g_date_get_year(&d),
                       (int)g_date_get_month(&d), (int)g_date_get_day(&d));
    if (len != 10)
        return -1;
    memcpy(out, buf, 11);
    return 0;
}

int64_t scheduler_plan_next_business_day(const cadence_playbook *pb, cadence_tzcache *tz,
                                         const char *zone, int64_t now_ms)
{
    cadence_tz *z = zone_of(pb, tz, zone);
    if (!z)
        return -1;
    int cal = cadence_playbook_calendar_for(pb, NULL, zone && zone[0] ? zone : NULL);
    uint32_t day = cadence_time_local_day(now_ms, z, NULL);
    for (int i = 1; i <= 366; i++) {
        GDate d;
        g_date_clear(&d, 1);
        g_date_set_julian(&d, day + (uint32_t)i);
        if (cadence_playbook_is_working_day(pb, (int)g_date_get_weekday(&d)) &&
            !cadence_playbook_is_holiday_in(pb, cal, day + (uint32_t)i))
            return cadence_time_at_local(day + (uint32_t)i,
                                         cadence_playbook_business_hours(pb).start_min, z);
    }
    return -1;
}

/* Most `moved` entries a touch carries (touches-due.v1). */
#define MOVED_MAX 10

char *scheduler_plan_move(const char *json, size_t len, int64_t to_ms, const cadence_playbook *pb,
                          cadence_tzcache *tz, const char *zone, const char *reason)
{
    cadence_tz *z = zone_of(pb, tz, zone);
    json_t *v = json_loadb(json, len, 0, NULL);
    const char *from = json_string_value(json_object_get(v, "due_at"));
    if (!z || !json_is_object(v) || !from) {
        json_decref(v);
        return NULL;
    }
    json_t *moved = json_object_get(v, "moved");
    if (!json_is_array(moved)) {
        moved = json_array();
        json_object_set_new(v, "moved", moved);
    }
    while (json_array_size(moved) >= MOVED_MAX)
        json_array_remove(moved, 0);
    json_array_append_new(moved, json_pack("{s:s,s:s}", "reason", reason, "from", from));
    char buf[64];
    cadence_time_format_local(to_ms, z, buf, sizeof(buf));
    json_object_set_new(v, "due_at", json_string(buf));
    char *out = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    return out;
}
