/*
 * pipeline — see pipeline.h for the steps. State of one batch lives in `struct batch`; every
 * asynchronous step counts its outstanding replies and moves on when the count reaches zero.
 */
#include "pipeline.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/clock.h"
#include "base/json_text.h"
#include "store/keys.h"
#include "store/apply.h"
#include "store/search.h"
#include "store/reads.h"
#include "store/queue.h"
#include "store/writes.h"
#include "dead_letter.h"
#include "kafka/redeliver.h"
#include "lead_cache.h"
#include "core/log.h"
#include "base/topics.h"

enum item_state {
    IT_DLQ,   /* bad input: to the DLQ */
    IT_SKIP,  /* nothing to do (unknown visitor) */
    IT_APPLY, /* to be applied */
    IT_DONE,  /* applied (or found applied before) */
};

struct lead {
    char lead_id[CADENCE_ID_SIZE];
    uint32_t shard;
    long version;           /* version the next event of this lead expects */
    int has_state;          /* st holds a state (read from Redis or computed) */
    cadence_lead_state *st; /* owned */
    int stale;              /* must be read again (new batch, conflict or Redis failure) */
    int uncacheable;        /* st may not be what Redis holds at `version`: not cached */
    /* This compute pass: the event (borrowed) of the lead's last computed apply, sent with the
     * next one's so that Redis refuses that one unless it was applied (store/apply.h). */
    const char *chain_event_id;
};

/* One output message as text: what the outbox records and the producer sends. All owned. */
struct out_text {
    char *topic, *key, *value;
};

struct item {
    rd_kafka_message_t *msg; /* owned by the batch */
    const cadence_topic *topic;
    enum item_state state;
    char *error;       /* IT_DLQ: the reason (owned) */
    json_t *doc;       /* the parsed event (owned) */
    cadence_event *ev; /* owned */
    struct lead *lead;
    /* computed per attempt */
    int computed;
    int check_only; /* the engine saw a replay: only look the event up */
    long expected_version;
    const char *after_event_id; /* borrowed: the apply this one is chained to (NULL: none) */
    char *state_json;           /* owned */
    cadence_outputs outs;
    struct out_text *made; /* this attempt's outputs as text (owned; built by send_apply) */
    size_t n_made;
    struct out_text *emit; /* outputs to produce (owned): `made` once applied, or the outbox
                              recorded by an earlier apply of the same event */
    size_t n_emit;
    int fresh;    /* emit comes from this apply (not a replay): counts alerts */
    int replayed; /* found applied before: its side writes come from the stored state */
    int unqueued; /* the task this event dropped was never handed to a rep: no queue to fix */
};

struct batch {
    worker_pipeline *p;
    struct item *items;
    size_t n;
    size_t *order;      /* item indices by occurred_at (stable): the engine's order */
    struct lead *leads; /* distinct leads of the batch */
    size_t n_leads;
    GHashTable *lead_index; /* lead_id (the lead's own) → struct lead * (borrowed) */
    int outstanding;        /* replies or deliveries pending in the current step */
    int failed;             /* a Redis step failed: retry */
    int attempts;           /* retries so far (for backoff) */
    int delivered;          /* produce stage: every output acknowledged */
    int applied;            /* Redis stage done: waits for the older batch to leave first */
    int busy;               /* a Redis-stage round (or its retry) is under way */
    struct event *retry_ev; /* the backoff timer of a retry (owned) */
    int64_t started_ns;     /* monotonic */
    struct batch *next;     /* the produce-stage queue */
};

struct worker_pipeline {
    worker_deps d;
    const cadence_redis_script *apply;
    cadence_store_search *search; /* the reps' lead search index (side write of lead events) */
    cadence_tzcache *tz;
    worker_lead_cache *cache;
    cadence_redeliver *out; /* produces outputs and dead letters until Kafka has them */
    /* Lead-state buffers (sizeof(cadence_lead_state) each) kept for the next batches. */
    cadence_lead_state **spare;
    size_t n_spare, spare_cap;
    /* The Redis stage (read, engine, apply) holds up to two batches. The younger one applies
     * events of leads the older one does not hold, so its work overlaps the older one's wait
     * for Redis; its events of the older batch's leads, and its visits still to be resolved by
     * email, wait until the older batch has left the stage (they then see its writes). */
    struct batch *older, *younger;
    /* Batches whose outputs are being delivered, oldest first: their offsets are stored in
     * this order, each once its own outputs and every older batch's are acknowledged. */
    struct batch *prod_head, *prod_tail;
    size_t n_producing;
    struct event *kick_ev;
    void (*drain_done)(void *);
    void *drain_arg;
    int draining;
    int closing; /* shutting down: late callbacks do nothing */
    rd_kafka_message_t **take_buf;
};

static const double batch_size_buckets[] = {1, 5, 10, 50, 100, 250, 500, 1000};
static const double seconds_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                         0.05,   0.1,   0.25,   0.5,   1,    2.5};

static void step_read(struct batch *b);
static void step_apply(struct batch *b);
static void send_side_writes(struct batch *b, struct item *it);
static void step_produce(struct batch *b);
static void finish_delivered(worker_pipeline *p);

/* ---------------------------------------------------------------- helpers */

static void count_event(worker_pipeline *p, const char *topic, const char *result)
{
    char labels[128];
    snprintf(labels, sizeof(labels), "topic=\"%s\",result=\"%s\"", topic, result);
    cadence_metrics_add(p->d.metrics, "cadence_worker_events_total", labels, 1);
}

static void out_texts_free(struct out_text *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(a[i].topic);
        free(a[i].key);
        free(a[i].value);
    }
    free(a);
}

static void item_reset_compute(struct item *it)
{
    free(it->state_json);
    it->state_json = NULL;
    out_texts_free(it->made, it->n_made);
    it->made = NULL;
    it->n_made = 0;
    cadence_outputs_reset(&it->outs);
    it->computed = 0;
    it->check_only = 0;
}

static void batch_free(struct batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++) {
        struct item *it = &b->items[i];
        if (it->msg)
            rd_kafka_message_destroy(it->msg);
        free(it->error);
        json_decref(it->doc);
        free(it->ev);
        item_reset_compute(it);
        out_texts_free(it->emit, it->n_emit);
    }
    for (size_t i = 0; i < b->n_leads; i++)
        free(b->leads[i].st);
    if (b->lead_index)
        g_hash_table_destroy(b->lead_index);
    if (b->retry_ev)
        event_free(b->retry_ev);
    free(b->items);
    free(b->order);
    free(b->leads);
    free(b);
}

