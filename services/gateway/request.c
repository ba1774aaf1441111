/*
 * request — what every route handler uses: counted JSON replies in the API's error shape,
 * bearer authentication, the request body, and the one rule of which rep a token may read.
 */
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/id.h"
#include "base/clock.h"
#include "gateway.h"

void gw_count(gateway *g, const char *route, int status)
{
    char labels[128];
    snprintf(labels, sizeof(labels), "route=\"%s\",status=\"%d\"", route, status);
    cadence_metrics_add(g->metrics, GW_M_REQUESTS, labels, 1);
}

static const char *reason_of(int status)
{
    static const struct {
        int status;
        const char *reason;
    } reasons[] = {
        {200, "OK"},
        {202, "Accepted"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {413, "Payload Too Large"},
        {429, "Too Many Requests"},
        {500, "Internal Server Error"},
        {503, "Service Unavailable"},
    };
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (reasons[i].status == status)
            return reasons[i].reason;
    return "Status";
}

void gw_reply(gateway *g, struct evhttp_request *req, const char *route, int status, json_t *body)
{
    gw_count(g, route, status);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Cache-Control", "no-store");
    if (status == 401)
        evhttp_add_header(h, "WWW-Authenticate", "Bearer realm=\"cadence\"");
    cadence_http_send_json(req, status, reason_of(status), text ? text : "{}");
    free(text);
}

void gw_reply_error(gateway *g, struct evhttp_request *req, const char *route, int status,
                    const char *msg)
{
    gw_reply(g, req, route, status, json_pack("{s:s}", "error", msg));
}

void gw_unauthorized(gateway *g, struct evhttp_request *req, const char *route, const char *kind)
{
    char labels[128];
    snprintf(labels, sizeof(labels), "route=\"%s\",kind=\"%s\"", route, kind);
    cadence_metrics_add(g->metrics, GW_M_AUTH_FAILURES, labels, 1);
    gw_reply_error(g, req, route, 401, "missing or invalid credentials");
}

int gw_require(gateway *g, struct evhttp_request *req, const char *route, unsigned roles,
               gw_principal *who)
{
    const char *authz = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    if (gw_auth_bearer(g->auth, authz, who) != 0) {
        gw_unauthorized(g, req, route, "bearer");
        return -1;
    }
    if (!(roles & GW_ROLE_BIT(who->role))) {
        gw_reply_error(g, req, route, 403, "this token's role may not use this route");
        return -1;
    }
    return 0;
}

const char *gw_body(struct evhttp_request *req, size_t *len)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    *len = evbuffer_get_length(in);
    const char *p = (const char *)evbuffer_pullup(in, -1);
    return p ? p : "";
}

long long gw_now_ms(void)
{
    return (long long)cadence_clock_now_ms();
}

int gw_may_read_rep(const gw_principal *who, const char *rep_id)
{
    if (who->role == GW_ROLE_MANAGER)
        return 1;
    return who->role == GW_ROLE_REP && rep_id && strcmp(rep_id, who->rep_id) == 0;
}

int gw_rep_to_read(const gw_principal *who, const char *asked, char *out, size_t n)
{
    const char *rep = asked && *asked ? asked : who->rep_id;
    if (!cadence_id_valid(rep) || strlen(rep) >= n)
        return 400;
    if (!gw_may_read_rep(who, rep))
        return 403;
    snprintf(out, n, "%s", rep);
    return 0;
}
