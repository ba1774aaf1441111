/*
 * tasks — POST /v1/tasks/{task_id}/outcome: a rep logs what came of one of their open tasks
 * (a call, an email, a re-evaluation), snoozes it with a reason, or skips it.
 *
 * The body carries only what the rep knows: `disposition` (required), and as they apply
 * `message_id`, `conversation`, `no_reason`, `notes`, `snooze_until` (required with
 * `snoozed`), `return_date`. The gateway fills the rest from the token and the task — a fresh
 * `event_id`, `type`, `occurred_at` (now), `lead_id`, `rep_id`, `channel` (the task's) and
 * `task_id` — so a rep can neither log for another rep nor for a lead not theirs. The task must
 * be in the rep's open queue (store/rep_tasks.h): any other id, another rep's task included,
 * is 404 as if it did not exist. The event is checked against schemas/call-outcomes.v1.json
 * and by the engine's own reader (what the worker would dead-letter is a 400 here), produced
 * on call-outcomes.v1 with key lead_id, and answered 202 once Kafka acknowledged it (503
 * otherwise: retrying is safe, the engine counts one outcome per task and disposition).
 *
 * The task leaves the queue when the worker has applied the outcome (it drops the task it
 * replaces from the rep's queue), and the next touch follows from the cadence.
 */
#include <event2/http.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "base/id.h"
#include "base/topics.h"
#include "core/log.h"
#include "engine/event.h"
#include "engine/tzcache.h"
#include "gateway.h"
#include "store/rep_tasks.h"

#define TASKS_PREFIX "/v1/tasks/"
#define OUTCOME_SUFFIX "/outcome"

/* What the body may carry; everything else is either filled here or not an outcome field. */
static const char *const body_fields[] = {"disposition", "message_id", "conversation",
                                          "no_reason",   "notes",      "snooze_until",
                                          "return_date"};
static const char *const filled_fields[] = {"event_id", "type",    "occurred_at", "lead_id",
                                            "rep_id",   "channel", "task_id"};

struct outcome_ctx {
    gateway *g;
    struct evhttp_request *req;
    const char *route;
    char rep_id[CADENCE_ID_SIZE];
    char task_id[CADENCE_ID_SIZE];
    json_t *body; /* the rep's fields (owned) */
    char event_id[CADENCE_ID_SIZE];
    char lead_id[CADENCE_ID_SIZE];
};

static void ctx_free(struct outcome_ctx *c)
{
    json_decref(c->body);
    free(c);
}

/* 400 with one error in the ingest shape: {"errors": [{"index", "path", "message"}]}. */
static void bad_request(gateway *g, struct evhttp_request *req, const char *route, const char *path,
                        const char *message)
{
    gw_reply(
        g, req, route, 400,
        json_pack("{s:[{s:i,s:s,s:s}]}", "errors", "index", 0, "path", path, "message", message));
}

/* The validator's "<pointer>: <rule>" as a 400. */
static void bad_event(gateway *g, struct evhttp_request *req, const char *route, const char *why)
{
    const char *sep = strstr(why, ": ");
    char path[200] = "";
    if (sep && (size_t)(sep - why) < sizeof(path)) {
        memcpy(path, why, (size_t)(sep - why));
        path[sep - why] = '\0';
        why = sep + 2;
    }
    bad_request(g, req, route, path, why);
}

/* The task id of "/v1/tasks/<id>/outcome" into `out`; -1 when the path is not of that form
 * or the id is not a valid id. */
static int task_of_path(const char *path, char *out, size_t n)
{
    size_t len = strlen(path), pre = strlen(TASKS_PREFIX), suf = strlen(OUTCOME_SUFFIX);
    if (len <= pre + suf || strncmp(path, TASKS_PREFIX, pre) != 0 ||
        strcmp(path + len - suf, OUTCOME_SUFFIX) != 0)
        return -1;
    size_t idlen = len - pre - suf;
    char raw[3 * CADENCE_ID_SIZE];
    if (idlen >= sizeof(raw))
        return -1;
    memcpy(raw, path + pre, idlen);
    raw[idlen] = '\0';
    char *id = evhttp_uridecode(raw, 0, NULL);
    int ok = id && cadence_id_valid(id) && strlen(id) < n;
    if (ok)
        snprintf(out, n, "%s", id);
    free(id);
    return ok ? 0 : -1;
}

