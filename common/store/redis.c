/*
 * redis — asynchronous Redis client over hiredis 0.14 + libevent. See redis.h for the contract.
 *
 * How the invariants are kept:
 *
 *  - A `req` is one accepted command (or batch). It sits in the client's `pending` list, in
 *    submission order, from acceptance until its callback has run (`done`). Only
 *    complete() runs a callback, and it unlinks the req and sets `done` first, so nothing can
 *    run it twice; every path that loses a connection calls fail_all(), so nothing pending is
 *    ever forgotten.
 *  - hiredis holds pointers to a req's `part`s as callback privdata. hiredis 0.14 calls every
 *    registered callback exactly once: with the reply, or with NULL when the context is freed.
 *    `holds` counts those outstanding hiredis callbacks; a req is freed only when it is done
 *    AND holds is 0. So a late reply (or the NULL flush of a context we reset) always finds
 *    valid memory, sees `done`, and only drops its hold — it never reaches a user callback.
 *  - A done req no longer points at the client (`q->r` is cleared), so a req that outlives the
 *    client (hiredis frees a context after our callback returns) never touches freed memory.
 *  - Connection ownership: `r->ac` is our current context. Before any user code runs on a lost
 *    connection, `r->ac` is cleared and `ac->data` set to NULL, so hiredis's own disconnect
 *    callback for a context we already gave up is ignored, and we never free a context hiredis
 *    is freeing (after a failed connect or a disconnect hiredis frees it itself).
 *  - Re-entrancy: every entry from the event loop brackets its work with enter()/leave(). A
 *    cadence_redis_free() from inside a callback tears the client down at once (fails pending
 *    commands, drops the connection) but the struct itself is freed by the outermost leave().
 *  - Deadlines: all commands share one timeout, so deadlines are ordered like the pending list
 *    and one libevent timer, armed for the oldest pending req, enforces every command's
 *    deadline without a timer allocation per command.
 */
#include "store/redis.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>
#include <openssl/sha.h>

#include "base/clock.h"
#include "core/log.h"
#include "store/cluster.h"
#include "store/codec.h"

#define ERRMSG_MAX 256

struct cadence_redis_script {
    struct cadence_redis_script *next;
    char sha[2 * SHA_DIGEST_LENGTH + 1];
    char *lua;
};

/* One command in RESP form (from redisFormatCommandArgv; freed with redisFreeCommand). */
struct cmd {
    char *buf;
    size_t len;
    const cadence_redis_script *script; /* set for EVALSHA: kept for the NOSCRIPT retry */
    int slot;   /* cadence_cluster_command_slot() of the command (cluster routing) */
    int writes; /* it may change data (cluster routing: WAIT for replicas after it) */
};

struct cadence_redis_batch {
    struct cmd *cmds;
    size_t n, cap;
};

struct req;

/* One command of a req; its address is the hiredis privdata. */
struct part {
    struct req *req;
    struct cmd cmd;
    redisReply *copy; /* batch only: this command's final reply, deep-copied */
    int loading;      /* the next reply is our SCRIPT LOAD's */
    int retried;      /* NOSCRIPT retry already done */
    int final;        /* the final reply for this command has been seen */
    /* Cluster mode only (the part is routed by the facade, see "cluster routing"): */
    int state;         /* PART_SENT to a node, PART_WAITING for the retry timer, PART_DONE */
    int redirects;     /* MOVED / ASK followed so far */
    int asking;        /* sent as ASKING + command (an ASK redirection) */
    int target;        /* conn index the next attempt goes to (-1: by the slot map) */
    int sent_to;       /* conn index of the attempt in flight */
    unsigned tries;    /* TRYAGAIN / CLUSTERDOWN / node-not-ready retries so far */
    uint64_t retry_at; /* monotonic ms of the next attempt while waiting */
};

struct req {
    struct req *prev, *next; /* in r->pending while !done */
    cadence_redis *r;        /* NULL once done */
    cadence_redis_cb cb;
    void *arg;
    int internal; /* handshake: not counted in inflight, no metrics */
    int is_batch; /* the callback gets an array of all replies */
    int done;
    int holds;            /* hiredis callbacks outstanding with a part of this req */
    uint64_t start_ns;    /* for the round-trip histogram */
    uint64_t deadline_ms; /* monotonic */
    size_t nparts, nfinal;
    struct part parts[];
};

struct cadence_redis {
    struct event_base *base; /* borrowed */
    cadence_redis_url url;
    char addr[CADENCE_REDIS_URL_MAX + 64]; /* printable, password masked */
    long timeout_ms;
    size_t max_inflight;
    long backoff_min_ms, backoff_max_ms;
    cadence_redis_state_cb state_cb;
    void *state_arg;
    cadence_metrics *metrics; /* borrowed, may be NULL */

    redisAsyncContext *ac; /* current connection (connecting, handshaking or ready), or NULL */
    int ready;
    int closing;       /* cadence_redis_free() was called */
    int depth;         /* our frames on the stack (see enter/leave) */
    unsigned attempts; /* consecutive failed connection attempts */
    unsigned long connects;
    size_t hs_nscripts; /* scripts the handshake in flight loads (more may be added meanwhile) */

    struct event *retry_timer;    /* next connection attempt */
    struct event *conn_timer;     /* connect + handshake deadline; also "reset soon" */
    struct event *deadline_timer; /* oldest pending command's deadline */
    int deadline_armed;
    char reset_reason[ERRMSG_MAX]; /* set when conn_timer is used to reset soon */

    struct req *head, *tail; /* pending, oldest first */
    size_t inflight;
    cadence_redis_script *scripts;
    uint64_t rng;
    char last_error[ERRMSG_MAX];
    struct cluster *cl;         /* Redis Cluster mode: this client is a router over node clients */
    cadence_store_codec *codec; /* of the stored values; created on first use (NULL before) */
};

/* ---- small helpers ---------------------------------------------------------------------- */

static uint64_t now_ns(void)
{
    return (uint64_t)cadence_clock_mono_ns();
}

static uint64_t now_ms(void)
{
    return now_ns() / 1000000u;
}

static struct timeval tv_ms(long ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    return tv;
}

static void errset(char *errstr, size_t n, const char *msg)
{
    if (errstr && n > 0)
        snprintf(errstr, n, "%s", msg);
}

static void log_event(enum cadence_log_level level, const cadence_redis *r, const char *msg,
                      const char *error)
{
    if (!cadence_log_enabled(level))
        return;
    json_t *f = error ? json_pack("{s:s, s:s}", "redis", r->addr, "error", error)
                      : json_pack("{s:s}", "redis", r->addr);
    cadence_log_json(level, msg, f);
}

static void metric_add(cadence_redis *r, const char *name, const char *labels, double v)
{
    if (r->metrics)
        cadence_metrics_add(r->metrics, name, labels, v);
}

static const double rtt_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                     0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

static int metrics_declare(cadence_metrics *m)
{
    if (!m)
        return 0;
    int rc = 0;
    rc |= cadence_metrics_declare(m, "cadence_redis_rtt_seconds", CADENCE_METRIC_HISTOGRAM,
                                  "Round trip of successful Redis commands", rtt_buckets,
                                  sizeof(rtt_buckets) / sizeof(rtt_buckets[0]));
    rc |= cadence_metrics_declare(m, "cadence_redis_errors_total", CADENCE_METRIC_COUNTER,
                                  "Failed Redis commands by kind (reply, timeout, disconnected)",
                                  NULL, 0);
    rc |= cadence_metrics_declare(m, "cadence_redis_reconnects_total", CADENCE_METRIC_COUNTER,
                                  "Redis connection attempts after the first", NULL, 0);
    rc |= cadence_metrics_declare(m, "cadence_redis_ready", CADENCE_METRIC_GAUGE,
                                  "1 when the Redis connection is ready for commands", NULL, 0);
    return rc;
}

/* Deep copy of a reply, owned by us (freed with reply_free, not freeReplyObject). */
static void reply_free(redisReply *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->elements && p->element; i++)
        reply_free(p->element[i]);
    free(p->element);
    free(p->str);
    free(p);
}

static redisReply *reply_copy(const redisReply *s)
{
    redisReply *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->type = s->type;
    d->integer = s->integer;
    if (s->str) {
        d->str = malloc(s->len + 1);
        if (!d->str)
            goto fail;
        memcpy(d->str, s->str, s->len);
        d->str[s->len] = '\0';
        d->len = s->len;
    }
    if (s->elements > 0 && s->element) {
        d->element = calloc(s->elements, sizeof(redisReply *));
        if (!d->element)
            goto fail;
        d->elements = s->elements;
        for (size_t i = 0; i < s->elements; i++) {
            if (s->element[i] && !(d->element[i] = reply_copy(s->element[i])))
                goto fail;
        }
    }
    return d;
fail:
    reply_free(d);
    return NULL;
}

/* Formats argv (argvlen NULL: strlen) as one RESP command into `out`. Returns 0 or -1. */
static int cmd_format(struct cmd *out, int argc, const char **argv, const size_t *argvlen)
{
    size_t *lens = NULL;
    if (argc <= 0 || !argv)
        return -1;
    for (int i = 0; i < argc; i++) {
        if (!argv[i])
            return -1;
    }
    if (!argvlen) {
        lens = malloc((size_t)argc * sizeof(*lens));
        if (!lens)
            return -1;
        for (int i = 0; i < argc; i++)
            lens[i] = strlen(argv[i]);
        argvlen = lens;
    }
    char *buf = NULL;
    int len = redisFormatCommandArgv(&buf, argc, argv, argvlen);
    int slot = cadence_cluster_command_slot(argc, argv, argvlen);
    int writes = cadence_cluster_command_writes(argv[0], argvlen[0]);
    free(lens);
    if (len < 0 || !buf)
        return -1;
    out->buf = buf;
    out->len = (size_t)len;
    out->script = NULL;
    out->slot = slot;
    out->writes = writes;
    return 0;
}

