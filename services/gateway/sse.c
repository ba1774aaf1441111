/*
 * sse — GET /v1/alerts/stream: the rep's call-now alerts as Server-Sent Events, read from the
 * per-rep Redis stream of alerts (filled by fanin.c of any gateway; read through
 * store/alerts.h).
 *
 * Each event is `id: <stream id>`, `event: call_now`, `data: <alert JSON>`. A client that sends
 * `Last-Event-ID` first gets everything after that id (XRANGE, paged); one without it gets the
 * rep's newest GW_SSE_BACKLOG alerts. Then it joins its rep's live feed.
 *
 * Live feed: one cursor per rep with listeners, however many clients that rep has. Every
 * GW_SSE_POLL_MS (and at once after this gateway appended an alert) one poll of every
 * listening rep's stream after its cursor (a pipelined batch of non-blocking XREADs, one per
 * rep) goes out on the shared Redis connection; new entries go to that rep's clients. This costs
 * one command per listening rep per tick (1,000 reps → 10,000 cheap commands/s) and no connection
 * per client.
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
#include "core/log.h"
#include "httphead.h"
#include "store/alerts.h"

#define GW_SSE_POLL_MS 100L
#define GW_SSE_HEARTBEAT_S 15
#define GW_SSE_BACKLOG 20
#define GW_SSE_PAGE 500
#define GW_SSE_READ_COUNT 200
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
    int last_read; /* `last` is an id read from the stream (not only the client's word) */
    char *authz;   /* the Authorization header, re-checked when the tokens are re-read */
    char token_id[17];
    int catching_up;
    int closed;  /* the connection is gone or we ended it */
    int pending; /* catch-up commands in flight (the client is freed after them) */
};

struct rep {
    char rep_id[65];
    GPtrArray *clients;
    int cursor_set;
    sid cursor;
};

struct gw_sse {
    gateway *g;
    GHashTable *reps;      /* rep_id → struct rep */
    GHashTable *per_token; /* token_id → open streams (GUINT_TO_POINTER) */
    struct event *poll_ev, *hb_ev;
    int poll_inflight;
    int kicked;
    size_t n_clients;
};

static int sid_parse(const char *s, sid *out)
{
    return gw_stream_id_parse(s, &out->ms, &out->seq);
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
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(s->per_token, c->token_id));
    if (n <= 1)
        g_hash_table_remove(s->per_token, c->token_id);
    else
        g_hash_table_insert(s->per_token, g_strdup(c->token_id), GUINT_TO_POINTER(n - 1));
    update_gauge(s);
}