/* Checks the body's members; answers 400 and returns -1 on the first that does not belong. */
static int check_members(gateway *g, struct evhttp_request *req, const char *route, json_t *body,
                         long long now_ms)
{
    const char *key;
    json_t *value;
    json_object_foreach(body, key, value)
    {
        char path[80];
        snprintf(path, sizeof(path), "/%.60s", key);
        int known = 0;
        for (size_t i = 0; i < sizeof(filled_fields) / sizeof(filled_fields[0]); i++)
            if (strcmp(key, filled_fields[i]) == 0) {
                bad_request(g, req, route, path,
                            "filled by the gateway from the token and the task; leave it out");
                return -1;
            }
        for (size_t i = 0; i < sizeof(body_fields) / sizeof(body_fields[0]); i++)
            known |= strcmp(key, body_fields[i]) == 0;
        if (!known) {
            bad_request(g, req, route, path,
                        "not an outcome field (disposition, message_id, conversation, no_reason, "
                        "notes, snooze_until, return_date)");
            return -1;
        }
    }
    const char *disp = json_string_value(json_object_get(body, "disposition"));
    if (!disp) {
        bad_request(g, req, route, "/disposition", "required: what came of the task");
        return -1;
    }
    const char *until = json_string_value(json_object_get(body, "snooze_until"));
    if (strcmp(disp, "snoozed") == 0) {
        int64_t t = 0;
        if (!until || cadence_time_parse(until, &t) != 0) {
            bad_request(g, req, route, "/snooze_until",
                        "required with snoozed: an RFC 3339 date-time");
            return -1;
        }
        if (t <= now_ms) {
            bad_request(g, req, route, "/snooze_until", "must lie in the future");
            return -1;
        }
    } else if (until) {
        bad_request(g, req, route, "/snooze_until", "only with the disposition snoozed");
        return -1;
    }
    return 0;
}

static void on_delivery(void *opaque, rd_kafka_resp_err_t err, int32_t partition, int64_t offset)
{
    (void)partition;
    (void)offset;
    struct outcome_ctx *c = opaque;
    if (err) {
        cadence_log_json(CADENCE_LOG_WARN, "outcome delivery failed",
                         json_pack("{s:s,s:s,s:s}", "task_id", c->task_id, "event_id", c->event_id,
                                   "error", rd_kafka_err2str(err)));
        gw_reply_error(c->g, c->req, c->route, 503,
                       "Kafka did not acknowledge the outcome; send it again");
    } else {
        char labels[64];
        snprintf(labels, sizeof(labels), "topic=\"%s\"", CADENCE_TOPIC_CALL_OUTCOMES);
        cadence_metrics_add(c->g->metrics, GW_M_EVENTS, labels, 1);
        gw_reply(c->g, c->req, c->route, 202,
                 json_pack("{s:[s],s:s,s:s,s:s}", "accepted", c->event_id, "event_id", c->event_id,
                           "task_id", c->task_id, "lead_id", c->lead_id));
    }
    ctx_free(c);
}

/* A fresh event id: "gw-" and 24 random hex digits. */
static int new_event_id(char *out, size_t n)
{
    unsigned char raw[12];
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return -1;
    char hex[2 * sizeof(raw) + 1];
    gw_hex_encode(raw, sizeof(raw), hex);
    snprintf(out, n, "gw-%s", hex);
    return 0;
}