/* EVALSHA sha numkeys argv... */
static int cmd_format_evalsha(struct cmd *out, const cadence_redis_script *s, int numkeys, int argc,
                              const char **argv, const size_t *argvlen)
{
    if (!s || numkeys < 0 || argc < 0 || numkeys > argc || argc > INT_MAX - 3 ||
        (argc > 0 && !argv))
        return -1;
    char nk[16];
    snprintf(nk, sizeof(nk), "%d", numkeys);
    size_t n = (size_t)argc + 3;
    const char **v = malloc(n * sizeof(*v));
    size_t *l = malloc(n * sizeof(*l));
    int rc = -1;
    if (!v || !l)
        goto out;
    v[0] = "EVALSHA";
    v[1] = s->sha;
    v[2] = nk;
    for (size_t i = 0; i < 3; i++)
        l[i] = strlen(v[i]);
    for (int i = 0; i < argc; i++) {
        if (!argv[i])
            goto out;
        v[i + 3] = argv[i];
        l[i + 3] = argvlen ? argvlen[i] : strlen(argv[i]);
    }
    rc = cmd_format(out, (int)n, v, l);
    if (rc == 0)
        out->script = s;
out:
    free(v);
    free(l);
    return rc;
}

static void cmd_clear(struct cmd *c)
{
    if (c->buf)
        redisFreeCommand(c->buf);
    c->buf = NULL;
    c->len = 0;
}

/* ---- reqs ------------------------------------------------------------------------------- */

static struct req *req_new(cadence_redis *r, size_t nparts, cadence_redis_cb cb, void *arg)
{
    struct req *q = calloc(1, sizeof(*q) + nparts * sizeof(struct part));
    if (!q)
        return NULL;
    q->r = r;
    q->cb = cb;
    q->arg = arg;
    q->nparts = nparts;
    for (size_t i = 0; i < nparts; i++)
        q->parts[i].req = q;
    return q;
}

static void req_free(struct req *q)
{
    for (size_t i = 0; i < q->nparts; i++) {
        cmd_clear(&q->parts[i].cmd);
        reply_free(q->parts[i].copy);
    }
    free(q);
}

/* Frees a req nobody needs any more: its callback has run and hiredis holds no part of it. */
static void req_maybe_free(struct req *q)
{
    if (q->done && q->holds == 0)
        req_free(q);
}

static void req_release(struct req *q)
{
    q->holds--;
    req_maybe_free(q);
}

static void pending_unlink(cadence_redis *r, struct req *q)
{
    if (q->prev)
        q->prev->next = q->next;
    else
        r->head = q->next;
    if (q->next)
        q->next->prev = q->prev;
    else
        r->tail = q->prev;
    q->prev = q->next = NULL;
}

static void pending_append(cadence_redis *r, struct req *q)
{
    q->prev = r->tail;
    q->next = NULL;
    if (r->tail)
        r->tail->next = q;
    else
        r->head = q;
    r->tail = q;
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata);

static void enter(cadence_redis *r)
{
    r->depth++;
}

static void destroy(cadence_redis *r);

static void leave(cadence_redis *r)
{
    if (--r->depth == 0 && r->closing)
        destroy(r);
}

/* Runs q's callback, once. The caller keeps q alive across this (see req_maybe_free). */
static void complete(struct req *q, const redisReply *reply, const char *error)
{
    cadence_redis *r = q->r;
    if (q->done || !r)
        return; /* cannot happen: only pending reqs are completed */
    pending_unlink(r, q);
    q->done = 1;
    q->r = NULL;
    if (!q->internal) {
        r->inflight -= q->nparts;
        enum cadence_redis_error kind = cadence_redis_error_kind(reply, error);
        if (r->metrics) {
            if (kind == CADENCE_REDIS_ERROR_NONE || kind == CADENCE_REDIS_ERROR_REPLY)
                cadence_metrics_observe(r->metrics, "cadence_redis_rtt_seconds", "",
                                        (double)(now_ns() - q->start_ns) / 1e9);
            if (kind == CADENCE_REDIS_ERROR_REPLY)
                metric_add(r, "cadence_redis_errors_total", "kind=\"reply\"", 1);
            else if (kind == CADENCE_REDIS_ERROR_TIMEOUT)
                metric_add(r, "cadence_redis_errors_total", "kind=\"timeout\"", 1);
            else if (kind == CADENCE_REDIS_ERROR_DISCONNECTED)
                metric_add(r, "cadence_redis_errors_total", "kind=\"disconnected\"", 1);
        }
    }
    if (q->cb)
        q->cb(r, reply, error, q->arg);
}

/* Fails every pending command with `error`; callbacks may re-enter (free, new commands). */
static void fail_all(cadence_redis *r, const char *error)
{
    while (r->head) {
        struct req *q = r->head;
        complete(q, NULL, error);
        req_maybe_free(q);
    }
}

/* ---- connection ------------------------------------------------------------------------- */

static void schedule_reconnect(cadence_redis *r)
{
    /* Capped exponential backoff: min * 2^attempts, plus up to 25% jitter, capped at max. */
    long delay = r->backoff_min_ms;
    for (unsigned i = 0; i < r->attempts && delay < r->backoff_max_ms; i++)
        delay *= 2;
    if (delay > r->backoff_max_ms)
        delay = r->backoff_max_ms;
    r->rng ^= r->rng << 13;
    r->rng ^= r->rng >> 7;
    r->rng ^= r->rng << 17;
    delay += (long)(r->rng % (uint64_t)(delay / 4 + 1));
    if (delay > r->backoff_max_ms)
        delay = r->backoff_max_ms;
    if (r->attempts < 64)
        r->attempts++;
    struct timeval tv = tv_ms(delay);
    evtimer_add(r->retry_timer, &tv);
}

/*
 * Gives up connection `a` (== r->ac): no user code can reach it afterwards. When
 * `hiredis_frees` is 0 we free it ourselves (hiredis defers that while inside its callback).
 * Fails every pending command, reports "down" if it `was_ready`, schedules a reconnect.
 */
static void conn_lost(cadence_redis *r, redisAsyncContext *a, const char *reason, int hiredis_frees,
                      int was_ready)
{
    char err[ERRMSG_MAX + 32];

    a->data = NULL;
    r->ac = NULL;
    r->ready = 0;
    event_del(r->conn_timer);
    snprintf(r->last_error, sizeof(r->last_error), "%s", reason);
    snprintf(err, sizeof(err), CADENCE_REDIS_ERRPFX_DISCONNECTED ": %s", reason);
    log_event(CADENCE_LOG_WARN, r,
              was_ready ? "redis connection lost" : "redis connection attempt failed", reason);
    fail_all(r, err);
    if (!hiredis_frees)
        redisAsyncFree(a);
    if (r->closing)
        return;
    if (was_ready) {
        if (r->metrics)
            cadence_metrics_set(r->metrics, "cadence_redis_ready", "", 0);
        if (r->state_cb)
            r->state_cb(r, 0, r->last_error, r->state_arg);
        if (r->closing)
            return;
    }
    schedule_reconnect(r);
}

/* Resets the current connection from the event loop's next turn (never inside hiredis). */
static void reset_soon(cadence_redis *r, const char *reason)
{
    struct timeval zero = {0, 0};
    snprintf(r->reset_reason, sizeof(r->reset_reason), "%s", reason);
    evtimer_add(r->conn_timer, &zero);
}

static int send_part(cadence_redis *r, struct part *p)
{
    if (!r->ac ||
        redisAsyncFormattedCommand(r->ac, on_reply, p, p->cmd.buf, p->cmd.len) != REDIS_OK)
        return -1;
    p->req->holds++;
    return 0;
}

static int send_script_load(cadence_redis *r, struct part *p)
{
    const char *argv[3] = {"SCRIPT", "LOAD", p->cmd.script->lua};
    size_t lens[3] = {6, 4, strlen(p->cmd.script->lua)};
    if (!r->ac || redisAsyncCommandArgv(r->ac, on_reply, p, 3, argv, lens) != REDIS_OK)
        return -1;
    p->req->holds++;
    return 0;
}

static void arm_deadline(cadence_redis *r)
{
    if (r->deadline_armed || !r->head || r->closing)
        return;
    uint64_t now = now_ms();
    long d = r->head->deadline_ms > now ? (long)(r->head->deadline_ms - now) : 0;
    struct timeval tv = tv_ms(d);
    if (evtimer_add(r->deadline_timer, &tv) == 0)
        r->deadline_armed = 1;
}

/*
 * Accepts `n` formatted commands as one req and writes them to the connection. On
 * CADENCE_REDIS_OK the commands belong to the req (the caller forgets them); otherwise the
 * caller still owns them. Internal reqs (the handshake) skip the readiness and in-flight checks.
 */
static enum cadence_redis_status cl_submit(cadence_redis *r, struct cmd *cmds, size_t n,
                                           int is_batch, cadence_redis_cb cb, void *arg);

static enum cadence_redis_status submit(cadence_redis *r, struct cmd *cmds, size_t n, int is_batch,
                                        int internal, cadence_redis_cb cb, void *arg)
{
    if (r && r->cl && !internal)
        return cl_submit(r, cmds, n, is_batch, cb, arg);
    if (!r || r->closing || !r->ac || (!internal && !r->ready))
        return CADENCE_REDIS_DOWN;
    if (n == 0 || (!internal && n > r->max_inflight))
        return CADENCE_REDIS_INVALID;
    if (!internal && r->inflight + n > r->max_inflight)
        return CADENCE_REDIS_BUSY;
    struct req *q = req_new(r, n, cb, arg);
    if (!q)
        return CADENCE_REDIS_NOMEM;
    q->is_batch = is_batch;
    q->internal = internal;
    q->start_ns = now_ns();
    q->deadline_ms = now_ms() + (uint64_t)r->timeout_ms;
    for (size_t i = 0; i < n; i++)
        q->parts[i].cmd = cmds[i];
    for (size_t i = 0; i < n; i++) {
        if (send_part(r, &q->parts[i]) == 0)
            continue;
        if (i == 0) {
            /* Nothing written: refuse, and give the commands back to the caller. */
            for (size_t j = 0; j < n; j++)
                q->parts[j].cmd.buf = NULL;
            req_free(q);
            return CADENCE_REDIS_DOWN;
        }
        /* Partly written: the connection is unusable; the reset fails this req too. */
        reset_soon(r, "failed to write a command");
        break;
    }
    /* Only EVALSHA keeps its text (for a NOSCRIPT retry); hiredis has copied the rest. */
    for (size_t i = 0; i < n; i++) {
        if (!q->parts[i].cmd.script)
            cmd_clear(&q->parts[i].cmd);
    }
    pending_append(r, q);
    if (!internal)
        r->inflight += n;
    arm_deadline(r);
    return CADENCE_REDIS_OK;
}