static struct lead *lead_get(struct batch *b, const char *lead_id, uint32_t shards)
{
    struct lead *l = g_hash_table_lookup(b->lead_index, lead_id);
    if (l)
        return l;
    l = &b->leads[b->n_leads++];
    memset(l, 0, sizeof(*l));
    snprintf(l->lead_id, sizeof(l->lead_id), "%s", lead_id);
    l->shard = cadence_keys_shard(lead_id, shards);
    l->stale = 1;
    g_hash_table_insert(b->lead_index, l->lead_id, l);
    return l;
}

/* A lead-state buffer: a spare one, or a new allocation. */
static cadence_lead_state *state_buffer(worker_pipeline *p)
{
    if (p->n_spare > 0)
        return p->spare[--p->n_spare];
    cadence_lead_state *st = malloc(sizeof(*st));
    if (!st) {
        cadence_log_json(CADENCE_LOG_ERROR, "out of memory", NULL);
        abort();
    }
    return st;
}

/* Takes back the state buffers of a batch's leads (kept for later batches, up to a bound). */
static void release_states(worker_pipeline *p, struct batch *b)
{
    for (size_t i = 0; i < b->n_leads; i++) {
        if (!b->leads[i].st)
            continue;
        if (p->n_spare < p->spare_cap)
            p->spare[p->n_spare++] = b->leads[i].st;
        else
            free(b->leads[i].st);
        b->leads[i].st = NULL;
    }
}

static void set_dlq(struct item *it, const char *why)
{
    free(it->error);
    it->error = strdup(why);
    it->state = IT_DLQ;
}

/* A Redis step failed: hold the consumer and retry from the state read after a backoff. */
static void schedule_retry(struct batch *b, const char *why)
{
    worker_pipeline *p = b->p;
    b->attempts++;
    long delay = 100L << (b->attempts < 6 ? b->attempts - 1 : 5); /* 100 ms … 3.2 s */
    if (delay > 5000)
        delay = 5000;
    worker_consumer_hold(p->d.consumer, 1);
    cadence_log_json(
        CADENCE_LOG_WARN, "batch held; retrying",
        json_pack("{s:s,s:i,s:i}", "reason", why, "attempt", b->attempts, "delay_ms", (int)delay));
    cadence_metrics_add(p->d.metrics, "cadence_worker_retries_total", NULL, 1);
    /* Some applies may have happened without our hearing of it: Redis decides again. */
    for (size_t i = 0; i < b->n_leads; i++) {
        b->leads[i].stale = 1;
        worker_lead_cache_drop(p->cache, b->leads[i].lead_id);
    }
    struct timeval tv = {delay / 1000, (delay % 1000) * 1000};
    event_add(b->retry_ev, &tv);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    step_read(arg);
}

/* True when lead `l` (NULL: not resolved yet) of batch `b` must wait for the older batch to
 * leave the Redis stage: `b` is the younger batch and the older one holds the lead, or may be
 * about to index the email of an unresolved visit. */
static int lead_blocked(const struct batch *b, const struct lead *l)
{
    const struct batch *older = b->p->older;
    if (!older || older == b)
        return 0;
    return !l || g_hash_table_contains(older->lead_index, l->lead_id);
}

static int blocked(const struct batch *b, const struct item *it)
{
    return lead_blocked(b, it->lead);
}

/* ---------------------------------------------------------------- 1. take and validate */

static void validate_item(worker_pipeline *p, struct item *it)
{
    const rd_kafka_message_t *m = it->msg;
    const char *topic = rd_kafka_topic_name(m->rkt);
    it->topic = cadence_topic_find(topic);
    char err[1024];
    if (!it->topic || !it->topic->is_input) {
        snprintf(err, sizeof(err), "unexpected topic %s", topic);
        set_dlq(it, err);
        return;
    }
    enum cadence_schema_status st =
        cadence_schemas_check(p->d.schemas, topic, m->payload ? (const char *)m->payload : "",
                              m->len, WORKER_MAX_EVENT_BYTES, &it->doc, err, sizeof(err));
    if (st != CADENCE_SCHEMA_OK) {
        set_dlq(it, err);
        return;
    }
    it->ev = calloc(1, sizeof(*it->ev));
    if (!it->ev || cadence_event_from_json(it->doc, it->ev, err, sizeof(err)) != 0) {
        set_dlq(it, it->ev ? err : "out of memory");
        return;
    }
    /* the broker's timestamp is the engine's "now" for freshness (the engine reads no clock) */
    it->ev->received_at = rd_kafka_message_timestamp(m, NULL);
    if (strcmp(cadence_event_type_name(it->ev->type), it->topic->event_type) != 0) {
        snprintf(err, sizeof(err), "/type: a %s event on topic %s",
                 cadence_event_type_name(it->ev->type), topic);
        set_dlq(it, err);
        return;
    }
    /* A visit to a page that is not hot is no fact of the cadence (the engine would only note
     * it, and it does not move the lead's clock): acknowledged with no Redis call at all, the
     * cheapest event there is. */
    if (cadence_engine_visit_is_noise(p->d.playbook, it->ev)) {
        it->state = IT_SKIP;
        count_event(p, topic, "ignored");
        return;
    }
    it->state = IT_APPLY;
}

struct timed {
    int64_t at;
    size_t index;
};

/* By time, then by poll position: a stable order. */
static int by_time(const void *a, const void *b)
{
    const struct timed *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index ? 1 : 0;
}