static void on_task(const char *json, size_t len, long long due_ms, const char *error, void *arg)
{
    (void)due_ms;
    struct outcome_ctx *c = arg;
    gateway *g = c->g;
    if (error) {
        cadence_log_json(CADENCE_LOG_WARN, "redis read failed",
                         json_pack("{s:s,s:s}", "route", c->route, "error", error));
        gw_reply_error(g, c->req, c->route, 503, "redis unavailable");
        ctx_free(c);
        return;
    }
    json_t *task = json ? json_loadb(json, len, 0, NULL) : NULL;
    const char *lead = json_string_value(json_object_get(task, "lead_id"));
    const char *owner = json_string_value(json_object_get(task, "rep_id"));
    if (!lead || !cadence_id_valid(lead) || (owner && strcmp(owner, c->rep_id) != 0)) {
        json_decref(task);
        gw_reply_error(g, c->req, c->route, 404, "no such open task");
        ctx_free(c);
        return;
    }
    const char *channel = json_string_value(json_object_get(task, "channel"));
    snprintf(c->lead_id, sizeof(c->lead_id), "%s", lead);
    char at[40];
    cadence_time_format_utc(gw_now_ms(), at, sizeof(at));
    json_t *ev = json_deep_copy(c->body);
    if (!ev || new_event_id(c->event_id, sizeof(c->event_id)) != 0) {
        json_decref(ev);
        json_decref(task);
        gw_reply_error(g, c->req, c->route, 500, "cannot make an event id");
        ctx_free(c);
        return;
    }
    json_object_set_new(ev, "event_id", json_string(c->event_id));
    json_object_set_new(ev, "type", json_string("call_outcome"));
    json_object_set_new(ev, "occurred_at", json_string(at));
    json_object_set_new(ev, "lead_id", json_string(c->lead_id));
    json_object_set_new(ev, "rep_id", json_string(c->rep_id));
    json_object_set_new(ev, "channel", json_string(channel ? channel : "call"));
    json_object_set_new(ev, "task_id", json_string(c->task_id));
    json_decref(task);
    char *text = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    ev = NULL;
    char why[512];
    size_t tlen = text ? strlen(text) : 0;
    size_t kafka_max =
        g->kafka_max_event_bytes ? g->kafka_max_event_bytes : (size_t)g->cfg.max_body_bytes;
    enum cadence_schema_status st =
        text ? cadence_schemas_check(g->schemas, CADENCE_TOPIC_CALL_OUTCOMES, text, tlen,
                                     (size_t)g->cfg.max_body_bytes, &ev, why, sizeof(why))
             : CADENCE_SCHEMA_NOT_JSON;
    if (st != CADENCE_SCHEMA_OK) {
        if (st == CADENCE_SCHEMA_INVALID)
            bad_event(g, c->req, c->route, why);
        else
            bad_request(g, c->req, c->route, "", cadence_schema_status_name(st));
        free(text);
        ctx_free(c);
        return;
    }
    /* what the worker would dead-letter (the engine's stricter reader) is refused here */
    cadence_event parsed;
    int engine_ok = cadence_event_from_json(ev, &parsed, why, sizeof(why)) == 0;
    json_decref(ev);
    if (!engine_ok || tlen > kafka_max) {
        if (!engine_ok)
            bad_event(g, c->req, c->route, why);
        else
            gw_reply_error(g, c->req, c->route, 413, "the outcome is larger than Kafka accepts");
        free(text);
        ctx_free(c);
        return;
    }
    char err[256];
    if (cadence_producer_send(g->producer, CADENCE_TOPIC_CALL_OUTCOMES, c->lead_id, text, tlen,
                              on_delivery, c, err, sizeof(err)) != 0) {
        cadence_log_json(CADENCE_LOG_WARN, "outcome produce refused",
                         json_pack("{s:s,s:s}", "task_id", c->task_id, "error", err));
        gw_reply_error(g, c->req, c->route, 503, "Kafka is not taking events now; retry");
        ctx_free(c);
    }
    free(text);
}

void gw_tasks_outcome(gateway *g, struct evhttp_request *req, const char *route)
{
    gw_principal who;
    if (gw_require(g, req, route, GW_ROLE_BIT(GW_ROLE_REP), &who) != 0)
        return;
    char task_id[CADENCE_ID_SIZE];
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    if (task_of_path(path, task_id, sizeof(task_id)) != 0) {
        gw_reply_error(g, req, route, 404, "no such open task");
        return;
    }
    if (!cadence_id_valid(who.rep_id)) {
        gw_reply_error(g, req, route, 403, "this token names no rep");
        return;
    }
    size_t len;
    const char *raw = gw_body(req, &len);
    if (len > (size_t)g->cfg.max_body_bytes) {
        gw_reply_error(g, req, route, 413, "request body larger than CADENCE_MAX_BODY_BYTES");
        return;
    }
    json_error_t jerr;
    json_t *body = json_loadb(raw, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(body)) {
        char msg[300];
        if (body)
            snprintf(msg, sizeof(msg), "not a JSON object");
        else
            snprintf(msg, sizeof(msg), "not JSON: %s (line %d, column %d)", jerr.text, jerr.line,
                     jerr.column);
        json_decref(body);
        bad_request(g, req, route, "", msg);
        return;
    }
    if (check_members(g, req, route, body, gw_now_ms()) != 0) {
        json_decref(body);
        return;
    }
    struct outcome_ctx *c = calloc(1, sizeof(*c));
    if (!c) {
        json_decref(body);
        gw_reply_error(g, req, route, 500, "out of memory");
        return;
    }
    c->g = g;
    c->req = req;
    c->route = route;
    c->body = body;
    snprintf(c->rep_id, sizeof(c->rep_id), "%s", who.rep_id);
    snprintf(c->task_id, sizeof(c->task_id), "%s", task_id);
    enum cadence_redis_status st =
        cadence_store_read_rep_task(g->redis, c->rep_id, c->task_id, on_task, c);
    if (st != CADENCE_REDIS_OK) {
        gw_reply_error(g, req, route, 503,
                       st == CADENCE_REDIS_DOWN ? "redis unavailable" : "redis busy");
        ctx_free(c);
    }
}