/* ---- replies ---------------------------------------------------------------------------- */

static void batch_deliver(struct req *q)
{
    redisReply **els = malloc(q->nparts * sizeof(redisReply *));
    if (!els) {
        complete(q, NULL, CADENCE_REDIS_ERRPFX_DISCONNECTED ": out of memory");
        return;
    }
    for (size_t i = 0; i < q->nparts; i++)
        els[i] = q->parts[i].copy;
    redisReply arr = {.type = REDIS_REPLY_ARRAY, .elements = q->nparts, .element = els};
    complete(q, &arr, NULL);
    free(els);
}

/* `reply` is the final answer for part p. */
static void part_final(struct part *p, const redisReply *reply)
{
    struct req *q = p->req;
    p->final = 1;
    q->nfinal++;
    if (!q->is_batch) {
        const char *err = NULL;
        if (reply->type == REDIS_REPLY_ERROR)
            err = reply->str ? reply->str : "ERR";
        complete(q, reply, err);
        return;
    }
    p->copy = reply_copy(reply);
    if (!p->copy) {
        complete(q, NULL, CADENCE_REDIS_ERRPFX_DISCONNECTED ": out of memory copying a reply");
        return;
    }
    if (q->nfinal == q->nparts)
        batch_deliver(q);
}

static int is_noscript(const redisReply *reply)
{
    return reply->type == REDIS_REPLY_ERROR && reply->str &&
           strncmp(reply->str, "NOSCRIPT", 8) == 0;
}

static void part_reply(cadence_redis *r, struct part *p, const redisReply *reply)
{
    if (p->loading) {
        /* Our SCRIPT LOAD: an error (say, the script does not compile) is the final answer. */
        p->loading = 0;
        if (reply->type == REDIS_REPLY_ERROR && !p->final)
            part_final(p, reply);
        return;
    }
    if (p->final)
        return; /* the EVALSHA after a failed SCRIPT LOAD */
    if (p->cmd.script && !p->retried && is_noscript(reply)) {
        /* Redis lost the script (restart, SCRIPT FLUSH): load it and retry once, pipelined on
         * this connection, so the retry runs right after the load. */
        p->retried = 1;
        if (send_script_load(r, p) == 0) {
            p->loading = 1;
            if (send_part(r, p) == 0)
                return;
        }
    }
    part_final(p, reply);
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct part *p = privdata;
    struct req *q = p->req;
    if (q->done) {
        /* Late: the command already failed (timeout, reset, free). Only drop our hold. */
        req_release(q);
        return;
    }
    cadence_redis *r = q->r;
    enter(r);
    if (!reply) {
        /* hiredis is freeing the context: connection lost under us. */
        if (ac->data == r && r->ac == ac)
            conn_lost(r, ac, ac->err ? ac->errstr : "connection closed", 1, r->ready);
        if (!q->done)
            complete(q, NULL, CADENCE_REDIS_ERRPFX_DISCONNECTED ": connection closed");
    } else {
        part_reply(r, p, reply);
    }
    req_release(q);
    leave(r);
}

/* ---- connection life cycle -------------------------------------------------------------- */

static void load_script_now(cadence_redis *r, const cadence_redis_script *s);

static void became_ready(cadence_redis *r)
{
    r->ready = 1;
    r->attempts = 0;
    event_del(r->conn_timer);
    /* Scripts registered while the handshake was in flight. */
    size_t k = 0;
    for (const cadence_redis_script *s = r->scripts; s; s = s->next, k++) {
        if (k >= r->hs_nscripts)
            load_script_now(r, s);
    }
    log_event(CADENCE_LOG_INFO, r, "redis ready", NULL);
    if (r->metrics)
        cadence_metrics_set(r->metrics, "cadence_redis_ready", "", 1);
    if (r->state_cb)
        r->state_cb(r, 1, NULL, r->state_arg);
}

static const char *reply_error(const redisReply *e)
{
    if (!e)
        return "no reply";
    if (e->type != REDIS_REPLY_ERROR)
        return NULL;
    return e->str ? e->str : "ERR";
}

/* The handshake batch: [AUTH] [SELECT] SCRIPT LOAD... PING. */
static void on_handshake(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)arg;
    if (!reply || error || r->closing || !r->ac)
        return; /* timeout or disconnect: the path that failed it resets the connection */
    char reason[ERRMSG_MAX];
    const char *e;
    size_t i = 0;
    reason[0] = '\0';
    if (r->url.password[0]) {
        if ((e = reply_error(reply->element[i++])))
            snprintf(reason, sizeof(reason), "AUTH failed: %s", e);
    }
    if (!reason[0] && r->url.db != 0) {
        if ((e = reply_error(reply->element[i])))
            snprintf(reason, sizeof(reason), "SELECT %d failed: %s", r->url.db, e);
    }
    if (r->url.db != 0)
        i++;
    size_t k = 0;
    for (const cadence_redis_script *s = r->scripts; s && k < r->hs_nscripts && !reason[0];
         s = s->next, i++, k++) {
        const redisReply *el = reply->element[i];
        if ((e = reply_error(el))) {
            /* A broken script only breaks its own calls (they get this error again). */
            json_t *f = json_pack("{s:s, s:s, s:s}", "redis", r->addr, "sha", s->sha, "error", e);
            cadence_log_json(CADENCE_LOG_ERROR, "redis script does not load", f);
        } else if (el->type != REDIS_REPLY_STRING || strcmp(el->str, s->sha) != 0) {
            log_event(CADENCE_LOG_WARN, r, "redis SCRIPT LOAD returned another sha", s->sha);
        }
    }
    if (!reason[0] && (e = reply_error(reply->element[reply->elements - 1])))
        snprintf(reason, sizeof(reason), "PING failed: %s", e);
    if (reason[0])
        conn_lost(r, r->ac, reason, 0, 0);
    else
        became_ready(r);
}

static void cmds_clear(struct cmd *cmds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cmd_clear(&cmds[i]);
}

static int send_handshake(cadence_redis *r)
{
    size_t n = 1, k = 0;
    r->hs_nscripts = 0;
    for (const cadence_redis_script *s = r->scripts; s; s = s->next)
        r->hs_nscripts++;
    n += r->hs_nscripts;
    n += (r->url.password[0] != 0) + (r->url.db != 0);
    struct cmd *cmds = calloc(n, sizeof(*cmds));
    if (!cmds)
        return -1;
    int rc = 0;
    if (r->url.password[0]) {
        const char *a3[3] = {"AUTH", r->url.username, r->url.password};
        const char *a2[2] = {"AUTH", r->url.password};
        rc |= r->url.username[0] ? cmd_format(&cmds[k++], 3, a3, NULL)
                                 : cmd_format(&cmds[k++], 2, a2, NULL);
    }
    if (r->url.db != 0) {
        char db[16];
        snprintf(db, sizeof(db), "%d", r->url.db);
        const char *a[2] = {"SELECT", db};
        rc |= cmd_format(&cmds[k++], 2, a, NULL);
    }
    for (const cadence_redis_script *s = r->scripts; s; s = s->next) {
        const char *a[3] = {"SCRIPT", "LOAD", s->lua};
        rc |= cmd_format(&cmds[k++], 3, a, NULL);
    }
    const char *ping[1] = {"PING"};
    rc |= cmd_format(&cmds[k++], 1, ping, NULL);
    if (rc == 0 && submit(r, cmds, n, 1, 1, on_handshake, NULL) == CADENCE_REDIS_OK) {
        free(cmds);
        return 0;
    }
    cmds_clear(cmds, n);
    free(cmds);
    return -1;
}

static void on_connect(const redisAsyncContext *c, int status)
{
    cadence_redis *r = c->data;
    if (!r || r->ac != c)
        return;
    redisAsyncContext *a = r->ac;
    enter(r);
    if (status != REDIS_OK) {
        /* hiredis frees the context after we return. */
        conn_lost(r, a, a->errstr[0] ? a->errstr : "connect failed", 1, 0);
    } else if (send_handshake(r) != 0) {
        /* Not here: freeing the context inside its connect callback is not safe in 0.14. */
        reset_soon(r, "could not send the handshake");
    }
    leave(r);
}

static void on_disconnect(const redisAsyncContext *c, int status)
{
    (void)status;
    cadence_redis *r = c->data;
    if (!r || r->ac != c)
        return;
    enter(r);
    conn_lost(r, r->ac, c->err ? c->errstr : "connection closed", 1, r->ready);
    leave(r);
}

static void conn_failed(cadence_redis *r, const char *reason)
{
    snprintf(r->last_error, sizeof(r->last_error), "%s", reason);
    log_event(CADENCE_LOG_WARN, r, "redis connection attempt failed", reason);
    schedule_reconnect(r);
}

