/* Tests for http: /healthz follows the health callback, /metrics serves the registry. */
#include <criterion/criterion.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdlib.h>
#include <string.h>

#include "http/server.h"

struct response {
    int status;
    char body[4096];
    char content_type[128];
    struct event_base *base;
};

static void on_response(struct evhttp_request *req, void *arg)
{
    struct response *r = arg;
    if (req) {
        r->status = evhttp_request_get_response_code(req);
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t n = evbuffer_get_length(in);
        if (n >= sizeof(r->body))
            n = sizeof(r->body) - 1;
        evbuffer_remove(in, r->body, n);
        r->body[n] = '\0';
        const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
        snprintf(r->content_type, sizeof(r->content_type), "%s", ct ? ct : "");
    }
    event_base_loopbreak(r->base);
}

/* Requests GET `path` from our own server on the same loop, with a 5 s deadline. */
static void get(struct event_base *base, int port, const char *path, struct response *r)
{
    memset(r, 0, sizeof(*r));
    r->base = base;
    struct evhttp_connection *conn =
        evhttp_connection_base_new(base, NULL, "127.0.0.1", (unsigned short)port);
    evhttp_connection_set_timeout(conn, 5);
    struct evhttp_request *req = evhttp_request_new(on_response, r);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host", "localhost");
    cr_assert_eq(evhttp_make_request(conn, req, EVHTTP_REQ_GET, path), 0);
    event_base_dispatch(base);
    evhttp_connection_free(conn);
}

static int health(void *arg, char *why, size_t n)
{
    const int *down = arg;
    if (*down) {
        snprintf(why, n, "redis unreachable");
        return 1;
    }
    return 0;
}

Test(http, healthz_reports_the_health_callback)
{
    struct event_base *base = event_base_new();
    int down = 0;
    char err[256];
    cadence_http *h = cadence_http_new(base, "127.0.0.1", 0, NULL, health, &down, err, sizeof(err));
    cr_assert_not_null(h, "%s", err);
    int port = cadence_http_port(h);
    cr_assert_gt(port, 0);
    struct response r;
    get(base, port, "/healthz", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "{\"status\":\"ok\"}");
    cr_assert_str_eq(r.content_type, "application/json");
    down = 1;
    get(base, port, "/healthz", &r);
    cr_assert_eq(r.status, 503);
    cr_assert_str_eq(r.body, "{\"status\":\"unavailable\",\"reason\":\"redis unreachable\"}");
    cadence_http_free(h);
    event_base_free(base);
}

Test(http, metrics_serves_the_registry_in_prometheus_format)
{
    struct event_base *base = event_base_new();
    cadence_metrics *m = cadence_metrics_new();
    cadence_metrics_declare(m, "cadence_test_total", CADENCE_METRIC_COUNTER, "t", NULL, 0);
    cadence_metrics_add(m, "cadence_test_total", "kind=\"a\"", 4);
    char err[256];
    cadence_http *h = cadence_http_new(base, "127.0.0.1", 0, m, NULL, NULL, err, sizeof(err));
    cr_assert_not_null(h, "%s", err);
    struct response r;
    get(base, cadence_http_port(h), "/metrics", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_not_null(strstr(r.body, "cadence_test_total{kind=\"a\"} 4\n"), "%s", r.body);
    cr_assert_str_eq(r.content_type, "text/plain; version=0.0.4");
    get(base, cadence_http_port(h), "/nope", &r);
    cr_assert_eq(r.status, 404);
    cadence_http_free(h);
    cadence_metrics_free(m);
    event_base_free(base);
}

Test(http, refuses_an_address_in_use)
{
    struct event_base *base = event_base_new();
    char err[256];
    cadence_http *a = cadence_http_new(base, "127.0.0.1", 0, NULL, NULL, NULL, err, sizeof(err));
    cr_assert_not_null(a);
    cadence_http *b = cadence_http_new(base, "127.0.0.1", cadence_http_port(a), NULL, NULL, NULL,
                                       err, sizeof(err));
    cr_assert_null(b);
    cr_assert_not_null(strstr(err, "cannot listen on 127.0.0.1:"), "%s", err);
    cadence_http_free(a);
    cadence_http_free(NULL);
    event_base_free(base);
}
