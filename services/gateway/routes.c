/*
 * routes — the gateway's route table (method, path, handler, metrics label) and the dispatch
 * every request not answered by the common server (/healthz, /metrics) goes through.
 */
#include <event2/http.h>
#include <string.h>

#include "gateway.h"

typedef void (*route_fn)(gateway *g, struct evhttp_request *req, const char *route);

/* The route table: exact paths, or prefixes ending in '/'. First match wins. */
static const struct route {
    enum evhttp_cmd_type method;
    int prefix;
    const char *path;
    route_fn fn;
    const char *label;
} routes[] = {
    {EVHTTP_REQ_POST, 0, "/v1/events/leads", gw_ingest_events, "events_leads"},
    {EVHTTP_REQ_POST, 0, "/v1/events/site-visits", gw_ingest_events, "events_site_visits"},
    {EVHTTP_REQ_POST, 0, "/v1/events/call-outcomes", gw_ingest_events, "events_call_outcomes"},
    {EVHTTP_REQ_POST, 0, "/v1/webhooks/segment", gw_ingest_segment, "webhook_segment"},
    {EVHTTP_REQ_POST, 0, "/v1/webhooks/mautic", gw_ingest_mautic, "webhook_mautic"},
    {EVHTTP_REQ_GET, 0, "/v1/alerts/stream", gw_sse_stream, "alerts_stream"},
    {EVHTTP_REQ_GET, 0, "/v1/me", gw_api_me, "me"},
    {EVHTTP_REQ_GET, 0, "/v1/queue", gw_api_queue, "queue"},
    {EVHTTP_REQ_GET, 0, "/v1/leads", gw_leads_search, "leads_search"},
    {EVHTTP_REQ_GET, 1, "/v1/leads/", gw_api_lead, "lead"},
    {EVHTTP_REQ_POST, 1, "/v1/tasks/", gw_tasks_outcome, "task_outcome"},
    {EVHTTP_REQ_GET, 0, "/v1/messages", gw_messages_list, "messages"},
    {EVHTTP_REQ_GET, 0, "/v1/stats", gw_api_stats, "stats"},
    {EVHTTP_REQ_GET, 0, "/", gw_console_file, "console"},
    {EVHTTP_REQ_GET, 0, "/index.html", gw_console_file, "console"},
    {EVHTTP_REQ_GET, 0, "/session.js", gw_console_file, "console"},
    {EVHTTP_REQ_GET, 0, "/app.js", gw_console_file, "console"},
    {EVHTTP_REQ_GET, 0, "/rep.js", gw_console_file, "console"},
    {EVHTTP_REQ_GET, 0, "/outcome.js", gw_console_file, "console"},
    {EVHTTP_REQ_GET, 0, "/stats.js", gw_console_file, "console"},
    {EVHTTP_REQ_GET, 0, "/style.css", gw_console_file, "console"},
};

/* ------------------------------------------------------------------ dispatch */

void gw_dispatch(struct evhttp_request *req, void *arg)
{
    gateway *g = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (!path || !*path)
        path = "/";
    enum evhttp_cmd_type method = evhttp_request_get_command(req);
    int path_matched = 0;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route *r = &routes[i];
        int match =
            r->prefix ? strncmp(path, r->path, strlen(r->path)) == 0 : strcmp(path, r->path) == 0;
        if (!match)
            continue;
        path_matched = 1;
        if (r->method == method || (method == EVHTTP_REQ_HEAD && r->method == EVHTTP_REQ_GET)) {
            r->fn(g, req, r->label);
            return;
        }
    }
    if (path_matched)
        gw_reply_error(g, req, "other", 405, "method not allowed");
    else
        gw_reply_error(g, req, "other", 404, "no such route");
}