static void start_connect(cadence_redis *r)
{
    if (r->connects++ > 0)
        metric_add(r, "cadence_redis_reconnects_total", "", 1);
    redisAsyncContext *a = r->url.is_unix ? redisAsyncConnectUnix(r->url.path)
                                          : redisAsyncConnect(r->url.host, r->url.port);
    if (!a) {
        conn_failed(r, "out of memory");
        return;
    }
    if (a->err) {
        char reason[ERRMSG_MAX];
        snprintf(reason, sizeof(reason), "%s", a->errstr);
        redisAsyncFree(a);
        conn_failed(r, reason);
        return;
    }
    if (redisLibeventAttach(a, r->base) != REDIS_OK) {
        redisAsyncFree(a);
        conn_failed(r, "cannot attach to the event loop");
        return;
    }
    if (!r->url.is_unix)
        redisEnableKeepAlive(&a->c); /* notice a vanished host while idle (15 s probes) */
    a->data = r;
    redisAsyncSetConnectCallback(a, on_connect);
    redisAsyncSetDisconnectCallback(a, on_disconnect);
    r->ac = a;
    r->reset_reason[0] = '\0';
    struct timeval tv = tv_ms(r->timeout_ms);
    evtimer_add(r->conn_timer, &tv);
}

static void on_retry_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    cadence_redis *r = arg;
    enter(r);
    if (!r->closing && !r->ac)
        start_connect(r);
    leave(r);
}

static void on_conn_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    cadence_redis *r = arg;
    char reason[ERRMSG_MAX];
    if (r->reset_reason[0])
        snprintf(reason, sizeof(reason), "%s", r->reset_reason);
    else
        snprintf(reason, sizeof(reason), "connect and handshake took longer than %ld ms",
                 r->timeout_ms);
    r->reset_reason[0] = '\0';
    enter(r);
    if (!r->closing && r->ac)
        conn_lost(r, r->ac, reason, 0, r->ready);
    leave(r);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    cadence_redis *r = arg;
    enter(r);
    r->deadline_armed = 0;
    struct req *q = r->head;
    if (q && q->deadline_ms <= now_ms()) {
        redisAsyncContext *a = r->ac;
        int was_ready = r->ready;
        char err[ERRMSG_MAX];
        snprintf(err, sizeof(err), CADENCE_REDIS_ERRPFX_TIMEOUT ": no reply within %ld ms",
                 r->timeout_ms);
        r->ready = 0; /* the connection is about to be reset: refuse new commands */
        complete(q, NULL, err);
        req_maybe_free(q);
        if (!r->closing && a && r->ac == a)
            conn_lost(r, a, was_ready ? "a command timed out" : "handshake timed out", 0,
                      was_ready);
    }
    arm_deadline(r);
    leave(r);
}

/* ---- cluster routing ---------------------------------------------------------------------
 *
 * With url.cluster set, this client is a router: it owns one standalone client per node (each
 * with its own handshake, deadlines and reconnects, as above) and a slot map read with
 * CLUSTER SLOTS. A command is accepted as a req in the router's pending list; each of its
 * parts (one per command of a batch) is sent, as its own command, to the node client of its
 * slot. A part's answer decides what happens next:
 *  - MOVED: the slot map is corrected for that slot, a full re-read is asked for, and the part
 *    goes to the new node; ASK: this part alone goes to the named node as ASKING + command;
 *    both are followed at most CLUSTER_MAX_REDIRECTS times;
 *  - TRYAGAIN, CLUSTERDOWN, or a node that is not connected (yet): the part waits and is sent
 *    again after a capped exponential backoff, until the command's deadline — then it fails as
 *    "disconnected" (never as an error reply, which callers would take for a bad command);
 *  - a timeout or a lost node connection fails the part as it came (the command may have run:
 *    the caller decides), and the map is re-read, which is how a failover is noticed;
 *  - anything else is the part's answer. A batch is answered when all parts are, in order.
 * The router is ready when the map covers all 16384 slots and every master's client is ready.
 * A req's `holds` counts its parts in node clients, as for hiredis callbacks above.
 */

#define CLUSTER_MAX_REDIRECTS 16
#define CLUSTER_RETRY_MIN_MS 10        /* first wait of a part before it is sent again */
#define CLUSTER_RETRY_MAX_MS 500       /* cap of that wait (it doubles per try) */
#define CLUSTER_REFRESH_MIN_MS 100     /* least time between two CLUSTER SLOTS queries */
#define CLUSTER_REFRESH_IDLE_MS 250    /* while not ready, the map is re-read this often */
#define CLUSTER_REFRESH_PERIOD_MS 5000 /* and while ready, this often (replicas come and go) */
#define CLUSTER_MAX_CONNS ((size_t)2 * CADENCE_CLUSTER_MAX_NODES)

enum { PART_SENT = 1, PART_WAITING, PART_DONE };

struct conn {
    char host[CADENCE_CLUSTER_HOST_MAX];
    int port;
    int seed;         /* from CADENCE_REDIS_URL: kept even when it serves no slot */
    int in_map;       /* a master of the current map */
    int replicas;     /* replicas connected to it, per its ROLE (-1: not known yet) */
    int role_asked;   /* a ROLE is in flight */
    cadence_redis *c; /* the node's client, NULL when dropped */
    /* CADENCE_REDIS_WAIT_REPLICAS > 0: the parts routed to this node in this turn of the
     * event loop, sent together at its end (see "one WAIT per node and turn"). */
    struct part **queued;
    size_t nqueued, capqueued;
};

struct cluster {
    struct conn *conns; /* indexes are stable: parts keep them */
    size_t nconns, capconns;
    cadence_cluster_map *map, *scratch;
    int map_conn[CADENCE_CLUSTER_MAX_NODES]; /* map node index → conn index */
    int refreshing;                          /* a CLUSTER SLOTS is in flight */
    int refresh_again;                       /* something changed while it was */
    uint64_t last_refresh_ms;
    size_t next_query; /* round robin over the nodes asked for the map */
    struct event *refresh_timer;
    uint64_t refresh_due_ms; /* when refresh_timer fires, 0 when not armed */
    struct event *retry_timer;
    uint64_t retry_due_ms;     /* when retry_timer fires, 0 when not armed */
    struct event *flush_event; /* sends the queued parts at the end of the loop's turn */
    int flush_armed;
};

static void cl_request_refresh(cadence_redis *r);
static void cl_update_ready(cadence_redis *r);
static void ask_roles(cadence_redis *r);
static void on_node_reply(cadence_redis *node, const redisReply *reply, const char *error,
                          void *arg);

static void on_node_state(cadence_redis *node, int ready, const char *reason, void *arg)
{
    (void)node;
    (void)reason;
    cadence_redis *r = arg;
    enter(r);
    if (!r->closing) {
        if (!ready || r->cl->map->covered < CADENCE_CLUSTER_SLOTS)
            cl_request_refresh(r);
        if (ready)
            ask_roles(r);
        cl_update_ready(r);
    }
    leave(r);
}

static int conn_open(cadence_redis *r, struct conn *k)
{
    char err[ERRMSG_MAX];
    cadence_redis_url u = r->url;
    u.cluster = 0;
    u.nseeds = 1;
    snprintf(u.host, sizeof(u.host), "%s", k->host);
    u.port = k->port;
    u.seeds[0].port = k->port;
    snprintf(u.seeds[0].host, sizeof(u.seeds[0].host), "%s", k->host);
    cadence_redis_options o = {.timeout_ms = r->timeout_ms,
                               /* every part, with at most an ASKING before it and a WAIT
                                * after it (one per group of parts), and the map's queries */
                               .max_inflight = 3 * r->max_inflight + 64,
                               .backoff_min_ms = r->backoff_min_ms,
                               .backoff_max_ms = r->backoff_max_ms,
                               .state_cb = on_node_state,
                               .state_arg = r};
    k->c = cadence_redis_new(r->base, &u, &o, err, sizeof(err));
    if (!k->c) {
        log_event(CADENCE_LOG_ERROR, r, "redis cluster: cannot create a node client", err);
        return -1;
    }
    for (const cadence_redis_script *s = r->scripts; s; s = s->next)
        cadence_redis_script_add(k->c, s->lua, NULL, 0);
    k->replicas = -1;
    k->role_asked = 0;
    return 0;
}

/* The conn of host:port, created (and its client opened) when new. -1 when full. */
static int conn_get(cadence_redis *r, const char *host, int port, int seed)
{
    struct cluster *cl = r->cl;
    size_t i = 0;
    for (; i < cl->nconns; i++) {
        if (cl->conns[i].port == port && strcmp(cl->conns[i].host, host) == 0)
            break;
    }
    if (i == cl->nconns) {
        if (cl->nconns >= CLUSTER_MAX_CONNS || strlen(host) >= CADENCE_CLUSTER_HOST_MAX)
            return -1;
        if (cl->nconns == cl->capconns) {
            size_t cap = cl->capconns ? cl->capconns * 2 : 8;
            struct conn *n = realloc(cl->conns, cap * sizeof(*n));
            if (!n)
                return -1;
            cl->conns = n;
            cl->capconns = cap;
        }
        struct conn *k = &cl->conns[cl->nconns++];
        memset(k, 0, sizeof(*k));
        k->replicas = -1;
        snprintf(k->host, sizeof(k->host), "%s", host);
        k->port = port;
    }
    struct conn *k = &cl->conns[i];
    k->seed |= seed;
    if (!k->c && conn_open(r, k) != 0)
        return -1;
    return (int)i;
}

static int conn_ready(const cadence_redis *r, int ci)
{
    return ci >= 0 && (size_t)ci < r->cl->nconns && r->cl->conns[ci].c &&
           cadence_redis_is_ready(r->cl->conns[ci].c);
}

/* The conn a part goes to: its redirection, its slot's master, or (no key) any ready node. */
static int cl_route(const cadence_redis *r, const struct part *p)
{
    const struct cluster *cl = r->cl;
    if (p->target >= 0)
        return p->target;
    if (p->cmd.slot >= 0) {
        uint16_t n = cl->map->slot_node[p->cmd.slot];
        return n == CADENCE_CLUSTER_NONE ? -1 : cl->map_conn[n];
    }
    for (size_t i = 0; i < cl->nconns; i++) {
        if (cl->conns[i].in_map && conn_ready(r, (int)i))
            return (int)i;
    }
    return -1;
}