static void maybe_free(struct client *c)
{
    if (c->closed && c->pending == 0) {
        free(c->authz);
        free(c);
    }
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

/* Writes one stream entry to the client if newer than its last. */
static void send_entry(struct client *c, const cadence_store_alert *entry, sid id,
                       struct evbuffer *tmp)
{
    if (sid_cmp(id, c->last) <= 0)
        return;
    const char *data = entry->json;
    size_t data_len = entry->json_len;
    c->last = id;
    c->last_read = 1;
    if (!data)
        return;
    evbuffer_add_printf(tmp, "id: %s\nevent: call_now\n", entry->id);
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

/* Sends stream entries (oldest first) to one client; 0, or -1 if it was dropped. */
static int send_entries(struct client *c, const cadence_store_alert *entries, size_t n)
{
    struct evbuffer *tmp = evbuffer_new();
    if (!tmp)
        return -1;
    for (size_t k = 0; k < n; k++) {
        sid id;
        if (sid_parse(entries[k].id, &id) != 0)
            continue;
        send_entry(c, &entries[k], id, tmp);
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

static void on_catch_up(const cadence_store_alert *entries, size_t n, const char *error, void *arg)
{
    struct client *c = arg;
    c->pending--;
    if (c->closed) {
        maybe_free(c);
        return;
    }
    if (error) {
        end_client(c); /* the client reconnects with Last-Event-ID */
        return;
    }
    int backlog = c->catching_up == 2;
    if (send_entries(c, entries, n) != 0)
        return;
    if (!backlog && n == GW_SSE_PAGE) {
        catch_up(c, 0); /* more after this page */
        return;
    }
    c->catching_up = 0;
    struct rep *rep = c->rep;
    if (rep && !rep->cursor_set) {
        /* The rep's live cursor starts at an id read from the stream, never at a client's
         * own Last-Event-ID (which may be ahead of the stream and would make every client of
         * the rep miss alerts): without one, from the stream's start, each client still
         * getting only ids newer than its own. */
        rep->cursor = c->last_read ? c->last : (sid){0, 0};
        rep->cursor_set = 1;
    }
}

static void catch_up(struct client *c, int backlog)
{
    char from[64];
    sid_format(c->last, from, sizeof(from));
    c->catching_up = backlog ? 2 : 1;
    cadence_redis *r = c->s->g->redis;
    enum cadence_redis_status st =
        backlog
            ? cadence_store_read_alerts_newest(r, c->rep->rep_id, GW_SSE_BACKLOG, on_catch_up, c)
            : cadence_store_read_alerts_after(r, c->rep->rep_id, from, GW_SSE_PAGE, on_catch_up, c);
    if (st == CADENCE_REDIS_OK)
        c->pending++;
    else
        end_client(c);
}

/* ------------------------------------------------------------------ live polling */

struct poll_ctx {
    gw_sse *s;
    GPtrArray *rep_ids; /* owned strings, in batch order */
};

static void deliver(gw_sse *s, const char *rep_id, const cadence_store_alert *entries, size_t n)
{
    struct rep *rep = g_hash_table_lookup(s->reps, rep_id);
    if (!rep || n == 0)
        return;
    sid id;
    if (sid_parse(entries[n - 1].id, &id) == 0 && sid_cmp(id, rep->cursor) > 0)
        rep->cursor = id;
    /* Copy the list: a client dropped for being slow leaves it (and may free the rep). */
    GPtrArray *clients = g_ptr_array_new();
    for (guint i = 0; i < rep->clients->len; i++)
        g_ptr_array_add(clients, g_ptr_array_index(rep->clients, i));
    for (guint i = 0; i < clients->len; i++) {
        struct client *c = g_ptr_array_index(clients, i);
        if (!c->catching_up)
            send_entries(c, entries, n);
    }
    g_ptr_array_free(clients, TRUE);
}

static void poll_now(gw_sse *s);

static void on_poll(const cadence_store_alert *const *entries, const size_t *n, size_t reps,
                    const char *error, void *arg)
{
    struct poll_ctx *pc = arg;
    gw_sse *s = pc->s;
    s->poll_inflight = 0;
    for (size_t i = 0; !error && i < reps && i < pc->rep_ids->len; i++)
        deliver(s, g_ptr_array_index(pc->rep_ids, i), entries[i], n[i]);
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
    struct poll_ctx *pc = calloc(1, sizeof(*pc));
    guint most = MIN(g_hash_table_size(s->reps), GW_SSE_POLL_MAX_REPS);
    cadence_store_alert_cursor *cursors = calloc(most, sizeof(*cursors));
    char(*ids)[64] = calloc(most, sizeof(*ids));
    if (!pc || !cursors || !ids) {
        free(pc);
        free(cursors);
        free(ids);
        return;
    }
    pc->s = s;
    pc->rep_ids = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, s->reps);
    while (g_hash_table_iter_next(&it, &key, &value) && pc->rep_ids->len < most) {
        struct rep *rep = value;
        if (!rep->cursor_set)
            continue;
        guint i = pc->rep_ids->len;
        sid_format(rep->cursor, ids[i], sizeof(ids[i]));
        cursors[i] = (cadence_store_alert_cursor){rep->rep_id, ids[i]};
        g_ptr_array_add(pc->rep_ids, g_strdup(rep->rep_id));
    }
    if (pc->rep_ids->len > 0 &&
        cadence_store_poll_alerts(s->g->redis, cursors, pc->rep_ids->len, GW_SSE_READ_COUNT,
                                  on_poll, pc) == CADENCE_REDIS_OK) {
        s->poll_inflight = 1;
    } else {
        g_ptr_array_free(pc->rep_ids, TRUE);
        free(pc);
    }
    free(cursors);
    free(ids);
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
    struct evkeyvalq q;
    TAILQ_INIT(&q);
    const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    if (query)
        evhttp_parse_query_str(query, &q);
    char rep_id[65];
    int rc = gw_rep_to_read(&who, evhttp_find_header(&q, "rep"), rep_id, sizeof(rep_id));
    evhttp_clear_headers(&q);
    if (rc == 403) {
        gw_reply_error(g, req, route, 403, "a rep may only listen to their own alerts");
        return;
    }
    if (rc != 0) {
        gw_reply_error(g, req, route, 400, "no rep to listen to (a manager passes ?rep=<rep_id>)");
        return;
    }
    const char *last_hdr =
        evhttp_find_header(evhttp_request_get_input_headers(req), "Last-Event-ID");
    sid last = {0, 0};
    /* Not a stream id, or ahead of the clock by more than a minute: treated as absent. */
    int resume =
        last_hdr && sid_parse(last_hdr, &last) == 0 && last.ms <= (uint64_t)gw_now_ms() + 60000;
    if (!resume)
        last = (sid){0, 0};
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        evhttp_add_header(h, "Content-Type", "text/event-stream");
        evhttp_add_header(h, "Cache-Control", "no-store");
        gw_count(g, route, 200);
        evhttp_send_reply(req, 200, "OK", NULL);
        return;
    }

    gw_sse *s = g->sse;
    guint streams = GPOINTER_TO_UINT(g_hash_table_lookup(s->per_token, who.token_id));
    if (streams >= (guint)g->cfg.sse_max_per_token) {
        gw_reply_error(g, req, route, 429,
                       "too many open alert streams for this token (CADENCE_SSE_MAX_PER_TOKEN)");
        return;
    }
    struct client *c = calloc(1, sizeof(*c));
    const char *authz = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    if (c)
        c->authz = strdup(authz ? authz : "");
    if (!c || !c->authz) {
        free(c);
        gw_reply_error(g, req, route, 500, "out of memory");
        return;
    }
    snprintf(c->token_id, sizeof(c->token_id), "%s", who.token_id);
    struct rep *rep = g_hash_table_lookup(s->reps, rep_id);
    if (!rep) {
        rep = calloc(1, sizeof(*rep));
        if (!rep) {
            free(c->authz);
            free(c);
            gw_reply_error(g, req, route, 500, "out of memory");
            return;
        }
        snprintf(rep->rep_id, sizeof(rep->rep_id), "%s", rep_id);
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
    g_hash_table_insert(s->per_token, g_strdup(c->token_id), GUINT_TO_POINTER(streams + 1));
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
    s->per_token = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
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
    g_hash_table_destroy(s->per_token);
    free(s);
}

void gw_sse_recheck(gw_sse *s)
{
    if (!s)
        return;
    GPtrArray *gone = g_ptr_array_new();
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, s->reps);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        struct rep *rep = value;
        for (guint i = 0; i < rep->clients->len; i++) {
            struct client *c = g_ptr_array_index(rep->clients, i);
            gw_principal who;
            if (gw_auth_bearer(s->g->auth, c->authz, &who) != 0 ||
                !gw_may_read_rep(&who, rep->rep_id))
                g_ptr_array_add(gone, c);
        }
    }
    for (guint i = 0; i < gone->len; i++)
        end_client(g_ptr_array_index(gone, i));
    if (gone->len)
        cadence_log_json(CADENCE_LOG_INFO, "alert streams of revoked tokens ended",
                         json_pack("{s:i}", "streams", (int)gone->len));
    g_ptr_array_free(gone, TRUE);
}
