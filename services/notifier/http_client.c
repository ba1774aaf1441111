/*
 * http_client — libcurl multi on libevent (the "hiperfifo" pattern). See http_client.h.
 */
#include "http_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_KEEP 256 /* response bytes kept for error messages */

struct request {
    struct request *prev, *next;
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    char resp[BODY_KEEP + 1];
    size_t resp_len;
    char errbuf[CURL_ERROR_SIZE];
    notifier_http_done_fn done;
    void *arg;
};

struct notifier_http {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    struct request *reqs; /* in flight */
    struct sock *socks;   /* watched */
    size_t inflight;
    long connect_timeout_ms, timeout_ms;
};

/* One watched socket (listed so that any libcurl did not release is freed at the end). */
struct sock {
    struct sock *prev, *next;
    struct event *ev;
};

static void check_done(notifier_http *h)
{
    CURLMsg *msg;
    int left = 0;
    while ((msg = curl_multi_info_read(h->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result;
        struct request *r = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
        notifier_http_result res = {0, code, "", NULL, r->resp};
        if (code == CURLE_OK)
            curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &res.status);
        else
            res.error = r->errbuf[0] ? r->errbuf : curl_easy_strerror(code);
        struct curl_header *hdr = NULL;
        if (code == CURLE_OK &&
            curl_easy_header(easy, "Retry-After", 0, CURLH_HEADER, -1, &hdr) == CURLHE_OK)
            res.retry_after = hdr->value;
        curl_multi_remove_handle(h->multi, easy);
        if (r->prev)
            r->prev->next = r->next;
        else
            h->reqs = r->next;
        if (r->next)
            r->next->prev = r->prev;
        h->inflight--;
        r->done(r->arg, &res);
        curl_easy_cleanup(easy);
        curl_slist_free_all(r->headers);
        free(r->body);
        free(r);
    }
}

static void on_socket(evutil_socket_t fd, short what, void *arg)
{
    notifier_http *h = arg;
    int action =
        ((what & EV_READ) ? CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    int running = 0;
    curl_multi_socket_action(h->multi, fd, action, &running);
    check_done(h);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    notifier_http *h = arg;
    int running = 0;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    notifier_http *h = userp;
    struct sock *sk = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (sk) {
            event_free(sk->ev);
            if (sk->prev)
                sk->prev->next = sk->next;
            else
                h->socks = sk->next;
            if (sk->next)
                sk->next->prev = sk->prev;
            free(sk);
        }
        if (h->multi)
            curl_multi_assign(h->multi, s, NULL);
        return 0;
    }
    short kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) |
                         ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST);
    if (!sk) {
        sk = calloc(1, sizeof(*sk));
        if (!sk)
            return -1;
        sk->next = h->socks;
        if (h->socks)
            h->socks->prev = sk;
        h->socks = sk;
        curl_multi_assign(h->multi, s, sk);
    } else {
        event_free(sk->ev);
        sk->ev = NULL;
    }
    sk->ev = event_new(h->base, s, kind, on_socket, h);
    if (!sk->ev || event_add(sk->ev, NULL) != 0)
        return -1;
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    notifier_http *h = userp;
    if (timeout_ms < 0) {
        evtimer_del(h->timer);
        return 0;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(h->timer, &tv);
    return 0;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct request *r = userdata;
    size_t n = size * nmemb;
    size_t room = BODY_KEEP - r->resp_len;
    size_t take = n < room ? n : room;
    memcpy(r->resp + r->resp_len, ptr, take);
    r->resp_len += take;
    r->resp[r->resp_len] = '\0';
    return n;
}

notifier_http *notifier_http_new(struct event_base *base, long connect_timeout_ms, long timeout_ms,
                                 char *errstr, size_t errstr_size)
{
    notifier_http *h = calloc(1, sizeof(*h));
    if (!h) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    h->base = base;
    h->connect_timeout_ms = connect_timeout_ms;
    h->timeout_ms = timeout_ms;
    h->multi = curl_multi_init();
    h->timer = evtimer_new(base, on_timer, h);
    if (!h->multi || !h->timer) {
        snprintf(errstr, errstr_size, "cannot start libcurl's multi interface");
        notifier_http_free(h);
        return NULL;
    }
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    return h;
}

int notifier_http_post(notifier_http *h, const char *url, struct curl_slist *headers,
                       const char *body, size_t len, notifier_http_done_fn done, void *arg)
{
    struct request *r = calloc(1, sizeof(*r));
    CURL *easy = curl_easy_init();
    char *copy = malloc(len ? len : 1);
    if (!r || !easy || !copy) {
        free(r);
        free(copy);
        if (easy)
            curl_easy_cleanup(easy);
        curl_slist_free_all(headers);
        return -1;
    }
    if (len)
        memcpy(copy, body, len);
    r->easy = easy;
    r->headers = headers;
    r->body = copy;
    r->done = done;
    r->arg = arg;
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, r);
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, h->timeout_ms);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "cadence-notifier/" CADENCE_VERSION);
    if (curl_multi_add_handle(h->multi, easy) != CURLM_OK) {
        curl_easy_cleanup(easy);
        curl_slist_free_all(headers);
        free(copy);
        free(r);
        return -1;
    }
    r->next = h->reqs;
    if (h->reqs)
        h->reqs->prev = r;
    h->reqs = r;
    h->inflight++;
    return 0;
}

size_t notifier_http_inflight(const notifier_http *h)
{
    return h->inflight;
}

void notifier_http_free(notifier_http *h)
{
    if (!h)
        return;
    while (h->reqs) {
        struct request *r = h->reqs;
        h->reqs = r->next;
        curl_multi_remove_handle(h->multi, r->easy);
        curl_easy_cleanup(r->easy);
        curl_slist_free_all(r->headers);
        free(r->body);
        free(r);
    }
    if (h->multi) {
        /* No socket callbacks while closing the cached connections: the list below frees. */
        curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, NULL);
        curl_multi_cleanup(h->multi);
    }
    while (h->socks) {
        struct sock *sk = h->socks;
        h->socks = sk->next;
        if (sk->ev)
            event_free(sk->ev);
        free(sk);
    }
    if (h->timer)
        event_free(h->timer);
    free(h);
}
