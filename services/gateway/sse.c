/*
 * sse — GET /v1/alerts/stream: the rep's call-now alerts as Server-Sent Events, read from the
 * per-rep Redis stream `cad:{r:<rep>}:alerts` (filled by fanin.c of any gateway).
 *
 * Each event is `id: <stream id>`, `event: call_now`, `data: <alert JSON>`. A client that sends
 * `Last-Event-ID` first gets everything after that id (XRANGE, paged); one without it gets the
 * rep's newest GW_SSE_BACKLOG alerts. Then it joins its rep's live feed.
 *
 * Live feed: one cursor per rep with listeners, however many clients that rep has. Every
 * GW_SSE_POLL_MS (and at once after this gateway appended an alert) one pipelined batch of
 * non-blocking `XREAD COUNT n STREAMS <key> <cursor>` — one per listening rep — goes out on the
 * shared Redis connection; new entries go to that rep's clients. This costs one command per
 * listening rep per tick (1,000 reps → 10,000 cheap commands/s) and no connection per client.
 *
 * No gap, no duplicate: each client remembers the last id it got and is sent only newer ids.
 * Catch-up and polls go over the same connection, so they execute in the order sent: a poll
 * reply that arrives while a client is catching up is skipped for that client, but everything
 * it held is also in the catch-up reply (sent later, so executed later, reading to the end).
 *
 * A heartbeat comment every GW_SSE_HEARTBEAT_S keeps proxies and clients from timing out; a
 * client whose unsent output passes GW_SSE_MAX_BUFFERED is dropped (it reconnects and resumes).
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/queue.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "store/keys.h"
#include "core/log.h"

#define GW_SSE_POLL_MS 100L
#define GW_SSE_HEARTBEAT_S 15
#define GW_SSE_BACKLOG "20"
#define GW_SSE_PAGE 500
#define GW_SSE_READ_COUNT "200"
#define GW_SSE_MAX_BUFFERED ((size_t)1024 * 1024)
#define GW_SSE_POLL_MAX_REPS 8192

typedef struct sid {
    uint64_t ms, seq;
} sid;

struct rep;

struct client {
    gw_sse *s;
    struct rep *rep;
    struct evhttp_request *req;
    struct evhttp_connection *conn;
    sid last;
    int catching_up;
    int closed;  /* the connection is gone or we ended it */
    int pending; /* catch-up commands in flight (the client is freed after them) */
};

struct rep {
    char rep_id[65];
    char key[CADENCE_KEY_MAX];
    GPtrArray *clients;
    int cursor_set;
    sid cursor;
};

struct gw_sse {
    gateway *g;
    GHashTable *reps; /* rep_id → struct rep */
    struct event *poll_ev, *hb_ev;
    int poll_inflight;
    int kicked;
    size_t n_clients;
};

static int sid_parse(const char *s, sid *out)
{
    char *end = NULL;
    if (!s || !*s)
        return -1;
    out->ms = strtoull(s, &end, 10);
    if (end == s)
        return -1;
    out->seq = 0;
    if (*end == '-') {
        const char *p = end + 1;
        out->seq = strtoull(p, &end, 10);
        if (end == p)
            return -1;
    }
    return *end ? -1 : 0;
}

static int sid_cmp(sid a, sid b)
{
    if (a.ms != b.ms)
        return a.ms < b.ms ? -1 : 1;
    if (a.seq != b.seq)
        return a.seq < b.seq ? -1 : 1;
    return 0;
}

static void sid_format(sid a, char *buf, size_t n)
{
    snprintf(buf, n, "%" PRIu64 "-%" PRIu64, a.ms, a.seq);
}

static void update_gauge(gw_sse *s)
{
    cadence_metrics_set(s->g->metrics, GW_M_SSE_CLIENTS, "", (double)s->n_clients);
}

static void rep_free(void *p)
{
    struct rep *r = p;
    g_ptr_array_free(r->clients, TRUE);
    free(r);
}

/* Detaches the client from its rep (and the rep from the table when it was the last). */
static void detach(struct client *c)
{
    if (!c->rep)
        return;
    gw_sse *s = c->s;
    g_ptr_array_remove_fast(c->rep->clients, c);
    if (c->rep->clients->len == 0)
        g_hash_table_remove(s->reps, c->rep->rep_id);
    c->rep = NULL;
    s->n_clients--;
    update_gauge(s);
}

static void maybe_free(struct client *c)
{
    if (c->closed && c->pending == 0)
        free(c);
}