static struct batch *batch_take(worker_pipeline *p)
{
    size_t max = (size_t)p->d.cfg->batch_max;
    size_t n = worker_consumer_take(p->d.consumer, p->take_buf, max);
    if (n == 0)
        return NULL;
    struct batch *b = calloc(1, sizeof(*b));
    b->items = calloc(n, sizeof(*b->items));
    b->leads = calloc(n, sizeof(*b->leads));
    b->lead_index = g_hash_table_new(g_str_hash, g_str_equal);
    b->p = p;
    b->retry_ev = evtimer_new(p->d.base, on_retry, b);
    if (!b || !b->items || !b->leads || !b->retry_ev) {
        cadence_log_json(CADENCE_LOG_ERROR, "out of memory taking a batch", NULL);
        abort();
    }
    b->n = n;
    b->started_ns = cadence_clock_mono_ns();
    int64_t now_ms = cadence_clock_now_ms();
    for (size_t i = 0; i < n; i++) {
        b->items[i].msg = p->take_buf[i];
        cadence_outputs_init(&b->items[i].outs);
        validate_item(p, &b->items[i]);
        int64_t ts = rd_kafka_message_timestamp(b->items[i].msg, NULL);
        if (ts > 0 && now_ms >= ts)
            cadence_metrics_observe(p->d.metrics, "cadence_worker_queue_seconds", NULL,
                                    (double)(now_ms - ts) / 1000.0);
    }
    /* Events of one lead are applied in the order they happened, not the order they were
     * polled in (they come from different topics and partitions): the engine then sees time
     * order whenever a batch holds the whole story, e.g. when catching up on a backlog. */
    b->order = malloc(n * sizeof(*b->order));
    struct timed *t = malloc(n * sizeof(*t));
    if (!b->order || !t)
        abort();
    for (size_t i = 0; i < n; i++)
        t[i] = (struct timed){b->items[i].ev ? b->items[i].ev->occurred_at : 0, i};
    qsort(t, n, sizeof(*t), by_time);
    for (size_t i = 0; i < n; i++)
        b->order[i] = t[i].index;
    free(t);
    cadence_metrics_observe(p->d.metrics, "cadence_worker_batch_size", NULL, (double)n);
    return b;
}

/* ---------------------------------------------------------------- 2. resolve emails */

/*
 * A pipelined lookup in flight (email index, lead states): the batch, and the items or leads
 * its replies belong to, in order. Owned by the lookup; freed by lookup_free.
 */
struct lookup_ctx {
    struct batch *b;
    void **targets;
    size_t n;
};

static struct lookup_ctx *lookup_new(struct batch *b, size_t cap)
{
    struct lookup_ctx *ctx = calloc(1, sizeof(*ctx));
    if (ctx)
        ctx->targets = calloc(cap ? cap : 1, sizeof(void *));
    if (!ctx || !ctx->targets)
        abort();
    ctx->b = b;
    return ctx;
}

static void lookup_free(struct lookup_ctx *ctx)
{
    free(ctx->targets);
    free(ctx);
}

/*
 * True when the read answered (`error` NULL). Otherwise frees the lookup, and (unless the
 * pipeline is shutting down) holds the batch for a retry from the state read.
 */
static int lookup_ok(struct lookup_ctx *ctx, const char *error)
{
    struct batch *b = ctx->b;
    if (!b->p->closing && !error)
        return 1;
    lookup_free(ctx);
    if (!b->p->closing)
        schedule_retry(b, error);
    return 0;
}

static void assign_leads(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        struct item *it = &b->items[i];
        if (it->state == IT_APPLY && !it->lead && it->ev->lead_id[0])
            it->lead = lead_get(b, it->ev->lead_id, (uint32_t)b->p->d.cfg->shards);
    }
}

static void on_emails(const cadence_store_email_link *links, size_t n, const char *error, void *arg)
{
    (void)n;
    struct lookup_ctx *ctx = arg;
    struct batch *b = ctx->b;
    worker_pipeline *p = b->p;
    /* On failure the retry starts at the state read, which resolves emails again. */
    if (!lookup_ok(ctx, error))
        return;
    for (size_t i = 0; i < ctx->n; i++) {
        struct item *it = ctx->targets[i];
        const cadence_store_email_link *e = &links[i];
        if (e->lead_id && e->len < CADENCE_ID_SIZE) {
            memcpy(it->ev->lead_id, e->lead_id, e->len);
            it->ev->lead_id[e->len] = '\0';
        } else {
            it->state = IT_SKIP;
            count_event(p, it->topic->name, "unknown_visitor");
            cadence_metrics_add(p->d.metrics, "cadence_worker_unknown_visitors_total", NULL, 1);
        }
    }
    lookup_free(ctx);
    assign_leads(b);
    step_read(b);
}

/* Sends the email lookups of visits without lead_id; returns 1 if any were sent. */
static int resolve_emails(struct batch *b)
{
    worker_pipeline *p = b->p;
    struct lookup_ctx *ctx = lookup_new(b, b->n);
    const char **emails = calloc(b->n ? b->n : 1, sizeof(*emails));
    if (!emails)
        abort();
    for (size_t i = 0; i < b->n; i++) {
        struct item *it = &b->items[i];
        if (it->state != IT_APPLY || !it->ev || it->lead || it->ev->lead_id[0])
            continue;
        /* A lead event in this same batch may carry the email (its index write comes later);
         * the engine orders the two by occurred_at. */
        for (size_t j = 0; j < b->n; j++) {
            const struct item *l = &b->items[j];
            if (l->state != IT_DLQ && l->ev && l->ev->type == CADENCE_EVENT_LEAD &&
                g_ascii_strcasecmp(l->ev->email, it->ev->email) == 0) {
                snprintf(it->ev->lead_id, sizeof(it->ev->lead_id), "%s", l->ev->lead_id);
                break;
            }
        }
        if (it->ev->lead_id[0])
            continue;
        emails[ctx->n] = it->ev->email;
        ctx->targets[ctx->n++] = it;
    }
    if (ctx->n == 0) {
        free(emails);
        lookup_free(ctx);
        return 0;
    }
    enum cadence_redis_status st = cadence_store_find_leads_by_email(
        p->d.redis, emails, ctx->n, (uint32_t)p->d.cfg->shards, on_emails, ctx);
    free(emails);
    if (st != CADENCE_REDIS_OK) {
        lookup_free(ctx);
        schedule_retry(b, cadence_redis_status_name(st));
    }
    return 1;
}

/* ---------------------------------------------------------------- 3. read states */

static void compute(struct batch *b);

/* Everything not yet applied for lead `l` is computed again from the state just restored. */
static void recompute_lead(struct batch *b, const struct lead *l)
{
    for (size_t j = 0; j < b->n; j++)
        if (b->items[j].lead == l && b->items[j].state == IT_APPLY)
            b->items[j].computed = 0;
}

static void on_states(const cadence_store_lead *leads, size_t n, const char *error, void *arg)
{
    (void)n;
    struct lookup_ctx *ctx = arg;
    struct batch *b = ctx->b;
    if (!lookup_ok(ctx, error))
        return;
    for (size_t i = 0; i < ctx->n; i++) {
        struct lead *l = ctx->targets[i];
        l->version = 0;
        l->has_state = 0;
        if (leads[i].found) {
            l->version = leads[i].version;
            char err[256];
            if (cadence_lead_state_from_json(leads[i].state, l->st, err, sizeof(err)) == 0) {
                l->has_state = 1;
            } else {
                /* A state we cannot read is a bug or a foreign write: stop, don't overwrite. */
                cadence_log_json(CADENCE_LOG_ERROR, "unreadable lead state in Redis",
                                 json_pack("{s:s,s:s}", "lead_id", l->lead_id, "error", err));
                lookup_free(ctx);
                schedule_retry(b, "unreadable lead state");
                return;
            }
        }
        l->stale = 0;
        recompute_lead(b, l);
    }
    lookup_free(ctx);
    compute(b);
    step_apply(b);
}

