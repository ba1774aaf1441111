/*
 * conn — every client connection bounded in bytes and time before evhttp sees its bytes.
 *
 * evhttp (libevent 2.1) answers its own limits with HTML pages, counts the request line into
 * the header limit, has no connection cap and only an inactivity timeout. So each accepted
 * connection gets a filter bufferevent (evhttp_set_bevcb) whose input filter reads the request
 * head itself and passes a request on only when it is within the limits:
 *
 * - request line longer than max_request_line → 414; header lines together longer than
 *   max_header_bytes → 431 (checked as bytes arrive, so a flood never buffers more than that);
 * - a NUL or a bare CR in the head, a folded header line, a malformed request line, a
 *   non-decimal or conflicting duplicate Content-Length, Content-Length with
 *   Transfer-Encoding → 400; a chunked request body → 411 (send Content-Length); a method
 *   other than GET, HEAD, POST, OPTIONS → 501;
 * - Content-Length over max_body_bytes → 413, answered at once (before the body, so a client
 *   that sent `Expect: 100-continue` never sends it);
 * - the head and body of one request must arrive within read_timeout_ms of its first byte
 *   (a slow client gets 408); an idle keep-alive connection is closed after idle_timeout_ms
 *   (evhttp's own inactivity timeout, set by the caller);
 * - more than max_connections open connections → 503 on the new ones.
 *
 * A refusal writes the API's JSON error with `Connection: close` straight to the socket, then
 * reads and discards what the client still sends for up to linger_ms before closing (as
 * nginx's lingering close), so the client reads the answer instead of a reset. Bodies of
 * accepted requests pass through counted by Content-Length, so the next request's head is found.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conn.h"
#include "gateway.h"
#include "httphead.h"

enum conn_state {
    ST_HEAD,    /* reading a request head */
    ST_BODY,    /* passing `body_left` body bytes on */
    ST_REFUSED, /* answered with an error: discarding input until the linger deadline */
};

enum timer_kind { T_NONE, T_REFUSE_NOW, T_READ_DEADLINE, T_LINGER };

struct gw_conns {
    gateway *g;
    gw_conn_limits lim;
    size_t open;     /* connections open (accepted or being refused) */
    size_t accepted; /* of which within the cap */
};

struct conn {
    gw_conns *cs;
    struct bufferevent *under; /* the socket */
    struct bufferevent *bev;   /* the filter evhttp uses */
    struct event *timer;
    struct event *kick; /* moves evhttp's output on to the socket (see on_output) */
    enum timer_kind timer_kind;
    enum conn_state state;
    int counted;  /* within the cap (counted in `accepted`) */
    gw_head head; /* the head being read */
    struct evbuffer *head_buf;
    unsigned long long body_left;
};

static void arm(struct conn *c, enum timer_kind kind, long ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    c->timer_kind = kind;
    event_add(c->timer, &tv);
}

