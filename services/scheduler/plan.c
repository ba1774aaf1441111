/* plan — see plan.h. */
#include "plan.h"

#include <jansson.h>
#include <stdio.h>
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
