/*
 * api — the reads reps and managers make: GET /v1/queue, GET /v1/leads/{lead_id}
 * (GET /v1/stats is stats.c). Each is one Redis round trip (a script or a pipelined batch)
 * answered from its callback.
 *
 * Visibility: a rep token sees its own rep's queue and leads only — another rep's lead is 404,
 * as if it did not exist, so ids cannot be probed; a manager token sees the team (?rep=ID picks
 * the rep of a queue).
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
#include "store/keys.h"
#include "store/scripts.h"
#include "core/log.h"

#define QUEUE_MAX "500"
#define TIMELINE_MAX "199"

const cadence_redis_script *gw_api_queue_script(cadence_redis *r, char *errstr, size_t errstr_size)
{
    return cadence_redis_script_add(r, cadence_lua_read_queue, errstr, errstr_size);
}

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

static void on_queue(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    struct api_ctx *c = arg;
    if (error || !reply || reply->type != REDIS_REPLY_ARRAY) {
        /* The driver's or a script's text stays in the log, never in a response. */
        if (error)
            cadence_log_json(CADENCE_LOG_WARN, "redis read failed",
                             json_pack("{s:s,s:s}", "route", c->route, "error", error));
        gw_reply_error(c->g, c->req, c->route, 503, "redis unavailable");
        free(c);
        return;
    }
    json_t *tasks = json_array();
    char date[11], zone[65];
    long long day_start = 0, day_end = 0;
    gw_auth_rep_timezone(c->g->auth, c->id, zone, sizeof(zone));
    gw_rep_day(zone, c->now_ms, &day_start, &day_end, date);
    for (size_t i = 0; i + 2 < reply->elements; i += 3) {
        const redisReply *id = reply->element[i], *score = reply->element[i + 1],
                         *task = reply->element[i + 2];
        long long due = score->str ? strtoll(score->str, NULL, 10) : 0;
        json_t *t = json_pack("{s:s,s:I,s:b,s:s}", "task_id", id->str ? id->str : "", "due_ms",
                              (json_int_t)due, "overdue", due < c->now_ms, "day",
                              due < day_start ? "overdue" : "today");
        if (task->str && task->len)
            json_object_set_new(t, "task", parse_or_string(task->str, task->len));
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
    char k_queue[CADENCE_KEY_MAX], k_tasks[CADENCE_KEY_MAX], max[32];
    cadence_keys_rep_queue(k_queue, rep);
    cadence_keys_rep_tasks(k_tasks, rep);
    snprintf(max, sizeof(max), "%lld", until);
    const char *argv[] = {k_queue, k_tasks, max, QUEUE_MAX};
    enum cadence_redis_status st =
        cadence_redis_evalsha(g->redis, g->queue_script, 2, 4, argv, NULL, on_queue, c);
    if (st != CADENCE_REDIS_OK)
        submit_failed(c, st);
}

/* ------------------------------------------------------------------ GET /v1/leads/{id} */

static void on_lead(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    struct api_ctx *c = arg;
    if (error || !reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
        /* The driver's or a script's text stays in the log, never in a response. */
        if (error)
            cadence_log_json(CADENCE_LOG_WARN, "redis read failed",
                             json_pack("{s:s,s:s}", "route", c->route, "error", error));
        gw_reply_error(c->g, c->req, c->route, 503, "redis unavailable");
        free(c);
        return;
    }
    const redisReply *s = reply->element[0], *tl = reply->element[1];
    json_t *state = s->type == REDIS_REPLY_STRING ? json_loadb(s->str, s->len, 0, NULL) : NULL;
    const char *owner = json_string_value(json_object_get(state, "rep_id"));
    int visible = state && gw_may_read_rep(&c->who, owner);
    if (!visible) {
        json_decref(state);
        gw_reply_error(c->g, c->req, c->route, 404, "no such lead");
        free(c);
        return;
    }
    json_t *timeline = json_array();
    for (size_t i = 0; tl->type == REDIS_REPLY_ARRAY && i < tl->elements; i++)
        if (tl->element[i]->str)
            json_array_append_new(timeline,
                                  parse_or_string(tl->element[i]->str, tl->element[i]->len));
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
    uint32_t shard = cadence_keys_shard(c->id, (uint32_t)g->cfg.shards);
    char k_state[CADENCE_KEY_MAX], k_tl[CADENCE_KEY_MAX];
    cadence_keys_lead_state(k_state, shard, c->id);
    cadence_keys_timeline(k_tl, shard, c->id);
    cadence_redis_batch *b = cadence_redis_batch_new();
    const char *get[] = {"HGET", k_state, "s"};
    const char *range[] = {"LRANGE", k_tl, "0", TIMELINE_MAX};
    if (!b || cadence_redis_batch_add_argv(b, 3, get, NULL) != 0 ||
        cadence_redis_batch_add_argv(b, 4, range, NULL) != 0) {
        cadence_redis_batch_free(b);
        gw_reply_error(g, req, route, 500, "out of memory");
        free(c);
        return;
    }
    enum cadence_redis_status st = cadence_redis_batch_send(g->redis, b, on_lead, c);
    cadence_redis_batch_free(b);
    if (st != CADENCE_REDIS_OK)
        submit_failed(c, st);
}