/* The client's connection went away: libevent detached the request from it. */
static void on_close(struct evhttp_connection *conn, void *arg)
{
    (void)conn;
    struct client *c = arg;
    detach(c);
    c->closed = 1;
    evhttp_send_reply_end(c->req); /* frees the detached request */
    maybe_free(c);
}

/* Ends the client's stream from our side. */
static void end_client(struct client *c)
{
    if (c->closed)
        return;
    detach(c);
    c->closed = 1;
    evhttp_connection_set_closecb(c->conn, NULL, NULL);
    evhttp_send_reply_end(c->req);
    maybe_free(c);
}

static int too_slow(struct client *c)
{
    struct bufferevent *bev = evhttp_connection_get_bufferevent(c->conn);
    return bev && evbuffer_get_length(bufferevent_get_output(bev)) > GW_SSE_MAX_BUFFERED;
}

/* Writes one stream entry ([id, [field, value, ...]]) to the client if newer than its last. */
static void send_entry(struct client *c, const redisReply *entry, sid id, struct evbuffer *tmp)
{
    if (sid_cmp(id, c->last) <= 0)
        return;
    const redisReply *fields = entry->element[1];
    const char *data = NULL;
    size_t data_len = 0;
    for (size_t i = 0; fields && fields->type == REDIS_REPLY_ARRAY && i + 1 < fields->elements;
         i += 2)
        if (strcmp(fields->element[i]->str, "alert") == 0) {
            data = fields->element[i + 1]->str;
            data_len = fields->element[i + 1]->len;
        }
    c->last = id;
    if (!data)
        return;
    evbuffer_add_printf(tmp, "id: %s\nevent: call_now\n", entry->element[0]->str);
    /* One data: line per line of the payload (compact JSON has none, but be safe). */
    const char *p = data, *end = data + data_len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        evbuffer_add(tmp, "data: ", 6);
        evbuffer_add(tmp, p, n);
        evbuffer_add(tmp, "\n", 1);
        p += n + (nl ? 1 : 0);
    }
    evbuffer_add(tmp, "\n", 1);
    cadence_metrics_add(c->s->g->metrics, GW_M_SSE_SENT, "", 1);
}