/* One round of the Redis stage: resolve emails, read (or restore) stale states, compute,
 * apply. The batch is busy until the round ends (apply_done_one). */
static void step_read(struct batch *b)
{
    worker_pipeline *p = b->p;
    b->busy = 1;
    /* Visits known only by email are resolved first (again, after a retry). */
    int unresolved = 0;
    for (size_t i = 0; i < b->n; i++)
        if (b->items[i].state == IT_APPLY && !b->items[i].lead && !blocked(b, &b->items[i]))
            unresolved = 1;
    if (unresolved && resolve_emails(b))
        return;
    assign_leads(b);

    struct lookup_ctx *ctx = lookup_new(b, b->n_leads);
    cadence_store_lead_ref *refs = calloc(b->n_leads ? b->n_leads : 1, sizeof(*refs));
    if (!refs)
        abort();
    for (size_t i = 0; i < b->n_leads; i++) {
        struct lead *l = &b->leads[i];
        if (!l->stale || lead_blocked(b, l))
            continue;
        int needed = 0;
        for (size_t j = 0; j < b->n && !needed; j++)
            if (b->items[j].state == IT_APPLY && b->items[j].lead == l)
                needed = 1;
        if (!needed)
            continue;
        if (!l->st)
            l->st = state_buffer(p);
        if (worker_lead_cache_get(p->cache, l->lead_id, &l->version, l->st)) {
            l->has_state = 1;
            l->stale = 0;
            cadence_metrics_add(p->d.metrics, "cadence_worker_lead_cache_total", "result=\"hit\"",
                                1);
            recompute_lead(b, l);
            continue;
        }
        cadence_metrics_add(p->d.metrics, "cadence_worker_lead_cache_total", "result=\"miss\"", 1);
        refs[ctx->n] = (cadence_store_lead_ref){l->shard, l->lead_id};
        ctx->targets[ctx->n++] = l;
    }
    if (ctx->n == 0) {
        free(refs);
        lookup_free(ctx);
        compute(b);
        step_apply(b);
        return;
    }
    enum cadence_redis_status st =
        cadence_store_read_leads(p->d.redis, refs, ctx->n, on_states, ctx);
    free(refs);
    if (st != CADENCE_REDIS_OK) {
        lookup_free(ctx);
        schedule_retry(b, cadence_redis_status_name(st));
    }
}

/* ---------------------------------------------------------------- 4. engine */

static void compute(struct batch *b)
{
    worker_pipeline *p = b->p;
    /* A pass starts from states Redis confirmed (read, cached or applied by us). */
    for (size_t i = 0; i < b->n_leads; i++)
        b->leads[i].chain_event_id = NULL;
    for (size_t k = 0; k < b->n; k++) {
        struct item *it = &b->items[b->order[k]];
        /* Not yet: an unresolved visit, a lead behind a conflict, or a lead the older batch
         * holds. */
        if (it->state != IT_APPLY || it->computed || !it->lead || it->lead->stale || blocked(b, it))
            continue;
        struct lead *l = it->lead;
        item_reset_compute(it);
        if (!l->has_state)
            cadence_lead_state_init(l->st, l->lead_id);
        cadence_engine_status st = cadence_engine_apply(l->has_state ? l->st : NULL, it->ev,
                                                        p->d.playbook, p->tz, l->st, &it->outs);
        it->computed = 1;
        if (st == CADENCE_ENGINE_ERROR) {
            l->uncacheable = 1;
            set_dlq(it, "the engine refused the event (see the worker log)");
            continue;
        }
        if (st == CADENCE_ENGINE_DUPLICATE) {
            it->check_only = 1;
            continue;
        }
        l->has_state = 1;
        it->expected_version = l->version++;
        it->after_event_id = l->chain_event_id;
        l->chain_event_id = it->ev->event_id;
        it->state_json = cadence_lead_state_to_json(l->st);
        if (!it->state_json) {
            cadence_log_json(CADENCE_LOG_ERROR, "out of memory serialising a state", NULL);
            abort();
        }
    }
}

/* ---------------------------------------------------------------- 5. apply */

static char *dup_or_die(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d)
        abort();
    return d;
}

/* The engine's outputs as text, each value serialised once (for the outbox and the producer). */
static struct out_text *outputs_text(const cadence_outputs *o, size_t *n)
{
    struct out_text *a = calloc(o->n_messages ? o->n_messages : 1, sizeof(struct out_text));
    if (!a)
        abort();
    for (size_t i = 0; i < o->n_messages; i++) {
        a[i].topic = dup_or_die(o->messages[i].topic);
        a[i].key = dup_or_die(o->messages[i].key);
        a[i].value = json_dumps(o->messages[i].value, JSON_COMPACT);
        if (!a[i].value)
            abort();
    }
    *n = o->n_messages;
    return a;
}

/* The outbox record: [{"topic":..,"key":..,"value":{..}},...] from texts. Caller frees. */
static char *outbox_text(const struct out_text *a, size_t n)
{
    GString *out = g_string_sized_new(256);
    g_string_append_c(out, '[');
    for (size_t i = 0; i < n; i++) {
        g_string_append(out, i ? ",{\"topic\":" : "{\"topic\":");
        /* topic names and lead ids are ASCII (the schemas' id pattern): always valid */
        (void)cadence_json_text_string(out, a[i].topic);
        g_string_append(out, ",\"key\":");
        (void)cadence_json_text_string(out, a[i].key);
        g_string_append(out, ",\"value\":");
        g_string_append(out, a[i].value);
        g_string_append_c(out, '}');
    }
    g_string_append_c(out, ']');
    char *text = cadence_json_text_steal(out);
    if (!text)
        abort();
    return text;
}