static void disarm(struct conn *c)
{
    c->timer_kind = T_NONE;
    event_del(c->timer);
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 408:
        return "Request Timeout";
    case 411:
        return "Length Required";
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

/* Answers `status` with {"error": msg} on the socket and starts the lingering close. */
static void refuse(struct conn *c, int status, const char *msg)
{
    if (c->state == ST_REFUSED)
        return;
    c->state = ST_REFUSED;
    json_t *body = json_pack("{s:s}", "error", msg);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    const char *t = text ? text : "{}";
    evbuffer_add_printf(bufferevent_get_output(c->under),
                        "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: "
                        "%zu\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n%s",
                        status, reason_phrase(status), strlen(t), t);
    free(text);
    gw_count(c->cs->g, "other", status);
    evbuffer_drain(c->head_buf, evbuffer_get_length(c->head_buf));
    arm(c, T_LINGER, c->cs->lim.linger_ms);
}

static void start_head(struct conn *c)
{
    c->state = ST_HEAD;
    gw_head_init(&c->head, c->cs->lim.max_request_line, c->cs->lim.max_header_bytes);
}

/* The head is complete and valid: decide, then pass it to evhttp. */
static void head_done(struct conn *c, struct evbuffer *dst)
{
    const gw_head *h = &c->head;
    if (h->content_length > c->cs->lim.max_body_bytes) {
        refuse(c, 413, "request body larger than CADENCE_MAX_BODY_BYTES");
        return;
    }
    evbuffer_add_buffer(dst, c->head_buf);
    c->body_left = h->content_length;
    if (c->body_left > 0) {
        c->state = ST_BODY;
    } else {
        disarm(c);
        start_head(c);
    }
}

static enum bufferevent_filter_result in_filter(struct evbuffer *src, struct evbuffer *dst,
                                                ev_ssize_t limit, enum bufferevent_flush_mode mode,
                                                void *arg)
{
    (void)limit;
    (void)mode;
    struct conn *c = arg;
    /* libevent runs evhttp's read callback only after a BEV_OK. */
    size_t before = evbuffer_get_length(dst);
    for (;;) {
        size_t avail = evbuffer_get_length(src);
        if (c->state == ST_REFUSED)
            evbuffer_drain(src, avail);
        if (c->state == ST_REFUSED || avail == 0)
            return evbuffer_get_length(dst) > before ? BEV_OK : BEV_NEED_MORE;
        if (c->state == ST_BODY) {
            size_t n = avail < c->body_left ? avail : (size_t)c->body_left;
            evbuffer_remove_buffer(src, dst, n);
            c->body_left -= n;
            if (c->body_left == 0) {
                disarm(c);
                start_head(c);
            }
            continue;
        }
        /* ST_HEAD: feed the head parser what is available (it stops at the head's end). */
        if (c->head.bytes == 0 && c->timer_kind == T_NONE)
            arm(c, T_READ_DEADLINE, c->cs->lim.read_timeout_ms);
        unsigned char chunk[4096];
        size_t n = avail < sizeof(chunk) ? avail : sizeof(chunk);
        evbuffer_copyout(src, chunk, n);
        size_t used = 0;
        int st = gw_head_feed(&c->head, (const char *)chunk, n, &used);
        evbuffer_remove_buffer(src, c->head_buf, used);
        if (st == GW_HEAD_MORE)
            continue;
        if (st == GW_HEAD_DONE) {
            head_done(c, dst);
            continue;
        }
        refuse(c, c->head.status, c->head.error);
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct conn *c = arg;
    enum timer_kind kind = c->timer_kind;
    c->timer_kind = T_NONE;
    switch (kind) {
    case T_REFUSE_NOW:
        refuse(c, 503, "too many open connections (CADENCE_HTTP_MAX_CONNECTIONS); retry later");
        break;
    case T_READ_DEADLINE:
        refuse(c, 408, "request not received within CADENCE_HTTP_READ_TIMEOUT_MS");
        break;
    case T_LINGER:
        /* Lingering is over: end the connection as if the client had closed it. */
        bufferevent_trigger_event(c->bev, BEV_EVENT_EOF | BEV_EVENT_READING, 0);
        break;
    case T_NONE:
        break;
    }
}

/* libevent 2.1's filter moves output written while EV_WRITE is still disabled (evhttp adds a
 * reply, then enables writing) only on the next write event, which never comes on an idle
 * socket: flush it from the loop right after. */
static void on_kick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct conn *c = arg;
    bufferevent_flush(c->bev, EV_WRITE, BEV_NORMAL);
}

static void on_output(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    (void)buf;
    struct conn *c = arg;
    if (info->n_added > 0 && !event_pending(c->kick, EV_TIMEOUT, NULL))
        event_active(c->kick, EV_TIMEOUT, 0);
}

/*
 * Output: straight on to the socket. libevent 2.1's filter reports its output written once it
 * moved it to the socket's buffer, and evhttp then frees a `Connection: close` connection
 * (shutting the socket down): what the kernel has not taken by then would be lost. So the
 * reply is written to the kernel here, synchronously; only what the kernel refuses (a socket
 * buffer already full) is left to the socket's own writes.
 */
static enum bufferevent_filter_result out_filter(struct evbuffer *src, struct evbuffer *dst,
                                                 ev_ssize_t limit, enum bufferevent_flush_mode mode,
                                                 void *arg)
{
    (void)limit;
    (void)mode;
    struct conn *c = arg;
    evbuffer_add_buffer(dst, src);
    evutil_socket_t fd = bufferevent_getfd(c->under);
    while (fd >= 0 && evbuffer_get_length(dst) > 0 && evbuffer_write(dst, fd) > 0)
        ;
    return BEV_OK;
}

static void conn_free(void *arg)
{
    struct conn *c = arg;
    gw_conns *cs = c->cs;
    cs->open--;
    if (c->counted)
        cs->accepted--;
    if (cs->g)
        cadence_metrics_set(cs->g->metrics, GW_M_CONNECTIONS, "", (double)cs->open);
    event_free(c->timer);
    event_free(c->kick);
    evbuffer_free(c->head_buf);
    free(c);
}

static struct bufferevent *bevcb(struct event_base *base, void *arg)
{
    gw_conns *cs = arg;
    struct conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->cs = cs;
    c->timer = event_new(base, -1, 0, on_timer, c);
    c->kick = event_new(base, -1, 0, on_kick, c);
    c->head_buf = evbuffer_new();
    c->under = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!c->timer || !c->kick || !c->head_buf || !c->under) {
        if (c->timer)
            event_free(c->timer);
        if (c->kick)
            event_free(c->kick);
        if (c->head_buf)
            evbuffer_free(c->head_buf);
        if (c->under)
            bufferevent_free(c->under);
        free(c);
        return NULL;
    }
    c->bev = bufferevent_filter_new(c->under, in_filter, out_filter, BEV_OPT_CLOSE_ON_FREE,
                                    conn_free, c);
    if (!c->bev) {
        event_free(c->kick);
        event_free(c->timer);
        evbuffer_free(c->head_buf);
        bufferevent_free(c->under);
        free(c);
        return NULL;
    }
    bufferevent_enable(c->under, EV_READ | EV_WRITE);
    evbuffer_add_cb(bufferevent_get_output(c->bev), on_output, c);
    cs->open++;
    start_head(c);
    if (cs->accepted >= (size_t)cs->lim.max_connections) {
        arm(c, T_REFUSE_NOW, 0); /* once evhttp has set the socket */
    } else {
        c->counted = 1;
        cs->accepted++;
    }
    cadence_metrics_set(cs->g->metrics, GW_M_CONNECTIONS, "", (double)cs->open);
    return c->bev;
}

gw_conns *gw_conns_new(gateway *g, struct evhttp *http, const gw_conn_limits *lim)
{
    gw_conns *cs = calloc(1, sizeof(*cs));
    if (!cs)
        return NULL;
    cs->g = g;
    cs->lim = *lim;
    evhttp_set_bevcb(http, bevcb, cs);
    /* Our filter decides first; evhttp's own limits only as a backstop. */
    evhttp_set_max_headers_size(http,
                                (ev_ssize_t)(lim->max_request_line + lim->max_header_bytes + 1024));
    evhttp_set_max_body_size(http, (ev_ssize_t)lim->max_body_bytes);
    struct timeval idle = {lim->idle_timeout_ms / 1000, (lim->idle_timeout_ms % 1000) * 1000};
    evhttp_set_timeout_tv(http, &idle);
    return cs;
}

size_t gw_conns_open(const gw_conns *cs)
{
    return cs ? cs->open : 0;
}

void gw_conns_detach(gw_conns *cs)
{
    if (cs)
        cs->g = NULL;
}

void gw_conns_free(gw_conns *cs)
{
    free(cs);
}