/* Sends a list of entries (an XRANGE / XREAD entry array) to one client; 0 or -1 if dropped. */
static int send_entries(struct client *c, const redisReply *entries, int reverse)
{
    struct evbuffer *tmp = evbuffer_new();
    if (!tmp)
        return -1;
    size_t n = entries->elements;
    for (size_t k = 0; k < n; k++) {
        const redisReply *e = entries->element[reverse ? n - 1 - k : k];
        sid id;
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
            sid_parse(e->element[0]->str, &id) != 0)
            continue;
        send_entry(c, e, id, tmp);
    }
    if (evbuffer_get_length(tmp) > 0)
        evhttp_send_reply_chunk(c->req, tmp);
    evbuffer_free(tmp);
    if (too_slow(c)) {
        end_client(c);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ catch-up */

static void catch_up(struct client *c, int backlog);

static void on_catch_up(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    struct client *c = arg;
    c->pending--;
    if (c->closed) {
        maybe_free(c);
        return;
    }
    if (error || !reply || reply->type != REDIS_REPLY_ARRAY) {
        end_client(c); /* the client reconnects with Last-Event-ID */
        return;
    }
    int backlog = c->catching_up == 2;
    if (send_entries(c, reply, backlog) != 0)
        return;
    if (!backlog && reply->elements == GW_SSE_PAGE) {
        catch_up(c, 0); /* more after this page */
        return;
    }
    c->catching_up = 0;
    struct rep *rep = c->rep;
    if (rep && !rep->cursor_set) {
        rep->cursor = c->last;
        rep->cursor_set = 1;
    }
}

static void catch_up(struct client *c, int backlog)
{
    char from[64];
    sid_format(c->last, from, sizeof(from));
    char range_from[66];
    snprintf(range_from, sizeof(range_from), "(%s", from);
    const char *xrange[] = {"XRANGE", c->rep->key, range_from, "+", "COUNT", "500"};
    const char *xrev[] = {"XREVRANGE", c->rep->key, "+", "-", "COUNT", GW_SSE_BACKLOG};
    c->catching_up = backlog ? 2 : 1;
    if (cadence_redis_command_argv(c->s->g->redis, on_catch_up, c, 6, backlog ? xrev : xrange,
                                   NULL) == CADENCE_REDIS_OK)
        c->pending++;
    else
        end_client(c);
}

/* ------------------------------------------------------------------ live polling */

struct poll_ctx {
    gw_sse *s;
    GPtrArray *rep_ids; /* owned strings, in batch order */
};

static void deliver(gw_sse *s, const char *rep_id, const redisReply *xread)
{
    struct rep *rep = g_hash_table_lookup(s->reps, rep_id);
    if (!rep || xread->type != REDIS_REPLY_ARRAY || xread->elements < 1)
        return;
    const redisReply *stream = xread->element[0];
    if (stream->type != REDIS_REPLY_ARRAY || stream->elements < 2)
        return;
    const redisReply *entries = stream->element[1];
    if (entries->type != REDIS_REPLY_ARRAY || entries->elements == 0)
        return;
    const redisReply *last = entries->element[entries->elements - 1];
    sid id;
    if (last->type == REDIS_REPLY_ARRAY && last->elements >= 1 &&
        sid_parse(last->element[0]->str, &id) == 0 && sid_cmp(id, rep->cursor) > 0)
        rep->cursor = id;
    /* Copy the list: a client dropped for being slow leaves it (and may free the rep). */
    GPtrArray *clients = g_ptr_array_new();
    for (guint i = 0; i < rep->clients->len; i++)
        g_ptr_array_add(clients, g_ptr_array_index(rep->clients, i));
    for (guint i = 0; i < clients->len; i++) {
        struct client *c = g_ptr_array_index(clients, i);
        if (!c->catching_up)
            send_entries(c, entries, 0);
    }
    g_ptr_array_free(clients, TRUE);
}

static void poll_now(gw_sse *s);

static void on_poll(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    struct poll_ctx *pc = arg;
    gw_sse *s = pc->s;
    s->poll_inflight = 0;
    if (!error && reply && reply->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i < reply->elements && i < pc->rep_ids->len; i++)
            deliver(s, g_ptr_array_index(pc->rep_ids, i), reply->element[i]);
    g_ptr_array_free(pc->rep_ids, TRUE);
    free(pc);
    if (!error && s->kicked)
        poll_now(s);
}

static void poll_now(gw_sse *s)
{
    s->kicked = 0;
    if (s->poll_inflight || g_hash_table_size(s->reps) == 0 || !s->g->redis)
        return;
    cadence_redis_batch *b = cadence_redis_batch_new();
    struct poll_ctx *pc = calloc(1, sizeof(*pc));
    if (!b || !pc) {
        cadence_redis_batch_free(b);
        free(pc);
        return;
    }
    pc->s = s;
    pc->rep_ids = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, s->reps);
    while (g_hash_table_iter_next(&it, &key, &value) && pc->rep_ids->len < GW_SSE_POLL_MAX_REPS) {
        struct rep *rep = value;
        if (!rep->cursor_set)
            continue;
        char cur[64];
        sid_format(rep->cursor, cur, sizeof(cur));
        const char *argv[] = {"XREAD", "COUNT", GW_SSE_READ_COUNT, "STREAMS", rep->key, cur};
        if (cadence_redis_batch_add_argv(b, 6, argv, NULL) == 0)
            g_ptr_array_add(pc->rep_ids, g_strdup(rep->rep_id));
    }
    if (pc->rep_ids->len > 0 &&
        cadence_redis_batch_send(s->g->redis, b, on_poll, pc) == CADENCE_REDIS_OK) {
        s->poll_inflight = 1;
    } else {
        g_ptr_array_free(pc->rep_ids, TRUE);
        free(pc);
    }
    cadence_redis_batch_free(b);
}

void gw_sse_kick(gw_sse *s)
{
    s->kicked = 1;
    if (!s->poll_inflight)
        poll_now(s);
}

static void on_poll_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    poll_now(arg);
}

static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    gw_sse *s = arg;
    GPtrArray *all = g_ptr_array_new();
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, s->reps);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        struct rep *rep = value;
        for (guint i = 0; i < rep->clients->len; i++)
            g_ptr_array_add(all, g_ptr_array_index(rep->clients, i));
    }
    for (guint i = 0; i < all->len; i++) {
        struct client *c = g_ptr_array_index(all, i);
        struct evbuffer *b = evbuffer_new();
        evbuffer_add_printf(b, ": heartbeat\n\n");
        evhttp_send_reply_chunk(c->req, b);
        evbuffer_free(b);
        if (too_slow(c))
            end_client(c);
    }
    g_ptr_array_free(all, TRUE);
}

/* ------------------------------------------------------------------ the route */

