/*
 * stats — GET /v1/stats?from=YYYY-MM-DD&to=YYYY-MM-DD&rep=ID: the managers' numbers over a
 * range of local days (the lead's local day, see store/stats.h), of the team or of one rep.
 *
 * Who: a manager reads any rep or the team; a rep token reads only its own numbers (no rep=,
 * or its own; another rep is 403). Parameters: `from` and `to` inclusive (default: the 30 days
 * up to today, UTC), at most CADENCE_STATS_MAX_DAYS days apart; anything else — an unknown
 * parameter, a repeated one, a date that does not exist, from after to, a rep that is not an
 * id — is a 400 {"error"} naming it. The counters are read shard by shard and day by day
 * (store/stats.h) and folded by stats_report.c.
 */
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "base/id.h"
#include "core/log.h"
#include "gateway.h"
#include "stats_report.h"
#include "store/stats.h"

#define DEFAULT_DAYS 30

struct stats_ctx {
    gateway *g;
    struct evhttp_request *req;
    const char *route;
    gw_stats_report *report;
};

static void on_cell(const cadence_store_stats_cell *c, void *arg)
{
    struct stats_ctx *x = arg;
    gw_stats_report_add(x->report, c->day, c->rep, c->rep_len, c->counter, c->counter_len,
                        c->value);
}

static void on_done(const char *error, void *arg)
{
    struct stats_ctx *x = arg;
    if (error) {
        /* The driver's text stays in the log, never in a response. */
        cadence_log_json(CADENCE_LOG_WARN, "redis read failed",
                         json_pack("{s:s,s:s}", "route", x->route, "error", error));
        gw_reply_error(x->g, x->req, x->route, 503, "redis unavailable");
    } else {
        gw_reply(x->g, x->req, x->route, 200, gw_stats_report_json(x->report));
    }
    gw_stats_report_free(x->report);
    free(x);
}

/* The query, checked: 0, or -1 after answering 400/403. */
struct query {
    char from[11], to[11], rep[72];
    int has_rep;
    size_t n_days;
};

static int bad(gateway *g, struct evhttp_request *req, const char *route, const char *msg)
{
    gw_reply_error(g, req, route, 400, msg);
    return -1;
}

static int parse_query(gateway *g, struct evhttp_request *req, const char *route,
                       const gw_principal *who, struct query *q)
{
    memset(q, 0, sizeof(*q));
    const char *text = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    struct evkeyvalq kv;
    TAILQ_INIT(&kv);
    if (text && evhttp_parse_query_str(text, &kv) != 0) {
        evhttp_clear_headers(&kv);
        return bad(g, req, route, "malformed query string");
    }
    const char *from = NULL, *to = NULL, *rep = NULL;
    char msg[160] = "";
    struct evkeyval *e;
    TAILQ_FOREACH(e, &kv, next)
    {
        const char **slot = strcmp(e->key, "from") == 0  ? &from
                            : strcmp(e->key, "to") == 0  ? &to
                            : strcmp(e->key, "rep") == 0 ? &rep
                                                         : NULL;
        if (!slot)
            snprintf(msg, sizeof msg, "unknown parameter \"%.40s\" (from, to, rep)", e->key);
        else if (*slot)
            snprintf(msg, sizeof msg, "parameter \"%s\" given twice", e->key);
        else
            *slot = e->value;
        if (*msg)
            break;
    }
    int64_t f = 0, t = 0;
    if (!*msg && to && (t = cadence_store_stats_day_number(to)) < 0)
        snprintf(msg, sizeof msg, "to: not a date YYYY-MM-DD");
    if (!*msg && from && (f = cadence_store_stats_day_number(from)) < 0)
        snprintf(msg, sizeof msg, "from: not a date YYYY-MM-DD");
    if (!*msg && rep && !cadence_id_valid(rep))
        snprintf(msg, sizeof msg, "rep: not a rep id");
    if (!*msg) {
        if (!to) {
            t = (int64_t)(time(NULL) / 86400);
            if (from && f > t)
                t = f;
        }
        if (!from)
            f = t - (DEFAULT_DAYS - 1) < 0 ? 0 : t - (DEFAULT_DAYS - 1);
        if (f > t)
            snprintf(msg, sizeof msg, "from is after to");
        else if (t - f + 1 > g->cfg.stats_max_days)
            snprintf(msg, sizeof msg, "the range is longer than %ld days", g->cfg.stats_max_days);
        else if (t > 2932896) /* 9999-12-31 */
            snprintf(msg, sizeof msg, "to: after 9999-12-31");
    }
    if (!*msg && rep)
        snprintf(q->rep, sizeof q->rep, "%s", rep);
    evhttp_clear_headers(&kv);
    if (*msg)
        return bad(g, req, route, msg);
    if (who->role == GW_ROLE_REP) {
        if (q->rep[0] && strcmp(q->rep, who->rep_id) != 0) {
            gw_reply_error(g, req, route, 403, "a rep sees only their own numbers");
            return -1;
        }
        snprintf(q->rep, sizeof q->rep, "%s", who->rep_id);
    }
    q->has_rep = q->rep[0] != '\0';
    cadence_store_stats_day_text(f, q->from);
    cadence_store_stats_day_text(t, q->to);
    q->n_days = (size_t)(t - f + 1);
    return 0;
}

void gw_api_stats(gateway *g, struct evhttp_request *req, const char *route)
{
    gw_principal who;
    if (gw_require(g, req, route, GW_ROLE_BIT(GW_ROLE_REP) | GW_ROLE_BIT(GW_ROLE_MANAGER), &who) !=
        0)
        return;
    struct query q;
    if (parse_query(g, req, route, &who, &q) != 0)
        return;
    struct stats_ctx *x = calloc(1, sizeof(*x));
    if (!x) {
        gw_reply_error(g, req, route, 500, "out of memory");
        return;
    }
    *x = (struct stats_ctx){g, req, route,
                            gw_stats_report_new(q.from, q.n_days, q.has_rep ? q.rep : NULL)};
    enum cadence_redis_status st =
        cadence_store_read_stats(g->redis, (uint32_t)g->cfg.shards, q.from, q.n_days,
                                 q.has_rep ? q.rep : NULL, on_cell, on_done, x);
    if (st != CADENCE_REDIS_OK) {
        gw_reply_error(g, req, route, 503,
                       st == CADENCE_REDIS_DOWN ? "redis unavailable" : "redis busy");
        gw_stats_report_free(x->report);
        free(x);
    }
}
