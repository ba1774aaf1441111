/*
 * http — the evhttp server every service runs on CADENCE_HTTP_ADDR, with `/healthz` and
 * `/metrics` built in. The gateway adds its own routes through cadence_http_evhttp().
 *
 * /healthz answers 200 {"status":"ok"} when the service's health callback says so, else 503
 * {"status":"unavailable","reason":"..."}. /metrics renders the service's registry in the
 * Prometheus text format.
 */
#ifndef CADENCE_HTTP_H
#define CADENCE_HTTP_H

#include <event2/event.h>
#include <event2/http.h>
#include <stddef.h>

#include "core/metrics.h"

typedef struct cadence_http cadence_http;

/*
 * Health callback: returns 0 when healthy; otherwise non-zero with a short reason in `why`.
 */
typedef int (*cadence_http_health_fn)(void *arg, char *why, size_t why_size);

/*
 * Binds host:port (port 0 picks a free one) on `base`. Borrows `base`, `metrics` and `arg` for
 * the server's lifetime (`metrics` and `health` may be NULL). Returns NULL with errstr on
 * failure (e.g. the address is in use).
 */
cadence_http *cadence_http_new(struct event_base *base, const char *host, int port,
                               cadence_metrics *metrics, cadence_http_health_fn health, void *arg,
                               char *errstr, size_t errstr_size);

/* The underlying evhttp, to add routes (borrowed; freed by cadence_http_free). */
struct evhttp *cadence_http_evhttp(cadence_http *h);

/* The port actually bound. */
int cadence_http_port(const cadence_http *h);

/* Sends `status` with a JSON body (borrowed) and Content-Type application/json. */
void cadence_http_send_json(struct evhttp_request *req, int status, const char *reason,
                            const char *json_text);

/* Stops serving and frees. NULL is a no-op. */
void cadence_http_free(cadence_http *h);

#endif