void gw_sse_stream(gateway *g, struct evhttp_request *req, const char *route)
{
    gw_principal who;
    if (gw_require(g, req, route, GW_ROLE_BIT(GW_ROLE_REP) | GW_ROLE_BIT(GW_ROLE_MANAGER), &who) !=
        0)
        return;
    /* A rep listens to their own alerts; a manager names a rep (?rep=ID). */
    const char *rep_id = who.rep_id;
    struct evkeyvalq q;
    TAILQ_INIT(&q);
    const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    if (query)
        evhttp_parse_query_str(query, &q);
    const char *asked = evhttp_find_header(&q, "rep");
    char rep_buf[65] = "";
    if (asked && *asked) {
        if (who.role == GW_ROLE_REP && strcmp(asked, who.rep_id) != 0) {
            evhttp_clear_headers(&q);
            gw_reply_error(g, req, route, 403, "a rep may only listen to their own alerts");
            return;
        }
        snprintf(rep_buf, sizeof(rep_buf), "%s", asked);
        rep_id = rep_buf;
    }
    evhttp_clear_headers(&q);
    if (!gw_valid_id(rep_id)) {
        gw_reply_error(g, req, route, 400, "no rep to listen to (a manager passes ?rep=<rep_id>)");
        return;
    }
    const char *last_hdr =
        evhttp_find_header(evhttp_request_get_input_headers(req), "Last-Event-ID");
    sid last = {0, 0};
    int resume = last_hdr && sid_parse(last_hdr, &last) == 0;

    gw_sse *s = g->sse;
    struct client *c = calloc(1, sizeof(*c));
    if (!c) {
        gw_reply_error(g, req, route, 500, "out of memory");
        return;
    }
    struct rep *rep = g_hash_table_lookup(s->reps, rep_id);
    if (!rep) {
        rep = calloc(1, sizeof(*rep));
        if (!rep) {
            free(c);
            gw_reply_error(g, req, route, 500, "out of memory");
            return;
        }
        snprintf(rep->rep_id, sizeof(rep->rep_id), "%s", rep_id);
        cadence_keys_rep_alerts(rep->key, rep_id);
        rep->clients = g_ptr_array_new();
        g_hash_table_insert(s->reps, rep->rep_id, rep);
    }
    c->s = s;
    c->rep = rep;
    c->req = req;
    c->conn = evhttp_request_get_connection(req);
    c->last = last;
    g_ptr_array_add(rep->clients, c);
    s->n_clients++;
    update_gauge(s);
    gw_count(g, route, 200);

    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "text/event-stream");
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "X-Accel-Buffering", "no");
    evhttp_send_reply_start(req, 200, "OK");
    evhttp_connection_set_closecb(c->conn, on_close, c);
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "retry: 1000\n: connected as %s\n\n", rep_id);
    evhttp_send_reply_chunk(req, b);
    evbuffer_free(b);
    catch_up(c, !resume);
}

gw_sse *gw_sse_new(gateway *g, char *errstr, size_t errstr_size)
{
    gw_sse *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    s->g = g;
    s->reps = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, rep_free);
    s->poll_ev = event_new(g->base, -1, EV_PERSIST, on_poll_timer, s);
    s->hb_ev = event_new(g->base, -1, EV_PERSIST, on_heartbeat, s);
    struct timeval poll_tv = {0, GW_SSE_POLL_MS * 1000}, hb_tv = {GW_SSE_HEARTBEAT_S, 0};
    if (!s->poll_ev || !s->hb_ev || event_add(s->poll_ev, &poll_tv) != 0 ||
        event_add(s->hb_ev, &hb_tv) != 0) {
        snprintf(errstr, errstr_size, "cannot register the SSE timers");
        gw_sse_free(s);
        return NULL;
    }
    update_gauge(s);
    return s;
}

void gw_sse_free(gw_sse *s)
{
    if (!s)
        return;
    GPtrArray *all = g_ptr_array_new();
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, s->reps);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        struct rep *rep = value;
        for (guint i = 0; i < rep->clients->len; i++)
            g_ptr_array_add(all, g_ptr_array_index(rep->clients, i));
    }
    for (guint i = 0; i < all->len; i++)
        end_client(g_ptr_array_index(all, i));
    g_ptr_array_free(all, TRUE);
    if (s->poll_ev)
        event_free(s->poll_ev);
    if (s->hb_ev)
        event_free(s->hb_ev);
    g_hash_table_destroy(s->reps);
    free(s);
}