static void cl_arm_retry(cadence_redis *r, uint64_t at)
{
    struct cluster *cl = r->cl;
    if (cl->retry_due_ms && cl->retry_due_ms <= at)
        return;
    uint64_t now = now_ms();
    struct timeval tv = tv_ms(at > now ? (long)(at - now) : 0);
    if (evtimer_add(cl->retry_timer, &tv) == 0)
        cl->retry_due_ms = at;
}

/* Parks a part until the retry timer; the timer fails it once its req's deadline passed. */
static void part_wait(cadence_redis *r, struct part *p)
{
    long delay = CLUSTER_RETRY_MIN_MS;
    for (unsigned i = 0; i < p->tries && delay < CLUSTER_RETRY_MAX_MS; i++)
        delay *= 2;
    if (delay > CLUSTER_RETRY_MAX_MS)
        delay = CLUSTER_RETRY_MAX_MS;
    if (p->tries < 64)
        p->tries++;
    p->state = PART_WAITING;
    p->retry_at = now_ms() + (uint64_t)delay;
    cl_arm_retry(r, p->retry_at);
}

/* Sends part p to its node now, or parks it. Never calls back. */
static void part_queue(cadence_redis *r, struct part *p, int ci);

static void part_send(cadence_redis *r, struct part *p)
{
    int ci = cl_route(r, p);
    if (!conn_ready(r, ci)) {
        part_wait(r, p);
        return;
    }
    if (r->url.wait_replicas > 0) {
        part_queue(r, p, ci);
        return;
    }
    struct cmd cmds[2] = {{0}, {0}};
    size_t n = 0;
    const char *asking[1] = {"ASKING"};
    if (p->asking && cmd_format(&cmds[n++], 1, asking, NULL) != 0) {
        cmds_clear(cmds, n);
        part_wait(r, p);
        return;
    }
    struct cmd *c = &cmds[n++];
    *c = p->cmd;
    c->buf = malloc(p->cmd.len);
    if (!c->buf) {
        cmds_clear(cmds, n);
        part_wait(r, p);
        return;
    }
    memcpy(c->buf, p->cmd.buf, p->cmd.len);
    if (submit(r->cl->conns[ci].c, cmds, n, n > 1, 0, on_node_reply, p) != CADENCE_REDIS_OK) {
        cmds_clear(cmds, n);
        part_wait(r, p);
        return;
    }
    p->state = PART_SENT;
    p->sent_to = ci;
    p->req->holds++;
}

/* Part p has its answer (reply NULL: the whole req fails with `error`). */
static void part_done(struct part *p, const redisReply *reply, const char *error)
{
    struct req *q = p->req;
    p->state = PART_DONE;
    if (!q->is_batch || !reply) {
        complete(q, reply, error);
        return;
    }
    p->copy = reply_copy(reply);
    if (!p->copy) {
        complete(q, NULL, CADENCE_REDIS_ERRPFX_DISCONNECTED ": out of memory copying a reply");
        return;
    }
    if (++q->nfinal == q->nparts)
        batch_deliver(q);
}

/* Makes the map send `slot` to conn ci (a MOVED answer), until the next full read. */
static void map_move_slot(cadence_redis *r, int slot, int ci)
{
    struct cluster *cl = r->cl;
    cadence_cluster_map *m = cl->map;
    const struct conn *k = &cl->conns[ci];
    int idx = cadence_cluster_map_find(m, k->host, k->port);
    if (idx < 0) {
        if (m->nnodes >= CADENCE_CLUSTER_MAX_NODES)
            return;
        idx = (int)m->nnodes++;
        snprintf(m->nodes[idx].host, sizeof(m->nodes[idx].host), "%s", k->host);
        m->nodes[idx].port = k->port;
    }
    cl->map_conn[idx] = ci;
    if (m->slot_node[slot] == CADENCE_CLUSTER_NONE)
        m->covered++;
    m->slot_node[slot] = (uint16_t)idx;
}

/* Part p, sent to a node, has its answer there: `reply` (NULL: none, `error` says why) is the
 * command's own; `unreplicated`: the write was done, but the WAIT after it did not count
 * enough replicas. Follows a redirection, parks a retryable refusal, or finishes the part. */
static void part_answer(cadence_redis *r, struct part *p, const redisReply *reply,
                        const char *error, int unreplicated)
{
    const char *asked = r->cl->conns[p->sent_to].host;
    p->asking = 0;
    p->target = -1;
    cadence_cluster_redirect rd;
    enum cadence_cluster_redirect_kind k = CADENCE_CLUSTER_REDIRECT_NONE;
    if (reply && error)
        k = cadence_cluster_redirect_parse(reply->str, reply->len, asked, &rd);
    if (r->closing) {
        part_done(p, NULL, CADENCE_REDIS_ERRPFX_DISCONNECTED ": client freed");
    } else if (!reply) {
        cl_request_refresh(r); /* the node may be gone: a failover follows */
        part_done(p, NULL, error);
    } else if (unreplicated) {
        char err[ERRMSG_MAX];
        snprintf(err, sizeof(err),
                 CADENCE_REDIS_ERRPFX_DISCONNECTED ": write not acknowledged by a replica "
                                                   "within %ld ms",
                 r->timeout_ms / 2);
        cl_request_refresh(r);
        part_done(p, NULL, err);
    } else if (k != CADENCE_CLUSTER_REDIRECT_NONE) {
        int ci =
            p->redirects < CLUSTER_MAX_REDIRECTS ? conn_get(r, rd.node.host, rd.node.port, 0) : -1;
        p->redirects++;
        if (ci < 0) {
            part_done(p, NULL, CADENCE_REDIS_ERRPFX_DISCONNECTED ": too many cluster redirections");
        } else {
            if (k == CADENCE_CLUSTER_REDIRECT_MOVED) {
                map_move_slot(r, rd.slot, ci);
                cl_request_refresh(r);
            } else {
                p->asking = 1;
            }
            p->target = ci;
            part_send(r, p);
        }
    } else if (error && cadence_cluster_error_is_retryable(reply->str, reply->len)) {
        if (reply->str && strncmp(reply->str, "CLUSTERDOWN", 11) == 0)
            cl_request_refresh(r);
        part_wait(r, p);
    } else {
        part_done(p, reply, error);
    }
}

