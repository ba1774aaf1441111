/*
 * http_client — HTTP POSTs with libcurl's multi interface, driven by the service's libevent loop.
 *
 * libcurl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to call it back
 * (CURLMOPT_TIMERFUNCTION); libevent watches them and calls curl_multi_socket_action. One multi
 * handle keeps the connection cache, so requests to the same host reuse open connections (and
 * TLS sessions). TLS peers and host names are always verified; only http and https are spoken;
 * redirects are not followed.
 */
#ifndef CADENCE_NOTIFIER_HTTP_CLIENT_H
#define CADENCE_NOTIFIER_HTTP_CLIENT_H

#include <curl/curl.h>
#include <event2/event.h>
#include <stddef.h>

typedef struct notifier_http notifier_http;

/* The outcome of one request, borrowed for the callback's duration. */
typedef struct notifier_http_result {
    long status;             /* HTTP status, 0 when no response came */
    CURLcode code;           /* CURLE_OK when a response came */
    const char *error;       /* libcurl's message when code != CURLE_OK, else "" */
    const char *retry_after; /* the Retry-After header, NULL when absent */
    const char *body;        /* the response body's first bytes (NUL-terminated) */
} notifier_http_result;

typedef void (*notifier_http_done_fn)(void *arg, const notifier_http_result *r);

/* A client on `base` (borrowed) with the given connect and total deadlines. NULL on error. */
notifier_http *notifier_http_new(struct event_base *base, long connect_timeout_ms, long timeout_ms,
                                 char *errstr, size_t errstr_size);

/*
 * POSTs `len` bytes of `body` (copied) to `url` with `headers` (taken: freed by the client).
 * `done(arg, result)` runs once on the loop thread, never from inside this call.
 * Returns 0, or -1 (headers freed, no callback) when the request could not be started.
 */
int notifier_http_post(notifier_http *h, const char *url, struct curl_slist *headers,
                       const char *body, size_t len, notifier_http_done_fn done, void *arg);

/* Requests started and not yet completed. */
size_t notifier_http_inflight(const notifier_http *h);

/* Aborts what is in flight (no callbacks) and frees. NULL is a no-op. */
void notifier_http_free(notifier_http *h);

#endif