/* The outputs recorded by an earlier apply of the same event (a replay). */
static struct out_text *outbox_parse(const char *text, size_t len, size_t *n)
{
    json_error_t je;
    json_t *arr = json_loadb(text, len, 0, &je);
    size_t cap = json_is_array(arr) ? json_array_size(arr) : 0;
    struct out_text *a = calloc(cap ? cap : 1, sizeof(struct out_text));
    if (!a)
        abort();
    size_t k = 0, i;
    json_t *m;
    json_array_foreach(arr, i, m)
    {
        const char *topic = json_string_value(json_object_get(m, "topic"));
        json_t *value = json_object_get(m, "value");
        if (!topic || !value)
            continue;
        a[k].topic = dup_or_die(topic);
        const char *key = json_string_value(json_object_get(m, "key"));
        a[k].key = key ? dup_or_die(key) : NULL;
        a[k].value = json_dumps(value, JSON_COMPACT);
        if (!a[k].value)
            abort();
        k++;
    }
    json_decref(arr);
    *n = k;
    return a;
}

struct apply_ctx {
    struct batch *b;
    struct item *it;
};

/* The batch's Redis work is done. The older batch moves on to the produce stage; the younger
 * one waits for it (offsets are stored in batch order). */
static void stage_done(struct batch *b)
{
    if (b == b->p->older)
        step_produce(b);
    else
        b->applied = 1;
}

static void apply_done_one(struct batch *b)
{
    if (--b->outstanding > 0)
        return;
    int pending = 0, waiting = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (b->items[i].state != IT_APPLY)
            continue;
        if (blocked(b, &b->items[i]))
            waiting = 1;
        else
            pending = 1;
    }
    if (b->failed) {
        b->failed = 0;
        schedule_retry(b, "redis apply failed");
    } else if (pending) {
        step_read(b); /* version conflicts: re-read those leads and recompute */
    } else {
        b->busy = 0;
        if (!waiting) /* else the older batch resumes this one when it leaves */
            stage_done(b);
    }
}

static void on_applied(const cadence_store_apply_result *res, void *arg)
{
    struct apply_ctx *ctx = arg;
    struct batch *b = ctx->b;
    worker_pipeline *p = b->p;
    struct item *it = ctx->it;
    free(ctx);
    if (p->closing)
        return;
    if (res->verdict == CADENCE_STORE_FAILED) {
        if (res->script_error)
            cadence_log_json(
                CADENCE_LOG_ERROR, "apply script error",
                json_pack("{s:s,s:s}", "error", res->error, "event_id", it->ev->event_id));
        b->failed = 1;
        apply_done_one(b);
        return;
    }
    out_texts_free(it->emit, it->n_emit);
    it->emit = NULL;
    it->n_emit = 0;
    it->fresh = 0;
    it->unqueued = 0;
    /* found applied before: by the store (its watermark or outbox), or by the engine (the id is
     * in the state's ring: a check, which the store answers "not applied" once the outbox is
     * gone) */
    it->replayed =
        res->verdict == CADENCE_STORE_DUPLICATE || res->verdict == CADENCE_STORE_NOT_APPLIED;
    if (res->verdict == CADENCE_STORE_APPLIED) {
        it->unqueued = res->unqueued;
        it->emit = it->made; /* what the outbox now records */
        it->n_emit = it->n_made;
        it->made = NULL;
        it->n_made = 0;
        it->fresh = 1;
        it->state = IT_DONE;
        count_event(p, it->topic->name, "applied");
    } else if (res->verdict == CADENCE_STORE_DUPLICATE) {
        /* Applied before, though the engine did not know it: what we computed is not what
         * Redis holds (later events of this lead conflict and re-read). */
        it->lead->uncacheable = 1;
        it->emit = outbox_parse(res->outbox, res->outbox_len, &it->n_emit);
        it->state = IT_DONE;
        count_event(p, it->topic->name, "duplicate");
    } else if (res->verdict == CADENCE_STORE_NOT_APPLIED) {
        it->state = IT_DONE;
        count_event(p, it->topic->name, "duplicate");
    } else { /* conflict: this lead changed under us */
        it->lead->stale = 1;
        worker_lead_cache_drop(p->cache, it->lead->lead_id);
        it->computed = 0;
        cadence_metrics_add(p->d.metrics, "cadence_worker_conflicts_total", NULL, 1);
    }
    if (it->state == IT_DONE)
        send_side_writes(b, it);
    apply_done_one(b);
}

/* A side write failed: the item is applied again (the lead's dedupe makes that a replay,
 * which sends the side writes again). */
static void redo_item(struct batch *b, struct item *it)
{
    it->state = IT_APPLY;
    it->computed = 0;
    it->lead->stale = 1;
    b->failed = 1;
}

static void on_side_write(const char *error, void *arg)
{
    struct apply_ctx *ctx = arg;
    struct batch *b = ctx->b;
    struct item *it = ctx->it;
    free(ctx);
    if (b->p->closing)
        return;
    if (error)
        redo_item(b, it);
    apply_done_one(b);
}

static struct apply_ctx *side_ctx(struct batch *b, struct item *it)
{
    struct apply_ctx *ctx = malloc(sizeof(*ctx));
    ctx->b = b;
    ctx->it = it;
    return ctx;
}

/* Counts a sent side write, or redoes the item when it could not be sent. */
static void side_sent(struct batch *b, struct item *it, struct apply_ctx *ctx,
                      enum cadence_redis_status st)
{
    if (st == CADENCE_REDIS_OK) {
        b->outstanding++;
    } else {
        free(ctx);
        redo_item(b, it);
    }
}

/*
 * Writes outside the lead's slot, after its apply (or its replay), all idempotent: the email
 * index (visits that carry only an email find the lead), the rep's lead search index (lead
 * events: store/search.h) and the removal of a replaced task
 * from its rep's queue and task hash (kept by the scheduler).
 */
static void send_side_writes(struct batch *b, struct item *it)
{
    cadence_redis *r = b->p->d.redis;
    const char *email = cadence_lead_state_email(it->lead->st);
    if (it->ev->type == CADENCE_EVENT_LEAD && email && *email) {
        struct apply_ctx *ctx = side_ctx(b, it);
        side_sent(b, it, ctx,
                  cadence_store_link_email(r, email, (uint32_t)b->p->d.cfg->shards,
                                           it->lead->lead_id, on_side_write, ctx));
    }
    const char *rep = cadence_lead_state_rep_id(it->lead->st);
    if (it->ev->type == CADENCE_EVENT_LEAD && rep && *rep) {
        /* the rep finds the lead by name, company, email or id (store/search.h) */
        const cadence_lead_state *st = it->lead->st;
        cadence_store_lead_card card = {.lead_id = it->lead->lead_id,
                                        .rep_id = rep,
                                        .first_name = st->first_name,
                                        .last_name = st->last_name,
                                        .company = st->company,
                                        .email = st->email};
        struct apply_ctx *ctx = side_ctx(b, it);
        side_sent(b, it, ctx, cadence_store_index_lead(b->p->search, &card, on_side_write, ctx));
    }
    /* A task still in the due set when this event dropped it was never claimed, so it is in
     * no rep's queue (the scheduler queues a task only once it has published it). An event
     * found applied before (a redelivery, or this item again after a side write failed) has
     * no outputs of its own: the task the lead last dropped is taken out again, in case the
     * first removal was lost (idempotent; a dropped task belongs in no queue). */
    const char *dropped = it->outs.cancelled_task_id[0] && !it->unqueued
                              ? it->outs.cancelled_task_id
                          : it->replayed ? cadence_lead_state_dropped_task_id(it->lead->st)
                                         : "";
    if (it->state == IT_DONE && dropped[0] && rep && *rep) {
        struct apply_ctx *ctx = side_ctx(b, it);
        side_sent(b, it, ctx, cadence_store_unqueue_task(r, rep, dropped, on_side_write, ctx));
    }
}