static void on_node_reply(cadence_redis *node, const redisReply *reply, const char *error,
                          void *arg)
{
    (void)node;
    struct part *p = arg;
    struct req *q = p->req;
    q->holds--;
    if (q->done) {
        req_maybe_free(q);
        return;
    }
    cadence_redis *r = q->r;
    enter(r);
    if (p->asking && reply && !error && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {
        /* ASKING's +OK, then the command's answer */
        reply = reply->element[1];
        error = reply->type == REDIS_REPLY_ERROR ? (reply->str ? reply->str : "ERR") : NULL;
    }
    part_answer(r, p, reply, error, 0);
    req_maybe_free(q);
    leave(r);
}

/*
 * One WAIT per node and turn. With CADENCE_REDIS_WAIT_REPLICAS > 0 a write is answered only
 * once that many replicas of its master have it, so a failover cannot lose it. WAIT answers for
 * every write sent before it on the connection, and it holds back the commands behind it until
 * the replicas acknowledge; so the parts routed to a node in one turn of the event loop are
 * queued, in order, and sent together at the end of the turn as one pipeline ending in one WAIT
 * (one replication round trip per node and turn, not one per write). Reads queue too while
 * this is on, so that a node still sees a caller's commands in the order they were sent.
 */
struct group {
    cadence_redis *r;
    int want;    /* replicas the WAIT asks for (0: none sent) */
    size_t sent; /* commands sent: ASKINGs, the parts' commands, the WAIT */
    size_t n;
    struct part *parts[];
};

static void arm_flush(cadence_redis *r)
{
    struct cluster *cl = r->cl;
    if (!cl->flush_armed) {
        cl->flush_armed = 1;
        event_active(cl->flush_event, EV_TIMEOUT, 0);
    }
}

/* Queues part p for node ci until the end of the turn (parks it when memory runs out). */
static void part_queue(cadence_redis *r, struct part *p, int ci)
{
    struct conn *k = &r->cl->conns[ci];
    if (k->nqueued == k->capqueued) {
        size_t cap = k->capqueued ? 2 * k->capqueued : 16;
        struct part **n = realloc(k->queued, cap * sizeof(struct part *));
        if (!n) {
            part_wait(r, p);
            return;
        }
        k->queued = n;
        k->capqueued = cap;
    }
    k->queued[k->nqueued++] = p;
    p->state = PART_SENT;
    p->sent_to = ci;
    p->req->holds++;
    arm_flush(r);
}

/* Lets go of the queued parts (their req holds), parking the live ones for a retry. */
static void group_release(cadence_redis *r, struct part **parts, size_t n, int park)
{
    for (size_t i = 0; i < n; i++) {
        struct req *q = parts[i]->req;
        q->holds--;
        if (park && !q->done && !r->closing)
            part_wait(r, parts[i]);
        req_maybe_free(q);
    }
}

static void on_group_reply(cadence_redis *node, const redisReply *reply, const char *error,
                           void *arg)
{
    (void)node;
    struct group *g = arg;
    cadence_redis *r = g->r;
    enter(r);
    int whole = reply && !error && reply->type == REDIS_REPLY_ARRAY && reply->elements == g->sent;
    const redisReply *w = whole && g->want > 0 ? reply->element[g->sent - 1] : NULL;
    int acked = !w || (w->type == REDIS_REPLY_INTEGER && w->integer >= g->want);
    size_t at = 0;
    for (size_t i = 0; i < g->n; i++) {
        struct part *p = g->parts[i];
        struct req *q = p->req;
        const redisReply *own = NULL;
        static const char no_reply[] = CADENCE_REDIS_ERRPFX_DISCONNECTED ": no reply";
        const char *err = whole ? NULL : error ? error : no_reply;
        if (whole) {
            at += (size_t)p->asking; /* ASKING's +OK */
            own = reply->element[at++];
            err = own->type == REDIS_REPLY_ERROR ? (own->str ? own->str : "ERR") : NULL;
        }
        q->holds--;
        if (!q->done)
            part_answer(r, p, own, err, own && !err && p->cmd.writes && !acked);
        req_maybe_free(q);
    }
    free(g);
    leave(r);
}

/* Sends node ci's queued parts as one pipeline, with one WAIT after them. */
static void group_send(cadence_redis *r, int ci, struct part **parts, size_t n)
{
    struct conn *k = &r->cl->conns[ci];
    /* after a failover the new master has no replica until the old one comes back: writes go
     * on, unreplicated, rather than wait for a replica that is not there */
    int want = r->url.wait_replicas < k->replicas ? (int)r->url.wait_replicas : k->replicas;
    size_t live = 0, writes = 0, asks = 0;
    for (size_t i = 0; i < n; i++) {
        if (parts[i]->req->done)
            continue;
        live++;
        writes += parts[i]->cmd.writes != 0;
        asks += parts[i]->asking != 0;
    }
    if (writes == 0)
        want = 0;
    size_t ncmds = live + asks + (want > 0);
    struct group *g = live ? calloc(1, sizeof(*g) + live * sizeof(struct part *)) : NULL;
    struct cmd *cmds = live ? calloc(ncmds, sizeof(*cmds)) : NULL;
    if (!live || !g || !cmds || r->closing || !conn_ready(r, ci)) {
        free(g);
        free(cmds);
        group_release(r, parts, n, 1);
        return;
    }
    g->r = r;
    g->want = want;
    g->sent = ncmds;
    size_t c = 0;
    int failed = 0;
    const char *asking[1] = {"ASKING"};
    for (size_t i = 0; i < n && !failed; i++) {
        struct part *p = parts[i];
        if (p->req->done)
            continue;
        g->parts[g->n++] = p;
        if (p->asking && cmd_format(&cmds[c++], 1, asking, NULL) != 0)
            failed = 1;
        cmds[c] = p->cmd;
        cmds[c].buf = failed ? NULL : malloc(p->cmd.len);
        if (!cmds[c++].buf)
            failed = 1;
        else
            memcpy(cmds[c - 1].buf, p->cmd.buf, p->cmd.len);
    }
    if (!failed && want > 0) {
        char nrep[16], ms[24];
        snprintf(nrep, sizeof(nrep), "%d", want);
        snprintf(ms, sizeof(ms), "%ld", r->timeout_ms / 2); /* its answer comes in time */
        const char *wait[3] = {"WAIT", nrep, ms};
        failed = cmd_format(&cmds[c++], 3, wait, NULL) != 0;
    }
    if (failed || submit(k->c, cmds, ncmds, 1, 0, on_group_reply, g) != CADENCE_REDIS_OK) {
        cmds_clear(cmds, c);
        free(cmds);
        free(g);
        group_release(r, parts, n, 1);
        return;
    }
    free(cmds);
    /* the group keeps the live parts' holds; the others are let go */
    for (size_t i = 0; i < n; i++) {
        if (parts[i]->req->done) {
            parts[i]->req->holds--;
            req_maybe_free(parts[i]->req);
        }
    }
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    cadence_redis *r = arg;
    struct cluster *cl = r->cl;
    enter(r);
    cl->flush_armed = 0;
    for (size_t ci = 0; ci < cl->nconns; ci++) {
        struct conn *k = &cl->conns[ci];
        if (!k->nqueued)
            continue;
        /* taken whole: what the callbacks queue meanwhile goes in the next turn's flush */
        struct part **parts = k->queued;
        size_t n = k->nqueued;
        k->queued = NULL;
        k->nqueued = k->capqueued = 0;
        group_send(r, (int)ci, parts, n);
        free(parts);
    }
    leave(r);
}

static void on_cluster_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    cadence_redis *r = arg;
    enter(r);
    r->cl->retry_due_ms = 0;
    uint64_t now = now_ms();
    for (struct req *q = r->head; q && !r->closing;) {
        struct req *next = q->next;
        q->holds++; /* keeps q while its callback may run */
        for (size_t i = 0; i < q->nparts && !q->done && !r->closing; i++) {
            struct part *p = &q->parts[i];
            if (p->state != PART_WAITING)
                continue;
            if (now >= q->deadline_ms) {
                char err[ERRMSG_MAX];
                snprintf(err, sizeof(err),
                         CADENCE_REDIS_ERRPFX_DISCONNECTED
                         ": no cluster node took the command within %ld ms",
                         r->timeout_ms);
                part_done(p, NULL, err);
            } else if (p->retry_at <= now) {
                part_send(r, p);
            } else {
                cl_arm_retry(r, p->retry_at);
            }
        }
        req_release(q);
        q = next;
    }
    leave(r);
}

/* Accepts n formatted commands as one routed req (see submit() for the ownership rules). */
static enum cadence_redis_status cl_submit(cadence_redis *r, struct cmd *cmds, size_t n,
                                           int is_batch, cadence_redis_cb cb, void *arg)
{
    if (r->closing)
        return CADENCE_REDIS_DOWN;
    if (n == 0 || n > r->max_inflight)
        return CADENCE_REDIS_INVALID;
    if (r->inflight + n > r->max_inflight)
        return CADENCE_REDIS_BUSY;
    for (size_t i = 0; i < n; i++) {
        if (cmds[i].slot == CADENCE_CLUSTER_CROSSSLOT ||
            cmds[i].slot == CADENCE_CLUSTER_UNKNOWN_CMD) {
            log_event(CADENCE_LOG_ERROR, r, "redis cluster: command refused",
                      cmds[i].slot == CADENCE_CLUSTER_CROSSSLOT ? "keys in more than one slot"
                                                                : "command not routable");
            return CADENCE_REDIS_INVALID;
        }
        struct part probe = {.cmd = cmds[i], .target = -1};
        if (!conn_ready(r, cl_route(r, &probe)))
            return CADENCE_REDIS_DOWN;
    }
    struct req *q = req_new(r, n, cb, arg);
    if (!q)
        return CADENCE_REDIS_NOMEM;
    q->is_batch = is_batch;
    q->start_ns = now_ns();
    q->deadline_ms = now_ms() + (uint64_t)r->timeout_ms;
    for (size_t i = 0; i < n; i++) {
        q->parts[i].cmd = cmds[i];
        q->parts[i].target = -1;
        q->parts[i].sent_to = -1;
        if (cmds[i].slot < 0) /* no key: pin it to the node chosen now */
            q->parts[i].target = cl_route(r, &q->parts[i]);
    }
    pending_append(r, q);
    r->inflight += n;
    for (size_t i = 0; i < n; i++)
        part_send(r, &q->parts[i]);
    return CADENCE_REDIS_OK;
}

/* A new slot map is in: open the masters' clients, drop the clients nobody needs. */
static void map_apply(cadence_redis *r)
{
    struct cluster *cl = r->cl;
    for (size_t i = 0; i < cl->nconns; i++)
        cl->conns[i].in_map = 0;
    for (size_t i = 0; i < cl->map->nnodes; i++) {
        int ci = conn_get(r, cl->map->nodes[i].host, cl->map->nodes[i].port, 0);
        cl->map_conn[i] = ci;
        if (ci >= 0)
            cl->conns[ci].in_map = 1;
    }
    for (size_t i = 0; i < cl->nconns; i++) {
        struct conn *k = &cl->conns[i];
        if (k->c && !k->in_map && !k->seed && cadence_redis_inflight(k->c) == 0) {
            cadence_redis *c = k->c;
            k->c = NULL;
            cadence_redis_free(c);
        }
    }
}

/* ROLE of a master: how many replicas are connected to it (what a WAIT can count on). */
static void on_role(cadence_redis *node, const redisReply *reply, const char *error, void *arg)
{
    cadence_redis *r = arg;
    enter(r);
    for (size_t i = 0; i < r->cl->nconns && !r->closing; i++) {
        struct conn *k = &r->cl->conns[i];
        if (k->c != node)
            continue;
        k->role_asked = 0;
        if (!error && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 3 &&
            reply->element[2]->type == REDIS_REPLY_ARRAY)
            k->replicas = (int)reply->element[2]->elements;
        cl_update_ready(r);
    }
    leave(r);
}

/* With wait_replicas, asks every master of the map for its replicas (after each map read). */
static void ask_roles(cadence_redis *r)
{
    static const char *argv[1] = {"ROLE"};
    if (r->url.wait_replicas <= 0)
        return;
    for (size_t i = 0; i < r->cl->nconns; i++) {
        struct conn *k = &r->cl->conns[i];
        if (k->in_map && !k->role_asked && conn_ready(r, (int)i) &&
            cadence_redis_command_argv(k->c, on_role, r, 1, argv, NULL) == CADENCE_REDIS_OK)
            k->role_asked = 1;
    }
}

static void on_slots(cadence_redis *node, const redisReply *reply, const char *error, void *arg)
{
    cadence_redis *r = arg;
    struct cluster *cl = r->cl;
    enter(r);
    cl->refreshing = 0;
    if (!r->closing) {
        char err[ERRMSG_MAX];
        if (error) {
            log_event(CADENCE_LOG_WARN, r, "redis cluster: CLUSTER SLOTS failed", error);
        } else if (cadence_cluster_map_from_slots(cl->scratch, reply, node->url.host, err,
                                                  sizeof(err)) != 0) {
            log_event(CADENCE_LOG_WARN, r, "redis cluster: unusable slot map", err);
        } else {
            cadence_cluster_map *m = cl->map;
            cl->map = cl->scratch;
            cl->scratch = m;
            map_apply(r);
            ask_roles(r);
        }
        if (cl->refresh_again)
            cl_request_refresh(r);
        cl_update_ready(r);
    }
    leave(r);
}

