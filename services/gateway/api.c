/*
 * api — the reads reps and managers make: GET /v1/queue, GET /v1/leads/{lead_id},
 * GET /v1/stats. Each is one Redis round trip (a script or a pipelined batch) answered from its
 * callback.
 *
 * Visibility: a rep token sees its own rep's queue and leads only — another rep's lead is 404,
 * as if it did not exist, so ids cannot be probed; a manager token sees the team (?rep=ID picks
 * the rep of a queue). Stats are for managers (403 for reps).
 */
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/queue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/id.h"
#include "gateway.h"
#include "store/queue.h"
#include "store/reads.h"
#include "store/stats.h"
#include "core/log.h"

/* Most tasks one GET /v1/queue returns. */
#define QUEUE_MAX 500
/* Newest timeline entries one GET /v1/leads/{id} returns. */
#define TIMELINE_MAX 200

struct api_ctx {
    gateway *g;
    struct evhttp_request *req;
    const char *route;
    gw_principal who;
    char id[65];
    long long now_ms;
};

static struct api_ctx *ctx_new(gateway *g, struct evhttp_request *req, const char *route,
                               const gw_principal *who)
{
    struct api_ctx *c = calloc(1, sizeof(*c));
    if (!c) {
        gw_reply_error(g, req, route, 500, "out of memory");
        return NULL;
    }
    c->g = g;
    c->req = req;
    c->route = route;
    c->who = *who;
    c->now_ms = gw_now_ms();
    return c;
}

static void submit_failed(struct api_ctx *c, enum cadence_redis_status st)
{
    gw_reply_error(c->g, c->req, c->route, 503,
                   st == CADENCE_REDIS_DOWN ? "redis unavailable" : "redis busy");
    free(c);
}

static json_t *parse_or_string(const char *s, size_t len)
{
    json_t *v = json_loadb(s, len, 0, NULL);
    return v ? v : json_stringn(s, len);
}

/* ------------------------------------------------------------------ GET /v1/me */

void gw_api_me(gateway *g, struct evhttp_request *req, const char *route)
{
    gw_principal who;
    if (gw_require(g, req, route,
                   GW_ROLE_BIT(GW_ROLE_REP) | GW_ROLE_BIT(GW_ROLE_MANAGER) |
                       GW_ROLE_BIT(GW_ROLE_INGEST),
                   &who) != 0)
        return;
    char date[11];
    long long start = 0, end = 0;
    gw_rep_day(who.timezone, gw_now_ms(), &start, &end, date);
    gw_reply(g, req, route, 200,
             json_pack("{s:s,s:s,s:s,s:s}", "role", gw_role_name(who.role), "rep_id", who.rep_id,
                       "timezone", who.timezone[0] ? who.timezone : "UTC", "today", date));
}

/* ------------------------------------------------------------------ GET /v1/queue */

/* A read failed: the driver's or a script's text stays in the log, never in a response. */
static void read_failed(struct api_ctx *c, const char *error)
{
    cadence_log_json(CADENCE_LOG_WARN, "redis read failed",
                     json_pack("{s:s,s:s}", "route", c->route, "error", error));
    gw_reply_error(c->g, c->req, c->route, 503, "redis unavailable");
    free(c);
}

static void on_queue(const cadence_store_queued *queued, size_t n, const char *error, void *arg)
{
    struct api_ctx *c = arg;
    if (error) {
        read_failed(c, error);
        return;
    }
    json_t *tasks = json_array();
    char date[11], zone[65];
    long long day_start = 0, day_end = 0;
    gw_auth_rep_timezone(c->g->auth, c->id, zone, sizeof(zone));
    gw_rep_day(zone, c->now_ms, &day_start, &day_end, date);
    for (size_t i = 0; i < n; i++) {
        const cadence_store_queued *q = &queued[i];
        json_t *t = json_pack("{s:s%,s:I,s:b,s:s}", "task_id", q->task_id, q->task_id_len, "due_ms",
                              (json_int_t)q->due_ms, "overdue", q->due_ms < c->now_ms, "day",
                              q->due_ms < day_start ? "overdue" : "today");
        if (q->task_json)
            json_object_set_new(t, "task", parse_or_string(q->task_json, q->task_json_len));
        else
            json_object_set_new(t, "task", json_null());
        json_array_append_new(tasks, t);
    }
    gw_reply(c->g, c->req, c->route, 200,
             json_pack("{s:s,s:I,s:{s:s,s:s,s:I,s:I},s:o}", "rep_id", c->id, "now_ms",
                       (json_int_t)c->now_ms, "today", "date", date, "timezone",
                       zone[0] ? zone : "UTC", "start_ms", (json_int_t)day_start, "end_ms",
                       (json_int_t)day_end, "tasks", tasks));
    free(c);
}