/* True when `o` came from the same topic and partition as `it` and is (or may be, when not
 * yet resolved by email) of the same lead. */
static int same_source(const struct item *it, const struct item *o)
{
    return (!o->lead || o->lead == it->lead) && o->topic == it->topic &&
           o->msg->partition == it->msg->partition;
}

/*
 * The source watermark an apply of the item at position `k` of the engine's order may set:
 * an offset such that every event of its lead from its topic and partition up to it is
 * applied once this one is. The lead's events ordered before it are (a version chain), and so
 * are those of older batches; one ordered after it, or a visit not yet resolved by email (here
 * or in the older batch), is not: the floor stays below its offset.
 */
static int64_t source_floor(const struct batch *b, size_t k)
{
    const struct item *it = &b->items[b->order[k]];
    int64_t done = it->msg->offset, pending = INT64_MAX;
    for (size_t j = 0; j < b->n; j++) {
        const struct item *o = &b->items[b->order[j]];
        if (j == k || !same_source(it, o))
            continue;
        int before = j < k;
        if (before && o->lead && (o->state == IT_APPLY || o->state == IT_DONE))
            done = o->msg->offset > done ? o->msg->offset : done;
        else if ((!before || !o->lead) && o->state == IT_APPLY && o->msg->offset < pending)
            pending = o->msg->offset;
    }
    const struct batch *older = b->p->older;
    for (size_t j = 0; older && older != b && j < older->n; j++) {
        const struct item *o = &older->items[j];
        if (!o->lead && o->state == IT_APPLY && same_source(it, o) && o->msg->offset < pending)
            pending = o->msg->offset;
    }
    return pending <= done ? pending - 1 : done;
}

static enum cadence_redis_status send_apply(struct batch *b, size_t k)
{
    struct item *it = &b->items[b->order[k]];
    worker_pipeline *p = b->p;
    const cadence_outputs *o = &it->outs;
    out_texts_free(it->made, it->n_made);
    it->made = outputs_text(o, &it->n_made);
    char *outbox = outbox_text(it->made, it->n_made);
    char *touch_text = o->touch ? json_dumps(o->touch, JSON_COMPACT) : NULL;
    char *timeline_text = o->timeline ? json_dumps(o->timeline, JSON_COMPACT) : NULL;
    cadence_store_counter counters[CADENCE_OUTPUTS_MAX_COUNTERS];
    for (size_t i = 0; i < o->n_counters; i++)
        counters[i] =
            (cadence_store_counter){o->counters[i].name, o->counters[i].delta, o->counters[i].rep};
    cadence_store_apply_args a = {
        .shard = it->lead->shard,
        .lead_id = it->lead->lead_id,
        .event_id = it->ev->event_id,
        .source_topic = it->topic->name,
        .source_partition = it->msg->partition,
        .source_offset = it->msg->offset,
        .source_floor = source_floor(b, k),
        .check_only = it->check_only,
        .expected_version = it->expected_version,
        .after_event_id = it->after_event_id,
        .state_json = it->state_json,
        .outbox = outbox,
        .touch = o->touch_action == CADENCE_TOUCH_SET      ? CADENCE_STORE_TOUCH_SET
                 : o->touch_action == CADENCE_TOUCH_CANCEL ? CADENCE_STORE_TOUCH_CANCEL
                                                           : CADENCE_STORE_TOUCH_KEEP,
        .drop_task_id = o->cancelled_task_id,
        .task_id = o->task_id,
        .task_due_ms = o->due_at,
        .task_json = touch_text,
        .timeline_json = timeline_text,
        .counters = counters,
        .n_counters = o->n_counters,
        .stats_day = o->stats_day,
        .stats_retention_days = p->d.cfg->stats_retention_days,
    };
    struct apply_ctx *ctx = malloc(sizeof(*ctx));
    ctx->b = b;
    ctx->it = it;
    enum cadence_redis_status st = cadence_store_apply(p->d.redis, p->apply, &a, on_applied, ctx);
    if (st != CADENCE_REDIS_OK)
        free(ctx);
    free(outbox);
    free(touch_text);
    free(timeline_text);
    return st;
}

static void step_apply(struct batch *b)
{
    b->outstanding = 1; /* held until every command is sent */
    b->failed = 0;
    for (size_t k = 0; k < b->n; k++) {
        struct item *it = &b->items[b->order[k]];
        if (it->state != IT_APPLY || !it->computed)
            continue;
        /* Items of a lead behind a conflict wait for the re-read. */
        if (!it->lead || it->lead->stale || blocked(b, it))
            continue;
        enum cadence_redis_status st = send_apply(b, k);
        if (st != CADENCE_REDIS_OK) {
            b->failed = 1;
            break;
        }
        b->outstanding++;
    }
    apply_done_one(b);
}

/* ---------------------------------------------------------------- 6. produce */

/* One output of batch `b` acknowledged (a purge at shutdown leaves the batch alone). */
static void on_delivered(void *arg, rd_kafka_resp_err_t err)
{
    struct batch *b = arg;
    if (err)
        return; /* purged: shutting down, the batch's offsets are not stored */
    if (--b->outstanding == 0) {
        b->delivered = 1;
        finish_delivered(b->p);
    }
}

/* A delivery failed or was refused: the redeliverer produces it again. */
static void on_redelivery(void *arg, const char *topic, int refused, rd_kafka_resp_err_t err)
{
    (void)arg;
    if (!refused)
        cadence_log_json(CADENCE_LOG_WARN, "output delivery failed; producing again",
                         json_pack("{s:s,s:s}", "topic", topic, "error", rd_kafka_err2str(err)));
}