/* Arms the map re-read `ms` from now, unless it is due sooner already. */
static void refresh_in(cadence_redis *r, long ms)
{
    struct cluster *cl = r->cl;
    uint64_t at = now_ms() + (uint64_t)ms;
    if (cl->refresh_due_ms && cl->refresh_due_ms <= at)
        return;
    struct timeval tv = tv_ms(ms);
    if (evtimer_add(cl->refresh_timer, &tv) == 0)
        cl->refresh_due_ms = at;
}

/* Asks one ready node (masters first, round robin) for the slot map. */
static void cl_refresh_now(cadence_redis *r)
{
    struct cluster *cl = r->cl;
    static const char *argv[2] = {"CLUSTER", "SLOTS"};
    for (int pass = 0; pass < 2; pass++) {
        for (size_t j = 0; j < cl->nconns; j++) {
            size_t i = (cl->next_query + j) % cl->nconns;
            const struct conn *k = &cl->conns[i];
            if ((pass == 0 && !k->in_map) || !conn_ready(r, (int)i))
                continue;
            if (cadence_redis_command_argv(k->c, on_slots, r, 2, argv, NULL) == CADENCE_REDIS_OK) {
                cl->next_query = i + 1;
                cl->refreshing = 1;
                cl->refresh_again = 0;
                cl->last_refresh_ms = now_ms();
                return;
            }
        }
    }
    /* No node answers yet: their clients reconnect; try again soon. */
    refresh_in(r, CLUSTER_REFRESH_IDLE_MS);
}

static void cl_request_refresh(cadence_redis *r)
{
    struct cluster *cl = r->cl;
    if (cl->refreshing) {
        cl->refresh_again = 1;
        return;
    }
    uint64_t now = now_ms(), next = cl->last_refresh_ms + CLUSTER_REFRESH_MIN_MS;
    refresh_in(r, next > now ? (long)(next - now) : 0);
}

static void on_refresh_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    cadence_redis *r = arg;
    enter(r);
    r->cl->refresh_due_ms = 0;
    if (!r->closing && !r->cl->refreshing)
        cl_refresh_now(r);
    leave(r);
}

/* Ready = every slot has a master whose client is ready. Reports changes; while not ready the
 * map is re-read every CLUSTER_REFRESH_IDLE_MS (a failover moves slots to a new master), and
 * every CLUSTER_REFRESH_PERIOD_MS while ready (a replica joined or failed: WAIT counts). */
static void cl_update_ready(cadence_redis *r)
{
    struct cluster *cl = r->cl;
    char why[ERRMSG_MAX];
    why[0] = '\0';
    if (cl->map->covered < CADENCE_CLUSTER_SLOTS)
        snprintf(why, sizeof(why), "slot map covers %zu of %d slots", cl->map->covered,
                 CADENCE_CLUSTER_SLOTS);
    for (size_t i = 0; i < cl->map->nnodes && !why[0]; i++) {
        int ci = cl->map_conn[i];
        if (!conn_ready(r, ci))
            snprintf(why, sizeof(why), "master %.100s:%d not connected: %.100s",
                     cl->map->nodes[i].host, cl->map->nodes[i].port,
                     ci >= 0 && cl->conns[ci].c ? cadence_redis_last_error(cl->conns[ci].c) : "");
        else if (r->url.wait_replicas > 0 && cl->conns[ci].replicas < 0)
            snprintf(why, sizeof(why), "master %.100s:%d: its replicas not known yet",
                     cl->map->nodes[i].host, cl->map->nodes[i].port);
    }
    int ready = why[0] == '\0';
    if (!ready)
        snprintf(r->last_error, sizeof(r->last_error), "%s", why);
    if (!cl->refreshing)
        refresh_in(r, ready ? CLUSTER_REFRESH_PERIOD_MS : CLUSTER_REFRESH_IDLE_MS);
    if (ready == r->ready)
        return;
    r->ready = ready;
    if (r->metrics)
        cadence_metrics_set(r->metrics, "cadence_redis_ready", "", ready);
    log_event(ready ? CADENCE_LOG_INFO : CADENCE_LOG_WARN, r,
              ready ? "redis cluster ready" : "redis cluster not ready", ready ? NULL : why);
    if (r->state_cb)
        r->state_cb(r, ready, ready ? NULL : r->last_error, r->state_arg);
}

static int cl_new(cadence_redis *r, char *errstr, size_t errstr_size)
{
    struct cluster *cl = calloc(1, sizeof(*cl));
    r->cl = cl;
    if (!cl || !(cl->map = malloc(sizeof(*cl->map))) ||
        !(cl->scratch = malloc(sizeof(*cl->scratch))) ||
        !(cl->refresh_timer = evtimer_new(r->base, on_refresh_timer, r)) ||
        !(cl->retry_timer = evtimer_new(r->base, on_cluster_retry, r)) ||
        !(cl->flush_event = event_new(r->base, -1, 0, on_flush, r))) {
        errset(errstr, errstr_size, "redis: out of memory");
        return -1;
    }
    cadence_cluster_map_clear(cl->map);
    cadence_cluster_map_clear(cl->scratch);
    for (int i = 0; i < r->url.nseeds; i++) {
        if (conn_get(r, r->url.seeds[i].host, r->url.seeds[i].port, 1) < 0) {
            errset(errstr, errstr_size, "redis: cannot create a client for a seed node");
            return -1;
        }
    }
    return 0;
}

/* Frees every node client (their pending parts fail back through on_node_reply). */
static void cl_close(cadence_redis *r)
{
    struct cluster *cl = r->cl;
    if (!cl)
        return;
    if (cl->refresh_timer)
        event_del(cl->refresh_timer);
    if (cl->retry_timer)
        event_del(cl->retry_timer);
    if (cl->flush_event)
        event_del(cl->flush_event);
    cl->flush_armed = 0;
    for (size_t i = 0; i < cl->nconns; i++) {
        struct conn *k = &cl->conns[i];
        struct part **queued = k->queued; /* never sent: fail_all fails their reqs */
        size_t n = k->nqueued;
        k->queued = NULL;
        k->nqueued = k->capqueued = 0;
        group_release(r, queued, n, 0);
        free(queued);
    }
    for (size_t i = 0; i < cl->nconns; i++) {
        cadence_redis *c = cl->conns[i].c;
        cl->conns[i].c = NULL;
        cadence_redis_free(c);
    }
}

static void cl_destroy(struct cluster *cl)
{
    if (!cl)
        return;
    if (cl->refresh_timer)
        event_free(cl->refresh_timer);
    if (cl->retry_timer)
        event_free(cl->retry_timer);
    if (cl->flush_event)
        event_free(cl->flush_event);
    for (size_t i = 0; i < cl->nconns; i++)
        free(cl->conns[i].queued);
    free(cl->conns);
    free(cl->map);
    free(cl->scratch);
    free(cl);
}

/* ---- public API ------------------------------------------------------------------------- */

cadence_redis *cadence_redis_new(struct event_base *base, const cadence_redis_url *url,
                                 const cadence_redis_options *opts, char *errstr,
                                 size_t errstr_size)
{
    cadence_redis_options o = {0};
    if (opts)
        o = *opts;
    if (!base || !url) {
        errset(errstr, errstr_size, "redis: event base and url are required");
        return NULL;
    }
    if (o.timeout_ms < 0 || o.backoff_min_ms < 0 || o.backoff_max_ms < 0) {
        errset(errstr, errstr_size, "redis: negative timeout or backoff");
        return NULL;
    }
    if (o.timeout_ms == 0)
        o.timeout_ms = CADENCE_REDIS_DEFAULT_TIMEOUT_MS;
    if (o.max_inflight == 0)
        o.max_inflight = CADENCE_REDIS_DEFAULT_MAX_INFLIGHT;
    if (o.backoff_min_ms == 0)
        o.backoff_min_ms = CADENCE_REDIS_DEFAULT_BACKOFF_MIN_MS;
    if (o.backoff_max_ms == 0)
        o.backoff_max_ms = CADENCE_REDIS_DEFAULT_BACKOFF_MAX_MS;
    if (o.backoff_min_ms > o.backoff_max_ms) {
        errset(errstr, errstr_size, "redis: backoff_min_ms is larger than backoff_max_ms");
        return NULL;
    }
    if (url->is_unix ? !url->path[0] : (!url->host[0] || url->port <= 0 || url->port > 65535)) {
        errset(errstr, errstr_size, "redis: url has no address");
        return NULL;
    }
    if (url->cluster && (url->is_unix || url->nseeds < 1 || url->db != 0)) {
        errset(errstr, errstr_size, "redis: cluster mode needs redis:// seed nodes and db 0");
        return NULL;
    }
    cadence_redis *r = calloc(1, sizeof(*r));
    if (!r) {
        errset(errstr, errstr_size, "redis: out of memory");
        return NULL;
    }
    r->base = base;
    r->url = *url;
    cadence_redis_url_format_safe(url, r->addr, sizeof(r->addr));
    r->timeout_ms = o.timeout_ms;
    r->max_inflight = o.max_inflight;
    r->backoff_min_ms = o.backoff_min_ms;
    r->backoff_max_ms = o.backoff_max_ms;
    r->state_cb = o.state_cb;
    r->state_arg = o.state_arg;
    r->metrics = o.metrics;
    r->rng = (now_ns() ^ (uint64_t)(uintptr_t)r) | 1u;
    r->retry_timer = evtimer_new(base, on_retry_timer, r);
    r->conn_timer = evtimer_new(base, on_conn_timer, r);
    r->deadline_timer = evtimer_new(base, on_deadline, r);
    if (!r->retry_timer || !r->conn_timer || !r->deadline_timer) {
        errset(errstr, errstr_size, "redis: cannot create timers");
        destroy(r);
        return NULL;
    }
    if (metrics_declare(r->metrics) != 0) {
        errset(errstr, errstr_size, "redis: cannot declare metrics");
        destroy(r);
        return NULL;
    }
    if (url->cluster) {
        /* A router: its node clients connect from the loop on their own. */
        if (cl_new(r, errstr, errstr_size) != 0) {
            cl_close(r);
            destroy(r);
            return NULL;
        }
        return r;
    }
    /* First attempt from the loop, like every later one. */
    struct timeval zero = {0, 0};
    evtimer_add(r->retry_timer, &zero);
    return r;
}