/* The ?rep= the caller may see: their own rep for a rep token, any rep for a manager. */
static int pick_rep(gateway *g, struct evhttp_request *req, const char *route,
                    const gw_principal *who, char *out, size_t n)
{
    struct evkeyvalq q;
    TAILQ_INIT(&q);
    const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    if (query)
        evhttp_parse_query_str(query, &q);
    int rc = gw_rep_to_read(who, evhttp_find_header(&q, "rep"), out, n);
    if (rc == 403)
        gw_reply_error(g, req, route, 403, "a rep sees only their own queue");
    else if (rc != 0)
        gw_reply_error(g, req, route, 400, "no rep (a manager passes ?rep=<rep_id>)");
    evhttp_clear_headers(&q);
    return rc ? -1 : 0;
}

void gw_api_queue(gateway *g, struct evhttp_request *req, const char *route)
{
    gw_principal who;
    if (gw_require(g, req, route, GW_ROLE_BIT(GW_ROLE_REP) | GW_ROLE_BIT(GW_ROLE_MANAGER), &who) !=
        0)
        return;
    char rep[65];
    if (pick_rep(g, req, route, &who, rep, sizeof(rep)) != 0)
        return;
    struct api_ctx *c = ctx_new(g, req, route, &who);
    if (!c)
        return;
    snprintf(c->id, sizeof(c->id), "%s", rep);
    /* Due and overdue today: everything up to the end of the rep's local day. */
    char date[11], zone[65];
    long long day_start = 0, day_end = 0;
    gw_auth_rep_timezone(g->auth, rep, zone, sizeof(zone));
    gw_rep_day(zone, c->now_ms, &day_start, &day_end, date);
    long long until = day_end - 1;
    enum cadence_redis_status st =
        cadence_store_read_queue(g->redis, g->queue_script, rep, until, QUEUE_MAX, on_queue, c);
    if (st != CADENCE_REDIS_OK)
        submit_failed(c, st);
}

/* ------------------------------------------------------------------ GET /v1/leads/{id} */

static void on_lead(const cadence_store_lead_view *v, const char *error, void *arg)
{
    struct api_ctx *c = arg;
    if (error) {
        read_failed(c, error);
        return;
    }
    json_t *state = v->state ? json_loadb(v->state, v->state_len, 0, NULL) : NULL;
    const char *owner = json_string_value(json_object_get(state, "rep_id"));
    int visible = state && gw_may_read_rep(&c->who, owner);
    if (!visible) {
        json_decref(state);
        gw_reply_error(c->g, c->req, c->route, 404, "no such lead");
        free(c);
        return;
    }
    json_t *timeline = json_array();
    for (size_t i = 0; i < v->n_timeline; i++)
        json_array_append_new(timeline, parse_or_string(v->timeline[i], v->timeline_len[i]));
    gw_reply(c->g, c->req, c->route, 200,
             json_pack("{s:s,s:s?,s:o,s:o}", "lead_id", c->id, "rep_id", owner, "state", state,
                       "timeline", timeline));
    free(c);
}

void gw_api_lead(gateway *g, struct evhttp_request *req, const char *route)
{
    gw_principal who;
    if (gw_require(g, req, route, GW_ROLE_BIT(GW_ROLE_REP) | GW_ROLE_BIT(GW_ROLE_MANAGER), &who) !=
        0)
        return;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    char *id = evhttp_uridecode(path + strlen("/v1/leads/"), 0, NULL);
    if (!id || !cadence_id_valid(id)) {
        free(id);
        gw_reply_error(g, req, route, 404, "no such lead");
        return;
    }
    struct api_ctx *c = ctx_new(g, req, route, &who);
    if (!c) {
        free(id);
        return;
    }
    snprintf(c->id, sizeof(c->id), "%s", id);
    free(id);
    enum cadence_redis_status st = cadence_store_read_lead_view(
        g->redis, c->id, (uint32_t)g->cfg.shards, TIMELINE_MAX, on_lead, c);
    if (st != CADENCE_REDIS_OK)
        submit_failed(c, st);
}

/* ------------------------------------------------------------------ GET /v1/stats */

static double ratio(json_int_t num, json_int_t den)
{
    return den ? (double)num / (double)den : 0.0;
}

static json_int_t total(json_t *totals, const char *name)
{
    return json_integer_value(json_object_get(totals, name));
}

