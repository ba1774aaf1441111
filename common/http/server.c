/*
 * http — evhttp with /healthz and /metrics.
 */
#include "http/server.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cadence_http {
    struct evhttp *http;
    struct evhttp_bound_socket *sock;
    cadence_metrics *metrics;
    cadence_http_health_fn health;
    void *arg;
    int port;
};

void cadence_http_send_json(struct evhttp_request *req, int status, const char *reason,
                            const char *json_text)
{
    struct evbuffer *out = evbuffer_new();
    if (!out) {
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    evbuffer_add(out, json_text, strlen(json_text));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evhttp_send_reply(req, status, reason, out);
    evbuffer_free(out);
}

static void healthz_cb(struct evhttp_request *req, void *arg)
{
    cadence_http *h = arg;
    char why[256] = "";
    int bad = h->health ? h->health(h->arg, why, sizeof(why)) : 0;
    json_t *body = bad ? json_pack("{s:s,s:s}", "status", "unavailable", "reason", why)
                       : json_pack("{s:s}", "status", "ok");
    char *text = json_dumps(body, JSON_COMPACT);
    cadence_http_send_json(req, bad ? 503 : 200, bad ? "Service Unavailable" : "OK",
                           text ? text : "{}");
    free(text);
    json_decref(body);
}

static void metrics_cb(struct evhttp_request *req, void *arg)
{
    cadence_http *h = arg;
    char *text = h->metrics ? cadence_metrics_render(h->metrics) : strdup("");
    if (!text) {
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    struct evbuffer *out = evbuffer_new();
    evbuffer_add(out, text, strlen(text));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; version=0.0.4");
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
    free(text);
}

cadence_http *cadence_http_new(struct event_base *base, const char *host, int port,
                               cadence_metrics *metrics, cadence_http_health_fn health, void *arg,
                               char *errstr, size_t errstr_size)
{
    cadence_http *h = calloc(1, sizeof(*h));
    if (!h) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    h->metrics = metrics;
    h->health = health;
    h->arg = arg;
    h->http = evhttp_new(base);
    if (!h->http) {
        snprintf(errstr, errstr_size, "evhttp_new failed");
        free(h);
        return NULL;
    }
    h->sock = evhttp_bind_socket_with_handle(h->http, host, (ev_uint16_t)port);
    if (!h->sock) {
        snprintf(errstr, errstr_size, "cannot listen on %s:%d (address in use or invalid)", host,
                 port);
        evhttp_free(h->http);
        free(h);
        return NULL;
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    ev_socklen_t len = sizeof(ss);
    evutil_socket_t fd = evhttp_bound_socket_get_fd(h->sock);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET)
            h->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            h->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_OPTIONS);
    evhttp_set_cb(h->http, "/healthz", healthz_cb, h);
    evhttp_set_cb(h->http, "/metrics", metrics_cb, h);
    return h;
}

struct evhttp *cadence_http_evhttp(cadence_http *h)
{
    return h->http;
}

int cadence_http_port(const cadence_http *h)
{
    return h->port;
}

void cadence_http_free(cadence_http *h)
{
    if (!h)
        return;
    evhttp_free(h->http);
    free(h);
}