/* Produces one output of batch `b` (the strings are copied). */
static void produce(worker_pipeline *p, struct batch *b, const char *topic, const char *key,
                    const char *value)
{
    b->outstanding++;
    cadence_redeliver_send(p->out, topic, key, value, strlen(value), on_delivered, b);
}

/* Counts the alerts among an applied event's outputs (the engine's, not a replay's). */
static void count_alerts(worker_pipeline *p, const cadence_outputs *o)
{
    for (size_t i = 0; i < o->n_messages; i++) {
        if (strcmp(o->messages[i].topic, CADENCE_TOPIC_ALERTS) != 0)
            continue;
        const char *reason = json_string_value(json_object_get(o->messages[i].value, "reason"));
        char labels[96];
        snprintf(labels, sizeof(labels), "reason=\"%s\"", reason ? reason : "unknown");
        cadence_metrics_add(p->d.metrics, "cadence_worker_alerts_total", labels, 1);
    }
}

static void step_produce(struct batch *b)
{
    worker_pipeline *p = b->p;
    worker_consumer_hold(p->d.consumer, 0);
    b->attempts = 0;
    b->outstanding = 1;
    /* In the engine's order (each lead's events by occurred_at), so a lead's status changes
     * reach lead-status.v1 in the order they happened, whatever order the topics gave. */
    for (size_t k = 0; k < b->n; k++) {
        struct item *it = &b->items[b->order[k]];
        if (it->state == IT_DLQ) {
            char *key = worker_dead_letter_key(it->msg);
            char *value = worker_dead_letter_json(it->msg, it->error, cadence_clock_now_ms());
            produce(p, b, CADENCE_TOPIC_DLQ, key, value);
            free(key);
            free(value);
            cadence_metrics_add(p->d.metrics, "cadence_worker_dlq_total", NULL, 1);
            count_event(p, it->topic ? it->topic->name : rd_kafka_topic_name(it->msg->rkt), "dlq");
            cadence_log_json(CADENCE_LOG_WARN, "dead-lettered",
                             json_pack("{s:s,s:i,s:I,s:s}", "topic",
                                       rd_kafka_topic_name(it->msg->rkt), "partition",
                                       (int)it->msg->partition, "offset",
                                       (json_int_t)it->msg->offset, "error", it->error));
            continue;
        }
        if (it->state != IT_DONE)
            continue;
        if (it->fresh)
            count_alerts(p, &it->outs);
        for (size_t j = 0; j < it->n_emit; j++)
            produce(p, b, it->emit[j].topic, it->emit[j].key, it->emit[j].value);
    }
    /* Every event is applied: each lead's state is what Redis holds at its version. The
     * Redis stage is free for the next batch; this one waits for its acknowledgements. */
    for (size_t i = 0; i < b->n_leads; i++) {
        const struct lead *l = &b->leads[i];
        if (l->has_state && !l->stale && !l->uncacheable)
            worker_lead_cache_put(p->cache, l->lead_id, l->version, l->st);
        else
            worker_lead_cache_drop(p->cache, l->lead_id);
    }
    cadence_metrics_set(p->d.metrics, "cadence_worker_lead_cache_entries", NULL,
                        (double)worker_lead_cache_count(p->cache));
    release_states(p, b);
    if (p->prod_tail)
        p->prod_tail->next = b;
    else
        p->prod_head = b;
    p->prod_tail = b;
    p->n_producing++;
    if (--b->outstanding == 0)
        b->delivered = 1;
    /* The younger batch becomes the older one: its waiting events now see this batch's
     * writes (in Redis and in the lead cache). */
    struct batch *y = p->younger;
    size_t waited = 0;
    for (size_t i = 0; y && i < y->n; i++)
        if (y->items[i].state == IT_APPLY && blocked(y, &y->items[i]))
            waited++;
    if (waited)
        cadence_metrics_add(p->d.metrics, "cadence_worker_lead_waits_total", NULL, (double)waited);
    p->older = y;
    p->younger = NULL;
    if (y && y->applied)
        step_produce(y);
    else if (y && !y->busy)
        step_read(y);
    finish_delivered(p);
}

/* ---------------------------------------------------------------- 7. offsets */

static void on_forgotten(const char *error, void *arg)
{
    (void)arg;
    if (error) /* the lead keeps the outbox until its later ones push it out: bounded */
        cadence_log_json(CADENCE_LOG_DEBUG, "outboxes not dropped",
                         json_pack("{s:s}", "error", error));
}

/* Kafka acknowledged the batch's outputs: the leads need not keep their outboxes any more. */
static void forget_outboxes(worker_pipeline *p, const struct batch *b)
{
    cadence_store_outbox_ref *refs = malloc((b->n ? b->n : 1) * sizeof(*refs));
    if (!refs)
        abort();
    size_t n = 0;
    for (size_t i = 0; i < b->n; i++) {
        const struct item *it = &b->items[i];
        if (it->state == IT_DONE && it->n_emit > 0 && it->lead)
            refs[n++] =
                (cadence_store_outbox_ref){it->lead->shard, it->lead->lead_id, it->ev->event_id};
    }
    if (n > 0 && !p->closing)
        (void)cadence_store_forget_outboxes(p->d.redis, refs, n, on_forgotten, NULL);
    free(refs);
}

/* Stores the offsets of the oldest produce-stage batches whose outputs are all acknowledged
 * (in batch order: a younger batch never commits past an older one still delivering). */
static void finish_delivered(worker_pipeline *p)
{
    while (p->prod_head && p->prod_head->delivered) {
        struct batch *b = p->prod_head;
        p->prod_head = b->next;
        if (!p->prod_head)
            p->prod_tail = NULL;
        p->n_producing--;
        rd_kafka_message_t **msgs = malloc((b->n ? b->n : 1) * sizeof(rd_kafka_message_t *));
        if (!msgs)
            abort();
        for (size_t i = 0; i < b->n; i++)
            msgs[i] = b->items[i].msg;
        worker_consumer_store(p->d.consumer, msgs, b->n);
        free(msgs);
        forget_outboxes(p, b);
        cadence_metrics_observe(p->d.metrics, "cadence_worker_batch_seconds", NULL,
                                (double)(cadence_clock_mono_ns() - b->started_ns) / 1e9);
        batch_free(b);
    }
    if (p->closing)
        return;
    if (p->draining) {
        if (p->older || p->prod_head)
            return;
        if (p->drain_done) {
            void (*done)(void *) = p->drain_done;
            p->drain_done = NULL;
            done(p->drain_arg);
        }
        return;
    }
    /* Start the next batch from the loop, not from inside a delivery callback. */
    event_active(p->kick_ev, EV_TIMEOUT, 0);
}