/* "attempts:<cadence>:<step>:<lead_type>" → the row of (cadence, step, lead_type). */
static void add_step(json_t *rows, const char *name, json_int_t v)
{
    static const char *const kinds[] = {"attempts", "connects", "wins"};
    const char *colon = strchr(name, ':');
    if (!colon)
        return;
    size_t klen = (size_t)(colon - name);
    const char *kind = NULL;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strlen(kinds[i]) == klen && strncmp(name, kinds[i], klen) == 0)
            kind = kinds[i];
    const char *type_sep = strrchr(name, ':');
    if (!kind || type_sep == colon)
        return;
    const char *step_sep = type_sep - 1;
    while (step_sep > colon && *step_sep != ':')
        step_sep--;
    if (step_sep == colon)
        return;
    char row_key[200];
    snprintf(row_key, sizeof(row_key), "%s", colon + 1);
    json_t *row = json_object_get(rows, row_key);
    if (!row) {
        row = json_pack("{s:s%,s:s%,s:s,s:I,s:I,s:I}", "cadence", colon + 1,
                        (size_t)(step_sep - colon - 1), "step", step_sep + 1,
                        (size_t)(type_sep - step_sep - 1), "lead_type", type_sep + 1, "attempts",
                        (json_int_t)0, "connects", (json_int_t)0, "wins", (json_int_t)0);
        json_object_set_new(rows, row_key, row);
    }
    json_object_set_new(row, kind,
                        json_integer(json_integer_value(json_object_get(row, kind)) + v));
}

static void on_stats(const cadence_store_stat *stats, size_t n, const char *error, void *arg)
{
    struct api_ctx *c = arg;
    if (error) {
        read_failed(c, error);
        return;
    }
    json_t *totals = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(totals, stats[i].name, json_integer((json_int_t)stats[i].value));
    json_t *rows = json_object();
    json_t *by_type = json_object();
    const char *name;
    json_t *value;
    json_object_foreach(totals, name, value)
    {
        add_step(rows, name, json_integer_value(value));
        if (strncmp(name, "leads:", 6) == 0)
            json_object_set_new(by_type, name + 6,
                                json_pack("{s:I,s:I,s:I,s:I}", "leads", json_integer_value(value),
                                          "attempts", (json_int_t)0, "connects", (json_int_t)0,
                                          "wins", (json_int_t)0));
    }
    json_t *steps = json_array();
    json_t *row;
    json_object_foreach(rows, name, row)
    {
        json_int_t a = json_integer_value(json_object_get(row, "attempts"));
        json_int_t k = json_integer_value(json_object_get(row, "connects"));
        json_int_t w = json_integer_value(json_object_get(row, "wins"));
        json_object_set_new(row, "connect_rate", json_real(ratio(k, a)));
        json_object_set_new(row, "win_rate", json_real(ratio(w, a)));
        json_array_append(steps, row);
        const char *lt = json_string_value(json_object_get(row, "lead_type"));
        json_t *t = json_object_get(by_type, lt);
        if (!t) {
            t = json_pack("{s:I,s:I,s:I,s:I}", "leads", (json_int_t)0, "attempts", (json_int_t)0,
                          "connects", (json_int_t)0, "wins", (json_int_t)0);
            json_object_set_new(by_type, lt, t);
        }
        json_object_set_new(t, "attempts",
                            json_integer(json_integer_value(json_object_get(t, "attempts")) + a));
        json_object_set_new(t, "connects",
                            json_integer(json_integer_value(json_object_get(t, "connects")) + k));
        json_object_set_new(t, "wins",
                            json_integer(json_integer_value(json_object_get(t, "wins")) + w));
    }
    json_object_foreach(by_type, name, row)
    {
        json_int_t a = json_integer_value(json_object_get(row, "attempts"));
        json_object_set_new(
            row, "connect_rate",
            json_real(ratio(json_integer_value(json_object_get(row, "connects")), a)));
        json_object_set_new(row, "win_rate",
                            json_real(ratio(json_integer_value(json_object_get(row, "wins")), a)));
    }
    json_decref(rows);
    json_t *measures = json_pack(
        "{s:f,s:f,s:f,s:I,s:I,s:I}", "follow_ups_per_won_deal",
        ratio(total(totals, "follow_ups_to_close"), total(totals, "won_deals")),
        "attempts_before_first_contact",
        ratio(total(totals, "attempts_before_first_contact"), total(totals, "first_contacts")),
        "callbacks_per_voicemail",
        ratio(total(totals, "callbacks_received"), total(totals, "voicemails_left")), "won_deals",
        total(totals, "won_deals"), "first_contacts", total(totals, "first_contacts"),
        "voicemails_left", total(totals, "voicemails_left"));
    gw_reply(c->g, c->req, c->route, 200,
             json_pack("{s:o,s:o,s:o,s:o,s:n,s:s}", "measures", measures, "by_step", steps,
                       "by_lead_type", by_type, "totals", totals, "by_rep", "by_rep_note",
                       "the engine's counters (common/engine/engine.h) carry no rep, so the "
                       "measures are team-wide"));
    free(c);
}

void gw_api_stats(gateway *g, struct evhttp_request *req, const char *route)
{
    gw_principal who;
    if (gw_require(g, req, route, GW_ROLE_BIT(GW_ROLE_MANAGER), &who) != 0)
        return;
    struct api_ctx *c = ctx_new(g, req, route, &who);
    if (!c)
        return;
    enum cadence_redis_status st =
        cadence_store_read_stats(g->redis, (uint32_t)g->cfg.shards, on_stats, c);
    if (st != CADENCE_REDIS_OK)
        submit_failed(c, st);
}