static void destroy(cadence_redis *r)
{
    if (r->retry_timer)
        event_free(r->retry_timer);
    if (r->conn_timer)
        event_free(r->conn_timer);
    if (r->deadline_timer)
        event_free(r->deadline_timer);
    cl_destroy(r->cl);
    cadence_store_codec_free(r->codec);
    while (r->scripts) {
        cadence_redis_script *s = r->scripts;
        r->scripts = s->next;
        free(s->lua);
        free(s);
    }
    free(r);
}

void cadence_redis_free(cadence_redis *r)
{
    if (!r || r->closing)
        return;
    r->closing = 1;
    enter(r);
    event_del(r->retry_timer);
    event_del(r->conn_timer);
    event_del(r->deadline_timer);
    redisAsyncContext *a = r->ac;
    if (a) {
        a->data = NULL;
        r->ac = NULL;
    }
    if (r->ready && r->metrics)
        cadence_metrics_set(r->metrics, "cadence_redis_ready", "", 0);
    r->ready = 0;
    cl_close(r);
    fail_all(r, CADENCE_REDIS_ERRPFX_DISCONNECTED ": client freed");
    if (a)
        redisAsyncFree(a); /* deferred by hiredis when we are inside one of its callbacks */
    leave(r);              /* frees r, now or when the outermost callback returns */
}

cadence_store_codec *cadence_redis_codec(cadence_redis *r)
{
    if (r && !r->codec)
        r->codec = cadence_store_codec_new();
    return r ? r->codec : NULL;
}

int cadence_redis_decode(cadence_redis *r, const char *value, size_t len, const char *what,
                         const char **text, size_t *text_len, char **owned, char *why,
                         size_t why_size)
{
    *owned = NULL;
    cadence_store_codec *codec = cadence_redis_codec(r);
    char err[128];
    if (!codec) {
        snprintf(why, why_size, "%s: out of memory", what);
        return -1;
    }
    if (cadence_store_codec_decode(codec, value, len, text, text_len, owned, err, sizeof(err)) !=
        0) {
        snprintf(why, why_size, "%s: %s", what, err);
        return -1;
    }
    return 0;
}

int cadence_redis_is_ready(const cadence_redis *r)
{
    return r && r->ready && !r->closing;
}

size_t cadence_redis_inflight(const cadence_redis *r)
{
    return r ? r->inflight : 0;
}

const char *cadence_redis_last_error(const cadence_redis *r)
{
    return r ? r->last_error : "";
}

const char *cadence_redis_status_name(enum cadence_redis_status s)
{
    switch (s) {
    case CADENCE_REDIS_OK:
        return "ok";
    case CADENCE_REDIS_BUSY:
        return "busy";
    case CADENCE_REDIS_DOWN:
        return "down";
    case CADENCE_REDIS_INVALID:
        return "invalid";
    case CADENCE_REDIS_NOMEM:
        return "nomem";
    }
    return "unknown";
}

enum cadence_redis_error cadence_redis_error_kind(const redisReply *reply, const char *error)
{
    if (!error)
        return CADENCE_REDIS_ERROR_NONE;
    if (reply && reply->type == REDIS_REPLY_ERROR)
        return CADENCE_REDIS_ERROR_REPLY;
    if (strncmp(error, CADENCE_REDIS_ERRPFX_TIMEOUT, strlen(CADENCE_REDIS_ERRPFX_TIMEOUT)) == 0)
        return CADENCE_REDIS_ERROR_TIMEOUT;
    return CADENCE_REDIS_ERROR_DISCONNECTED;
}

enum cadence_redis_status cadence_redis_command_argv(cadence_redis *r, cadence_redis_cb cb,
                                                     void *arg, int argc, const char **argv,
                                                     const size_t *argvlen)
{
    if (!r || r->closing || (!r->ready && !r->cl))
        return CADENCE_REDIS_DOWN;
    if (r->inflight >= r->max_inflight)
        return CADENCE_REDIS_BUSY;
    struct cmd c = {0};
    if (cmd_format(&c, argc, argv, argvlen) != 0)
        return argc <= 0 || !argv ? CADENCE_REDIS_INVALID : CADENCE_REDIS_NOMEM;
    enum cadence_redis_status st = submit(r, &c, 1, 0, 0, cb, arg);
    if (st != CADENCE_REDIS_OK)
        cmd_clear(&c);
    return st;
}

static void on_script_loaded(cadence_redis *r, const redisReply *reply, const char *error,
                             void *arg)
{
    const cadence_redis_script *s = arg;
    if (reply && error) {
        json_t *f = json_pack("{s:s, s:s, s:s}", "redis", r->addr, "sha", s->sha, "error", error);
        cadence_log_json(CADENCE_LOG_ERROR, "redis script does not load", f);
    }
}

/* Loads one script on the ready connection, so its first EVALSHA does not pay a NOSCRIPT
 * round trip. If this fails, the NOSCRIPT retry still covers it. */
static void load_script_now(cadence_redis *r, const cadence_redis_script *s)
{
    struct cmd c = {0};
    const char *a[3] = {"SCRIPT", "LOAD", s->lua};
    if (cmd_format(&c, 3, a, NULL) == 0 &&
        submit(r, &c, 1, 0, 1, on_script_loaded, (void *)s) != CADENCE_REDIS_OK)
        cmd_clear(&c);
}

const cadence_redis_script *cadence_redis_script_add(cadence_redis *r, const char *lua,
                                                     char *errstr, size_t errstr_size)
{
    if (!r || !lua) {
        errset(errstr, errstr_size, "redis: script_add needs a client and a script");
        return NULL;
    }
    unsigned char md[SHA_DIGEST_LENGTH];
    char sha[2 * SHA_DIGEST_LENGTH + 1];
    SHA1((const unsigned char *)lua, strlen(lua), md);
    for (size_t i = 0; i < SHA_DIGEST_LENGTH; i++)
        snprintf(sha + 2 * i, 3, "%02x", md[i]);
    cadence_redis_script **tail = &r->scripts;
    for (; *tail; tail = &(*tail)->next) {
        if (strcmp((*tail)->sha, sha) == 0)
            return *tail;
    }
    cadence_redis_script *s = calloc(1, sizeof(*s));
    if (!s || !(s->lua = strdup(lua))) {
        free(s);
        errset(errstr, errstr_size, "redis: out of memory");
        return NULL;
    }
    memcpy(s->sha, sha, sizeof(sha));
    *tail = s; /* appended: the handshake loads scripts in registration order */
    if (r->cl) {
        /* Every node loads it (its handshake, or now); EVALSHA goes with this handle. */
        for (size_t i = 0; i < r->cl->nconns; i++) {
            if (r->cl->conns[i].c)
                cadence_redis_script_add(r->cl->conns[i].c, lua, NULL, 0);
        }
    } else if (r->ready) {
        load_script_now(r, s);
    }
    return s;
}

const char *cadence_redis_script_sha(const cadence_redis_script *s)
{
    return s ? s->sha : "";
}

enum cadence_redis_status cadence_redis_evalsha(cadence_redis *r, const cadence_redis_script *s,
                                                int numkeys, int argc, const char **argv,
                                                const size_t *argvlen, cadence_redis_cb cb,
                                                void *arg)
{
    if (!r || r->closing || (!r->ready && !r->cl))
        return CADENCE_REDIS_DOWN;
    if (r->inflight >= r->max_inflight)
        return CADENCE_REDIS_BUSY;
    struct cmd c = {0};
    if (cmd_format_evalsha(&c, s, numkeys, argc, argv, argvlen) != 0)
        return CADENCE_REDIS_INVALID;
    enum cadence_redis_status st = submit(r, &c, 1, 0, 0, cb, arg);
    if (st != CADENCE_REDIS_OK)
        cmd_clear(&c);
    return st;
}

cadence_redis_batch *cadence_redis_batch_new(void)
{
    return calloc(1, sizeof(cadence_redis_batch));
}

void cadence_redis_batch_free(cadence_redis_batch *b)
{
    if (!b)
        return;
    cmds_clear(b->cmds, b->n);
    free(b->cmds);
    free(b);
}

static struct cmd *batch_slot(cadence_redis_batch *b)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        struct cmd *n = realloc(b->cmds, cap * sizeof(*n));
        if (!n)
            return NULL;
        b->cmds = n;
        b->cap = cap;
    }
    return &b->cmds[b->n];
}

int cadence_redis_batch_add_argv(cadence_redis_batch *b, int argc, const char **argv,
                                 const size_t *argvlen)
{
    struct cmd *c = b ? batch_slot(b) : NULL;
    if (!c || cmd_format(c, argc, argv, argvlen) != 0)
        return -1;
    b->n++;
    return 0;
}

int cadence_redis_batch_add_evalsha(cadence_redis_batch *b, const cadence_redis_script *s,
                                    int numkeys, int argc, const char **argv, const size_t *argvlen)
{
    struct cmd *c = b ? batch_slot(b) : NULL;
    if (!c || cmd_format_evalsha(c, s, numkeys, argc, argv, argvlen) != 0)
        return -1;
    b->n++;
    return 0;
}

size_t cadence_redis_batch_size(const cadence_redis_batch *b)
{
    return b ? b->n : 0;
}

enum cadence_redis_status cadence_redis_batch_send(cadence_redis *r, cadence_redis_batch *b,
                                                   cadence_redis_cb cb, void *arg)
{
    if (!b || b->n == 0)
        return CADENCE_REDIS_INVALID;
    enum cadence_redis_status st = submit(r, b->cmds, b->n, 1, 0, cb, arg);
    if (st == CADENCE_REDIS_OK)
        b->n = 0; /* the commands now belong to the client */
    return st;
}