/* ---------------------------------------------------------------- public */

void worker_pipeline_kick(worker_pipeline *p)
{
    if (p->younger || p->draining || p->closing || p->n_producing >= WORKER_MAX_PRODUCING)
        return;
    struct batch *b = batch_take(p);
    if (!b)
        return;
    if (!p->older)
        p->older = b;
    else
        p->younger = b;
    step_read(b);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    worker_pipeline_kick(arg);
}

worker_pipeline *worker_pipeline_new(const worker_deps *deps, char *errstr, size_t errstr_size)
{
    worker_pipeline *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    p->d = *deps;
    p->apply = cadence_store_apply_script(deps->redis, errstr, errstr_size);
    p->search = p->apply ? cadence_store_search_new(deps->redis, errstr, errstr_size) : NULL;
    p->tz = cadence_tzcache_new();
    p->kick_ev = evtimer_new(deps->base, on_kick, p);
    p->take_buf = calloc((size_t)deps->cfg->batch_max, sizeof(rd_kafka_message_t *));
    p->cache = worker_lead_cache_new((size_t)deps->cfg->lead_cache_mb << 20);
    /* Refused at once (queue full): again after WORKER_REFUSED_RETRY_MS; failed delivery:
     * again after WORKER_REDELIVER_MS (an output reaches Kafka before offsets are stored). */
    const cadence_redeliver_policy out = {WORKER_REFUSED_RETRY_MS, WORKER_REDELIVER_MS,
                                          on_redelivery};
    p->out = cadence_redeliver_new(deps->base, deps->producer, &out, errstr, errstr_size);
    p->spare_cap = (size_t)deps->cfg->batch_max;
    p->spare = calloc(p->spare_cap, sizeof(cadence_lead_state *));
    if (!p->apply || !p->search || !p->out || !p->kick_ev || !p->take_buf || !p->cache ||
        !p->spare) {
        if (p->apply && p->search && p->out)
            snprintf(errstr, errstr_size, "out of memory");
        worker_pipeline_free(p);
        return NULL;
    }
    cadence_metrics *m = deps->metrics;
    cadence_metrics_declare(m, "cadence_worker_events_total", CADENCE_METRIC_COUNTER,
                            "Input events by topic and result (applied, duplicate, dlq, "
                            "unknown_visitor, ignored: a visit to a page that is not hot)",
                            NULL, 0);
    cadence_metrics_declare(m, "cadence_worker_dlq_total", CADENCE_METRIC_COUNTER,
                            "Events sent to the dead-letter topic", NULL, 0);
    cadence_metrics_declare(m, "cadence_worker_unknown_visitors_total", CADENCE_METRIC_COUNTER,
                            "Site visits whose email matches no lead", NULL, 0);
    cadence_metrics_declare(m, "cadence_worker_alerts_total", CADENCE_METRIC_COUNTER,
                            "Call-now alerts emitted, by reason", NULL, 0);
    cadence_metrics_declare(m, "cadence_worker_conflicts_total", CADENCE_METRIC_COUNTER,
                            "Version conflicts (another worker changed the lead first)", NULL, 0);
    cadence_metrics_declare(m, "cadence_worker_retries_total", CADENCE_METRIC_COUNTER,
                            "Batches held and retried after a Redis failure", NULL, 0);
    cadence_metrics_declare(m, "cadence_worker_lead_cache_total", CADENCE_METRIC_COUNTER,
                            "Lead-state lookups answered from memory (hit) or Redis (miss)", NULL,
                            0);
    cadence_metrics_declare(m, "cadence_worker_lead_waits_total", CADENCE_METRIC_COUNTER,
                            "Events that waited for the older batch to leave the Redis stage "
                            "(their lead was in it, or they were to be resolved by email)",
                            NULL, 0);
    cadence_metrics_declare(m, "cadence_worker_lead_cache_entries", CADENCE_METRIC_GAUGE,
                            "Lead states held in memory", NULL, 0);
    cadence_metrics_declare(m, "cadence_worker_batch_size", CADENCE_METRIC_HISTOGRAM,
                            "Events per batch", batch_size_buckets,
                            sizeof(batch_size_buckets) / sizeof(batch_size_buckets[0]));
    cadence_metrics_declare(m, "cadence_worker_queue_seconds", CADENCE_METRIC_HISTOGRAM,
                            "Time from an event's Kafka timestamp to the start of its batch",
                            seconds_buckets, sizeof(seconds_buckets) / sizeof(seconds_buckets[0]));
    cadence_metrics_declare(m, "cadence_worker_batch_seconds", CADENCE_METRIC_HISTOGRAM,
                            "Batch latency from poll to stored offsets", seconds_buckets,
                            sizeof(seconds_buckets) / sizeof(seconds_buckets[0]));
    return p;
}

void worker_pipeline_drain(worker_pipeline *p, void (*done)(void *arg), void *arg)
{
    p->draining = 1;
    if (!p->older && !p->prod_head) {
        done(arg);
        return;
    }
    p->drain_done = done;
    p->drain_arg = arg;
}

void worker_pipeline_forget_states(worker_pipeline *p)
{
    worker_lead_cache_clear(p->cache);
}

void worker_pipeline_shutdown(worker_pipeline *p)
{
    p->closing = 1;
    if (p->older)
        event_del(p->older->retry_ev);
    if (p->younger)
        event_del(p->younger->retry_ev);
}

int worker_pipeline_busy(const worker_pipeline *p)
{
    return p->older != NULL || p->prod_head != NULL;
}

void worker_pipeline_free(worker_pipeline *p)
{
    if (!p)
        return;
    batch_free(p->older);
    batch_free(p->younger);
    p->older = p->younger = NULL;
    while (p->prod_head) {
        struct batch *b = p->prod_head;
        p->prod_head = b->next;
        batch_free(b);
    }
    p->prod_tail = NULL;
    if (p->kick_ev)
        event_free(p->kick_ev);
    cadence_redeliver_free(p->out);
    cadence_tzcache_free(p->tz);
    cadence_store_search_free(p->search);
    worker_lead_cache_free(p->cache);
    for (size_t i = 0; p->spare && i < p->n_spare; i++)
        free(p->spare[i]);
    free(p->spare);
    free(p->take_buf);
    free(p);
}
