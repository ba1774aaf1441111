/*
 * search — GET /v1/leads?q=<text>[&limit=N][&rep=ID]: a rep's leads whose first name, last
 * name, full name, company, email or id starts with `q` (case-insensitive for ASCII), from the
 * index the worker keeps (store/search.h). A rep token searches its own leads only; a manager
 * passes ?rep=. `limit` is 1..CADENCE_STORE_SEARCH_MAX (default GW_SEARCH_DEFAULT_LIMIT).
 * Answer: {"q": <normalised query>, "leads": [{lead_id, first_name, last_name, company,
 * email}]}.
 */
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "core/log.h"
#include "gateway.h"

/* Results when the request names no limit. */
#define GW_SEARCH_DEFAULT_LIMIT 20

struct search_ctx {
    gateway *g;
    struct evhttp_request *req;
    const char *route;
    char q[CADENCE_STORE_SEARCH_QUERY_MAX + 1];
};

static void on_hits(const cadence_store_search_hit *hits, size_t n, const char *error, void *arg)
{
    struct search_ctx *c = arg;
    if (error) {
        cadence_log_json(CADENCE_LOG_WARN, "redis read failed",
                         json_pack("{s:s,s:s}", "route", c->route, "error", error));
        gw_reply_error(c->g, c->req, c->route, 503, "redis unavailable");
        free(c);
        return;
    }
    json_t *leads = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *card = json_loadb(hits[i].card, hits[i].card_len, 0, NULL);
        if (!json_is_object(card)) {
            json_decref(card);
            card = json_object();
        }
        json_object_set_new(card, "lead_id", json_string(hits[i].lead_id));
        json_array_append_new(leads, card);
    }
    gw_reply(c->g, c->req, c->route, 200, json_pack("{s:s,s:o}", "q", c->q, "leads", leads));
    free(c);
}

void gw_leads_search(gateway *g, struct evhttp_request *req, const char *route)
{
    gw_principal who;
    if (gw_require(g, req, route, GW_ROLE_BIT(GW_ROLE_REP) | GW_ROLE_BIT(GW_ROLE_MANAGER), &who) !=
        0)
        return;
    struct evkeyvalq q;
    TAILQ_INIT(&q);
    const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    if (query && evhttp_parse_query_str(query, &q) != 0) {
        evhttp_clear_headers(&q);
        gw_reply_error(g, req, route, 400, "malformed query string");
        return;
    }
    char rep[65];
    int rc = gw_rep_to_read(&who, evhttp_find_header(&q, "rep"), rep, sizeof(rep));
    struct search_ctx *c = rc == 0 ? calloc(1, sizeof(*c)) : NULL;
    const char *text = evhttp_find_header(&q, "q");
    const char *lim = evhttp_find_header(&q, "limit");
    long limit = GW_SEARCH_DEFAULT_LIMIT;
    char *end = NULL;
    if (lim)
        limit = strtol(lim, &end, 10);
    if (rc == 403)
        gw_reply_error(g, req, route, 403, "a rep searches only their own leads");
    else if (rc != 0)
        gw_reply_error(g, req, route, 400, "no rep (a manager passes ?rep=<rep_id>)");
    else if (!c)
        gw_reply_error(g, req, route, 500, "out of memory");
    else if (!text || cadence_store_search_normalize(text, c->q) == 0)
        gw_reply_error(
            g, req, route, 400,
            "q: the start of a name, company, email or lead id (at least one character)");
    else if (lim && (!*lim || *end || limit < 1 || limit > CADENCE_STORE_SEARCH_MAX))
        gw_reply_error(g, req, route, 400, "limit: an integer from 1 to 100");
    else {
        c->g = g;
        c->req = req;
        c->route = route;
        enum cadence_redis_status st =
            cadence_store_search_leads(g->search, rep, c->q, (size_t)limit, on_hits, c);
        if (st == CADENCE_REDIS_OK)
            c = NULL; /* owned by the callback */
        else
            gw_reply_error(g, req, route, 503,
                           st == CADENCE_REDIS_DOWN ? "redis unavailable" : "redis busy");
    }
    free(c);
    evhttp_clear_headers(&q);
}
