/*
 * scheduler — claim, publish, acknowledge. See scheduler.h for the flow and failure model.
 *
 * A task moves through these steps; a step that cannot be submitted now (Redis busy or down)
 * parks the task on the retry list, served every SCHEDULER_RETRY_MS:
 *
 *   PUBLISH  → produce to touches-due.v1 (kafka/redeliver.h, shared with the worker, sends it
 *              again every SCHEDULER_RETRY_MS while the producer's queue is full); the
 *              delivery report moves it on; a failed delivery leaves it to its lease
 *   ACK      → queued; a flush right after the current callbacks sends the acks of up to
 *              SCHEDULER_ACK_BATCH tasks as one pipelined batch: one queue script per rep
 *              (rep slot), then one ack script per shard (shard slot)
 *   UNQUEUE  → only when the ack found the task cancelled meanwhile
 *
 * A task's queue write goes before its ack on the same connection, so whichever of the scheduler
 * and the worker comes second sees the other's write: a task cancelled before the ack is
 * unqueued by us; one cancelled after it is unqueued by the worker.
 */
#include "scheduler.h"
#include "base/clock.h"

#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/capacity.h"
#include "core/log.h"
#include "plan.h"
#include "kafka/redeliver.h"
#include "store/due.h"
#include "store/queue.h"
#include "base/topics.h"

enum step {
    STEP_PUBLISH,
    STEP_DELIVERING,
    STEP_ACK,
    STEP_ACK_QUEUED,
    STEP_ACKING,
    STEP_UNQUEUE,
    STEP_UNQUEUEING,
    STEP_ADMIT, /* waiting for a place in its rep's day (rep capacity) */
    STEP_ADMITTING,
    STEP_DEFER, /* no place: to be moved to the next business day */
    STEP_DEFERRING
};

struct task {
    scheduler *s;
    char *id;   /* owned; also the key in s->tasks */
    char *json; /* owned: the touch_due as stored */
    size_t len;
    scheduler_task_info info;
    uint32_t shard;
    int64_t lease_ms;      /* our lease deadline (Unix ms), as written by the claim */
    int64_t lease_sent_ms; /* the lease the ack in flight carries */
    int reclaimed;         /* taken over after an expired lease */
    int bad;               /* unreadable: not published, only dropped from the in-flight set */
    enum step step;
    int parked;              /* on the retry list */
    struct task *next;       /* retry list */
    struct task *ack_next;   /* acks waiting for the next flush */
    struct task *admit_next; /* claimed together, waiting for a rep capacity decision */
    scheduler_touch_class cls;
    char *moved_json; /* owned: the task moved for rep capacity (STEP_DEFER) */
    int64_t moved_due;
};

struct scheduler {
    scheduler_deps d;
    uint32_t shards;
    cadence_store_due_scripts scripts;
    cadence_redeliver *out; /* publishes touches (a failed delivery is left to the lease) */
    cadence_store_capacity *capacity; /* NULL: no rep capacity */
    cadence_tzcache *tz;
    long rep_capacity;       /* touches per rep per day (0 = no limit) */
    struct task *admit_head; /* claimed tasks waiting for one capacity decision per sweep */
    size_t n_admit;
    GHashTable *tasks; /* task id → struct task*, every task in flight */
    size_t in_flight;
    uint32_t *pending; /* ring of shards waiting for a claim */
    uint8_t *queued;   /* queued[shard]: in the ring */
    uint32_t pend_head, pend_len;
    int claims_out;
    uint64_t seed, sweeps;
    struct task *retry_head, *retry_tail;
    struct task *ack_head, *ack_tail; /* acks waiting for the next flush */
    struct event *tick_ev, *retry_ev, *flush_ev;
    int retry_armed;
    int stopping, closing;
    char delivery_error[128]; /* the last delivery report's error, "" after a success */
    size_t delivering;        /* messages handed to the producer, not yet reported */
    int64_t progress_ms;      /* monotonic: last delivery report, or first of `delivering` */
    int paused;               /* claiming paused because deliveries stalled (logged once) */
    void (*drained)(void *);
    void *drained_arg;
};

/* Messages wait for Kafka and no report came for a while: Kafka is not taking them. */
static int stalled(const scheduler *s)
{
    long limit =
        s->d.cfg->lease_ms / 2 < SCHEDULER_STALL_MS ? s->d.cfg->lease_ms / 2 : SCHEDULER_STALL_MS;
    return s->delivering > 0 && cadence_clock_mono_ms() - s->progress_ms > limit;
}

static void count_error(scheduler *s, const char *kind)
{
    char labels[64];
    snprintf(labels, sizeof(labels), "kind=\"%s\"", kind);
    cadence_metrics_add(s->d.metrics, "cadence_scheduler_errors_total", labels, 1);
}

static void set_gauge(scheduler *s)
{
    cadence_metrics_set(s->d.metrics, "cadence_scheduler_tasks_in_flight", NULL,
                        (double)s->in_flight);
}

static void pump(scheduler *s);
static void run_step(struct task *t);
static void admit_one(struct task *t);
static void defer(struct task *t);

/* ------------------------------------------------------------------ tasks */

static void task_free(struct task *t)
{
    free(t->id);
    free(t->json);
    free(t->moved_json);
    free(t);
}

static void check_drained(scheduler *s)
{
    if (s->stopping && s->in_flight == 0 && s->claims_out == 0 && s->drained) {
        void (*done)(void *) = s->drained;
        s->drained = NULL;
        done(s->drained_arg);
    }
}

/* The task is finished (or abandoned to its lease): forget it. */
static void task_done(struct task *t)
{
    scheduler *s = t->s;
    g_hash_table_remove(s->tasks, t->id);
    task_free(t);
    s->in_flight--;
    set_gauge(s);
    if (!s->closing) {
        pump(s);
        check_drained(s);
    }
}

static void park(struct task *t)
{
    scheduler *s = t->s;
    if (t->parked)
        return;
    t->parked = 1;
    t->next = NULL;
    if (s->retry_tail)
        s->retry_tail->next = t;
    else
        s->retry_head = t;
    s->retry_tail = t;
    if (!s->retry_armed) {
        struct timeval tv = {0, (suseconds_t)SCHEDULER_RETRY_MS * 1000};
        evtimer_add(s->retry_ev, &tv);
        s->retry_armed = 1;
    }
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    scheduler *s = arg;
    s->retry_armed = 0;
    struct task *list = s->retry_head;
    s->retry_head = s->retry_tail = NULL;
    while (list) {
        struct task *t = list;
        list = t->next;
        t->parked = 0;
        t->next = NULL;
        run_step(t);
    }
    pump(s);
}

/* --------------------------------------------------------------- publish */

static void on_delivered(void *opaque, rd_kafka_resp_err_t err)
{
    struct task *t = opaque;
    scheduler *s = t->s;
    s->delivering--;
    s->progress_ms = cadence_clock_mono_ms();
    if (s->closing) {
        task_done(t);
        return;
    }
    if (err) {
        /* The producer gave up (message.timeout.ms): the lease brings the task back. */
        count_error(s, "delivery");
        snprintf(s->delivery_error, sizeof(s->delivery_error), "%s", rd_kafka_err2str(err));
        cadence_log_json(CADENCE_LOG_WARN, "touch not delivered; re-published after its lease",
                         json_pack("{s:s,s:s,s:s}", "task_id", t->id, "lead_id", t->info.lead_id,
                                   "error", rd_kafka_err2str(err)));
        task_done(t);
        return;
    }
    int64_t now = cadence_clock_now_ms();
    s->delivery_error[0] = '\0';
    cadence_metrics_add(s->d.metrics, "cadence_scheduler_published_total", NULL, 1);
    if (t->reclaimed)
        cadence_metrics_add(s->d.metrics, "cadence_scheduler_republished_total", NULL, 1);
    cadence_metrics_observe(s->d.metrics, "cadence_scheduler_lag_seconds", NULL,
                            scheduler_plan_lag_seconds(now, t->info.due_ms));
    t->step = STEP_ACK;
    run_step(t);
}

/* The producer refused a touch at once (its queue is full): the redeliverer sends it again. */
static void on_refused(void *opaque, const char *topic, int refused, rd_kafka_resp_err_t err)
{
    (void)topic;
    (void)refused;
    (void)err;
    struct task *t = opaque;
    count_error(t->s, "produce");
}

/* Publishes the touch; kafka/redeliver.h sends it again while the producer refuses it. */
static void publish(struct task *t)
{
    scheduler *s = t->s;
    t->step = STEP_DELIVERING;
    if (s->delivering++ == 0)
        s->progress_ms = cadence_clock_mono_ms();
    cadence_redeliver_send(s->out, CADENCE_TOPIC_TOUCHES_DUE, t->info.lead_id, t->json, t->len,
                           on_delivered, t);
}

/* ------------------------------------------------------------ acknowledge */

static void on_unqueued(const char *error, void *arg)
{
    struct task *t = arg;
    if (t->s->closing) {
        task_done(t);
        return;
    }
    if (error) {
        count_error(t->s, "redis");
        t->step = STEP_UNQUEUE;
        park(t);
        return;
    }
    task_done(t);
}

static void unqueue(struct task *t)
{
    t->step = STEP_UNQUEUEING;
    if (cadence_store_unqueue_task(t->s->d.redis, t->info.rep_id, t->id, on_unqueued, t) !=
        CADENCE_REDIS_OK) {
        t->step = STEP_UNQUEUE;
        park(t);
    }
}

/* The outcome of one task's ack: `open` is the ack script's verdict. */
static void acked(struct task *t, int open)
{
    scheduler *s = t->s;
    if (t->lease_ms != t->lease_sent_ms && open) {
        /* our lease was renewed by a claim while the ack was on its way: ack the new one */
        t->step = STEP_ACK;
        run_step(t);
        return;
    }
    if (!open && !t->bad) {
        /* cancelled by the worker between claim and ack: it leaves the rep's queue */
        cadence_metrics_add(s->d.metrics, "cadence_scheduler_cancelled_total", NULL, 1);
        unqueue(t);
        return;
    }
    task_done(t);
}

/* One flush of acks: its tasks, in the order of the verdicts. */
struct ack_ctx {
    scheduler *s;
    size_t n;
    struct task *tasks[];
};

static void retry_acks(struct ack_ctx *c)
{
    for (size_t i = 0; i < c->n; i++) {
        c->tasks[i]->step = STEP_ACK;
        park(c->tasks[i]);
    }
}

static void on_acked(const int *open, size_t n, const char *error, void *arg)
{
    (void)n;
    struct ack_ctx *c = arg;
    scheduler *s = c->s;
    if (s->closing) {
        for (size_t i = 0; i < c->n; i++)
            task_done(c->tasks[i]);
        free(c);
        return;
    }
    if (error) {
        cadence_log_json(CADENCE_LOG_WARN, "ack failed", json_pack("{s:s}", "error", error));
        count_error(s, "redis");
        retry_acks(c);
        free(c);
        return;
    }
    for (size_t i = 0; i < c->n; i++)
        acked(c->tasks[i], open[i]);
    free(c);
}

/*
 * Sends the acks of `n` tasks as one pipelined round trip: each readable task joins its rep's
 * queue, then all leave the in-flight sets (store/due.h). Returns 0, or -1 (nothing sent).
 */
static int send_acks(scheduler *s, struct ack_ctx *c)
{
    cadence_store_ack_item *items = calloc(c->n, sizeof(*items));
    if (!items)
        return -1;
    for (size_t i = 0; i < c->n; i++) {
        struct task *t = c->tasks[i];
        t->lease_sent_ms = t->lease_ms;
        items[i] = (cadence_store_ack_item){
            t->shard,       t->id,   t->lease_ms, t->bad ? NULL : t->info.rep_id,
            t->info.due_ms, t->json, t->len};
    }
    int rc = cadence_store_queue_and_ack(s->d.redis, &s->scripts, items, c->n, on_acked, c) ==
                     CADENCE_REDIS_OK
                 ? 0
                 : -1;
    free(items);
    if (rc == 0)
        for (size_t i = 0; i < c->n; i++)
            c->tasks[i]->step = STEP_ACKING;
    return rc;
}

/* Sends every queued ack, SCHEDULER_ACK_BATCH tasks per batch. */
static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    scheduler *s = arg;
    while (s->ack_head) {
        size_t n = 0;
        for (struct task *t = s->ack_head; t && n < SCHEDULER_ACK_BATCH; t = t->ack_next)
            n++;
        struct ack_ctx *c = malloc(sizeof(*c) + n * sizeof(struct task *));
        if (!c)
            break; /* the retry timer flushes again */
        c->s = s;
        c->n = n;
        for (size_t i = 0; i < n; i++) {
            struct task *t = s->ack_head;
            s->ack_head = t->ack_next;
            t->ack_next = NULL;
            c->tasks[i] = t;
        }
        if (!s->ack_head)
            s->ack_tail = NULL;
        if (send_acks(s, c) != 0) {
            retry_acks(c);
            free(c);
        }
    }
}

/* Queues the task's ack for the next flush, which runs once the current callbacks are done. */
static void ack(struct task *t)
{
    scheduler *s = t->s;
    t->step = STEP_ACK_QUEUED;
    t->ack_next = NULL;
    if (s->ack_tail)
        s->ack_tail->ack_next = t;
    else
        s->ack_head = t;
    s->ack_tail = t;
    event_active(s->flush_ev, EV_TIMEOUT, 0);
}

static void run_step(struct task *t)
{
    switch (t->step) {
    case STEP_PUBLISH:
        publish(t);
        break;
    case STEP_ACK:
        ack(t);
        break;
    case STEP_UNQUEUE:
        unqueue(t);
        break;
    case STEP_ADMIT:
        admit_one(t);
        break;
    case STEP_DEFER:
        defer(t);
        break;
    default:
        break;
    }
}

/* ----------------------------------------------------------------- claim */

struct claim_ctx {
    scheduler *s;
    uint32_t shard;
    int64_t lease_ms;
};

static void push_shard(scheduler *s, uint32_t shard)
{
    if (s->shards == 0 || s->queued[shard] || s->pend_len >= s->shards)
        return;
    s->pending[(s->pend_head + s->pend_len) % s->shards] = shard;
    s->pend_len++;
    s->queued[shard] = 1;
}

static uint32_t pop_shard(scheduler *s)
{
    if (s->shards == 0)
        return 0;
    uint32_t shard = s->pending[s->pend_head];
    s->pend_head = (s->pend_head + 1) % s->shards;
    s->pend_len--;
    s->queued[shard] = 0;
    return shard;
}

/* ---------------------------------------------------------- rep capacity */

/* One take_capacity call: the tasks of one rep's day, in priority order. */
struct admit_ctx {
    scheduler *s;
    size_t n;
    struct task *t[SCHEDULER_PLAN_MAX_RANK];
};

static void on_deferred(const char *error, int moved, void *arg)
{
    struct task *t = arg;
    scheduler *s = t->s;
    if (s->closing)
        return; /* scheduler_free frees the task; its lease brings it back */
    if (error) {
        count_error(s, "redis");
        t->step = STEP_DEFER;
        park(t);
        return;
    }
    if (moved) {
        char to[64];
        cadence_rfc3339_format(t->moved_due, to, sizeof(to));
        cadence_metrics_add(s->d.metrics, "cadence_scheduler_moved_total",
                            "reason=\"rep_capacity\"", 1);
        cadence_log_json(CADENCE_LOG_INFO, "rep's day full; touch moved to the next business day",
                         json_pack("{s:s,s:s,s:s,s:s}", "task_id", t->id, "rep_id", t->info.rep_id,
                                   "day", t->cls.day, "due_at", to));
    }
    task_done(t);
}

static void defer(struct task *t)
{
    scheduler *s = t->s;
    if (!t->moved_json) {
        t->moved_due = scheduler_plan_next_business_day(s->d.playbook, s->tz, t->cls.zone,
                                                        cadence_clock_now_ms());
        if (t->moved_due > 0)
            t->moved_json = scheduler_plan_move(t->json, t->len, t->moved_due, s->d.playbook, s->tz,
                                                t->cls.zone, "rep_capacity");
        if (!t->moved_json) { /* no business day within a year: publish rather than lose it */
            t->step = STEP_PUBLISH;
            run_step(t);
            return;
        }
    }
    t->step = STEP_DEFERRING;
    if (cadence_store_capacity_defer(s->capacity, t->shard, t->id, t->lease_ms, t->json, t->len,
                                     t->moved_due, t->moved_json, on_deferred,
                                     t) != CADENCE_REDIS_OK) {
        t->step = STEP_DEFER;
        park(t);
    }
}

static void on_admitted(const char *error, const int *granted, size_t n, void *arg)
{
    struct admit_ctx *c = arg;
    scheduler *s = c->s;
    if (!s->closing) {
        for (size_t i = 0; i < c->n; i++) {
            struct task *t = c->t[i];
            if (error) {
                count_error(s, "redis");
                t->step = STEP_ADMIT;
                park(t);
                continue;
            }
            t->step = i < n && granted[i] ? STEP_PUBLISH : STEP_DEFER;
            run_step(t);
        }
        pump(s);
    }
    free(c);
}

/* Asks for places for c->t[0..n-1] (one rep's day, in priority order). */
static void admit_send(struct admit_ctx *c)
{
    scheduler *s = c->s;
    const char *ids[SCHEDULER_PLAN_MAX_RANK];
    int must[SCHEDULER_PLAN_MAX_RANK];
    for (size_t i = 0; i < c->n; i++) {
        ids[i] = c->t[i]->id;
        must[i] = c->t[i]->cls.priority == SCHEDULER_PRIORITY_CALLBACK;
        c->t[i]->step = STEP_ADMITTING;
    }
    /* the day's set outlives the day in every zone */
    if (cadence_store_capacity_take(s->capacity, c->t[0]->info.rep_id, c->t[0]->cls.day,
                                    s->rep_capacity, SCHEDULER_CAPACITY_TTL_S, c->n, ids, must,
                                    on_admitted, c) != CADENCE_REDIS_OK) {
        for (size_t i = 0; i < c->n; i++) {
            c->t[i]->step = STEP_ADMIT;
            park(c->t[i]);
        }
        free(c);
    }
}

/* A task whose admission failed, alone. */
static void admit_one(struct task *t)
{
    struct admit_ctx *c = calloc(1, sizeof(*c));
    if (!c) {
        park(t);
        return;
    }
    c->s = t->s;
    c->n = 1;
    c->t[0] = t;
    admit_send(c);
}

/* The tasks this claim took, grouped by rep and day, each group in priority order. */
static void admit_claimed(scheduler *s)
{
    scheduler_touch_class cls[SCHEDULER_PLAN_MAX_RANK];
    struct task *tasks[SCHEDULER_PLAN_MAX_RANK];
    size_t order[SCHEDULER_PLAN_MAX_RANK], n = 0;
    while (s->admit_head) {
        struct task *t = s->admit_head;
        s->admit_head = t->admit_next;
        t->admit_next = NULL;
        if (n == SCHEDULER_PLAN_MAX_RANK) {
            admit_one(t);
            continue;
        }
        tasks[n] = t;
        cls[n] = t->cls;
        n++;
    }
    s->n_admit = 0;
    if (n == 0)
        return;
    scheduler_plan_rank(cls, n, order);
    struct admit_ctx *c = NULL;
    for (size_t i = 0; i < n; i++) {
        struct task *t = tasks[order[i]];
        if (c && (strcmp(c->t[0]->info.rep_id, t->info.rep_id) != 0 ||
                  strcmp(c->t[0]->cls.day, t->cls.day) != 0)) {
            admit_send(c);
            c = NULL;
        }
        if (!c) {
            c = calloc(1, sizeof(*c));
            if (!c) {
                park(t);
                continue;
            }
            c->s = s;
        }
        c->t[c->n++] = t;
    }
    if (c)
        admit_send(c);
}

/* Takes one claimed entry: a new task, or a lease refresh of one we still hold. */
static void take(scheduler *s, uint32_t shard, int64_t lease_ms, const cadence_store_claimed *e)
{
    char id[SCHEDULER_ID_SIZE];
    if (e->task_id_len >= sizeof(id)) {
        count_error(s, "bad_task"); /* not an id: no task of ours; the lease brings it back */
        return;
    }
    memcpy(id, e->task_id, e->task_id_len);
    id[e->task_id_len] = '\0';
    struct task *mine = g_hash_table_lookup(s->tasks, id);
    if (mine) {
        /* Our own lease ran out while the task was still with us (a slow delivery): keep
         * publishing it once, under the new lease. */
        mine->lease_ms = lease_ms;
        return;
    }
    struct task *t = calloc(1, sizeof(*t));
    if (t) {
        t->id = strdup(id);
        t->json = malloc(e->task_json_len + 1);
    }
    if (!t || !t->id || !t->json) {
        /* out of memory: the lease brings it back */
        if (t)
            task_free(t);
        count_error(s, "memory");
        return;
    }
    memcpy(t->json, e->task_json, e->task_json_len);
    t->json[e->task_json_len] = '\0';
    t->len = e->task_json_len;
    t->s = s;
    t->shard = shard;
    t->reclaimed = e->reclaimed;
    t->lease_ms = lease_ms;
    g_hash_table_insert(s->tasks, t->id, t);
    s->in_flight++;
    cadence_metrics_add(s->d.metrics, "cadence_scheduler_claimed_total", NULL, 1);
    char why[256];
    if (scheduler_plan_task_read(t->json, t->len, &t->info, why, sizeof(why)) != 0 ||
        strcmp(t->info.task_id, t->id) != 0) {
        count_error(s, "bad_task");
        cadence_log_json(CADENCE_LOG_ERROR, "stored task unreadable; dropped, not published",
                         json_pack("{s:s,s:s}", "task_id", t->id, "error",
                                   strcmp(t->info.task_id, t->id) ? "task_id differs" : why));
        t->bad = 1;
        t->step = STEP_ACK;
    } else {
        if (t->reclaimed)
            cadence_log_json(CADENCE_LOG_INFO, "lease expired; publishing again",
                             json_pack("{s:s,s:s}", "task_id", t->id, "lead_id", t->info.lead_id));
        t->step = STEP_PUBLISH;
        if (s->capacity &&
            scheduler_plan_touch_class(t->json, t->len, &t->cls, why, sizeof(why)) == 0 &&
            scheduler_plan_rep_day(s->d.playbook, s->tz, t->cls.zone, cadence_clock_now_ms(),
                                   t->cls.day) == 0) {
            /* decided with the rest of this claim (admit_claimed) */
            t->cls.id = t->id;
            t->step = STEP_ADMIT;
            t->admit_next = s->admit_head;
            s->admit_head = t;
            s->n_admit++;
            return;
        }
    }
    run_step(t);
}

static void on_claimed(const cadence_store_claimed *tasks, size_t n, long scanned,
                       const char *error, void *arg)
{
    struct claim_ctx *c = arg;
    scheduler *s = c->s;
    uint32_t shard = c->shard;
    int64_t lease_ms = c->lease_ms;
    free(c);
    s->claims_out--;
    if (s->closing)
        return;
    if (error) {
        /* A lost reply may have claimed entries: their lease brings them back. */
        count_error(s, "claim");
        cadence_log_json(CADENCE_LOG_WARN, "claim failed",
                         json_pack("{s:i,s:s}", "shard", (int)shard, "error", error));
        if (s->admit_head && s->claims_out == 0)
            admit_claimed(s);
        check_drained(s);
        return;
    }
    for (size_t i = 0; i < n; i++)
        take(s, shard, lease_ms, &tasks[i]);
    if (scanned >= SCHEDULER_CLAIM_BATCH)
        push_shard(s, shard); /* a full batch: there may be more, claim again at once */
    pump(s);
    /* Rep capacity ranks what a whole sweep claimed (every shard's due touches together),
     * once its claims are in, or sooner when a batch's worth is waiting. */
    if (s->admit_head && (s->claims_out == 0 || s->n_admit >= SCHEDULER_CLAIM_BATCH))
        admit_claimed(s);
    check_drained(s);
}

static enum cadence_redis_status send_claim(scheduler *s, uint32_t shard)
{
    scheduler_claim_args a;
    if (scheduler_plan_claim_args(&a, cadence_clock_now_ms(), s->d.cfg->lease_ms,
                                  SCHEDULER_CLAIM_BATCH) != 0)
        return CADENCE_REDIS_INVALID;
    struct claim_ctx *c = malloc(sizeof(*c));
    if (!c)
        return CADENCE_REDIS_NOMEM;
    *c = (struct claim_ctx){s, shard, a.deadline_ms};
    enum cadence_redis_status st = cadence_store_claim_due(s->d.redis, &s->scripts, shard, a.now_ms,
                                                           a.deadline_ms, a.limit, on_claimed, c);
    if (st != CADENCE_REDIS_OK)
        free(c);
    return st;
}

/* Sends claims while there is room: claims outstanding, tasks in flight, Kafka taking them. */
static void pump(scheduler *s)
{
    int st = stalled(s);
    if (st != s->paused) {
        s->paused = st;
        cadence_log_json(st ? CADENCE_LOG_WARN : CADENCE_LOG_INFO,
                         st ? "deliveries stalled; claiming paused" : "deliveries resumed",
                         json_pack("{s:i}", "waiting", (int)s->delivering));
    }
    while (!s->stopping && !s->closing && s->pend_len > 0 && s->claims_out < SCHEDULER_MAX_CLAIMS &&
           s->in_flight + (size_t)SCHEDULER_CLAIM_BATCH * (size_t)(s->claims_out + 1) <=
               SCHEDULER_MAX_IN_FLIGHT &&
           cadence_redis_is_ready(s->d.redis) && !st) {
        uint32_t shard = pop_shard(s);
        if (send_claim(s, shard) != CADENCE_REDIS_OK) {
            push_shard(s, shard);
            break;
        }
        s->claims_out++;
    }
}

static void sweep(scheduler *s)
{
    uint32_t start = scheduler_plan_sweep_start(s->seed, s->sweeps++, s->shards);
    for (uint32_t i = 0; i < s->shards; i++)
        push_shard(s, scheduler_plan_sweep_shard(start, i, s->shards));
    pump(s);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    scheduler *s = arg;
    if (!s->stopping)
        sweep(s);
}

/* ------------------------------------------------------------- life cycle */

static void declare(cadence_metrics *m)
{
    static const double lag_buckets[] = {0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600};
    cadence_metrics_declare(m, "cadence_scheduler_claimed_total", CADENCE_METRIC_COUNTER,
                            "Tasks claimed from the due sets (expired leases included)", NULL, 0);
    cadence_metrics_declare(m, "cadence_scheduler_published_total", CADENCE_METRIC_COUNTER,
                            "Tasks published to touches-due.v1 and acknowledged by Kafka", NULL, 0);
    cadence_metrics_declare(m, "cadence_scheduler_republished_total", CADENCE_METRIC_COUNTER,
                            "Tasks published again after their lease expired", NULL, 0);
    cadence_metrics_declare(m, "cadence_scheduler_cancelled_total", CADENCE_METRIC_COUNTER,
                            "Published tasks the worker cancelled before their acknowledgement",
                            NULL, 0);
    cadence_metrics_declare(m, "cadence_scheduler_errors_total", CADENCE_METRIC_COUNTER,
                            "Failures by kind (claim, produce, delivery, redis, bad_task)", NULL,
                            0);
    cadence_metrics_declare(m, "cadence_scheduler_lag_seconds", CADENCE_METRIC_HISTOGRAM,
                            "Seconds between a task's due time and its publication", lag_buckets,
                            sizeof(lag_buckets) / sizeof(lag_buckets[0]));
    cadence_metrics_declare(m, "cadence_scheduler_tasks_in_flight", CADENCE_METRIC_GAUGE,
                            "Tasks claimed and not yet acknowledged", NULL, 0);
    cadence_metrics_declare(m, "cadence_scheduler_moved_total", CADENCE_METRIC_COUNTER,
                            "Tasks moved to a later day instead of published, by reason "
                            "(rep_capacity)",
                            NULL, 0);
    cadence_metrics_set(m, "cadence_scheduler_tasks_in_flight", NULL, 0);
    cadence_metrics_add(m, "cadence_scheduler_claimed_total", NULL, 0);
    cadence_metrics_add(m, "cadence_scheduler_published_total", NULL, 0);
    cadence_metrics_add(m, "cadence_scheduler_republished_total", NULL, 0);
}

static uint64_t make_seed(void)
{
    uint64_t us = (uint64_t)cadence_clock_now_us();
    uint64_t x = us ^ (us << 20) ^ ((uint64_t)getpid() << 40);
    x ^= x >> 33; /* splitmix-style finaliser */
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

scheduler *scheduler_new(const scheduler_deps *deps, char *errstr, size_t errstr_size)
{
    scheduler *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    s->d = *deps;
    s->shards = (uint32_t)deps->cfg->shards;
    s->seed = make_seed();
    s->pending = calloc(s->shards, sizeof(*s->pending));
    s->queued = calloc(s->shards, sizeof(*s->queued));
    s->tasks = g_hash_table_new(g_str_hash, g_str_equal);
    s->tick_ev = event_new(deps->base, -1, EV_PERSIST, on_tick, s);
    s->retry_ev = evtimer_new(deps->base, on_retry, s);
    s->flush_ev = event_new(deps->base, -1, 0, on_flush, s);
    if (!s->pending || !s->queued || !s->tasks || !s->tick_ev || !s->retry_ev || !s->flush_ev) {
        snprintf(errstr, errstr_size, "out of memory");
        scheduler_free(s);
        return NULL;
    }
    /* refused at once: again after SCHEDULER_RETRY_MS; a failed delivery is reported (the
     * lease brings the task back to a later claim) */
    const cadence_redeliver_policy out = {SCHEDULER_RETRY_MS, 0, on_refused};
    s->out = cadence_redeliver_new(deps->base, deps->producer, &out, errstr, errstr_size);
    if (!s->out ||
        cadence_store_due_scripts_add(deps->redis, &s->scripts, errstr, errstr_size) != 0) {
        scheduler_free(s);
        return NULL;
    }
    s->rep_capacity = deps->playbook ? cadence_playbook_rep_daily_capacity(deps->playbook) : 0;
    if (s->rep_capacity > 0) {
        s->tz = cadence_tzcache_new();
        s->capacity = cadence_store_capacity_new(deps->redis, errstr, errstr_size);
        if (!s->tz || !s->capacity) {
            scheduler_free(s);
            return NULL;
        }
    }
    declare(deps->metrics);
    struct timeval tv = {deps->cfg->tick_ms / 1000, (deps->cfg->tick_ms % 1000) * 1000};
    if (event_add(s->tick_ev, &tv) != 0) {
        snprintf(errstr, errstr_size, "cannot register the tick timer");
        scheduler_free(s);
        return NULL;
    }
    return s;
}

void scheduler_kick(scheduler *s)
{
    if (s && !s->stopping && !s->closing)
        sweep(s);
}

int scheduler_deliveries_ok(const scheduler *s, char *why, size_t why_size)
{
    if (!s)
        return 1;
    if (s->delivery_error[0]) {
        snprintf(why, why_size, "kafka: last delivery failed: %s", s->delivery_error);
        return 0;
    }
    if (stalled(s)) {
        snprintf(why, why_size, "kafka: %zu messages waiting, no delivery report for %lld ms",
                 s->delivering, (long long)(cadence_clock_mono_ms() - s->progress_ms));
        return 0;
    }
    return 1;
}

size_t scheduler_in_flight(const scheduler *s)
{
    return s ? s->in_flight : 0;
}

void scheduler_drain(scheduler *s, void (*done)(void *arg), void *arg)
{
    s->stopping = 1;
    event_del(s->tick_ev);
    s->drained = done;
    s->drained_arg = arg;
    cadence_log_json(
        CADENCE_LOG_INFO, "draining",
        json_pack("{s:i,s:i}", "tasks_in_flight", (int)s->in_flight, "claims", s->claims_out));
    check_drained(s);
}

void scheduler_shutdown(scheduler *s)
{
    if (!s)
        return;
    s->stopping = 1;
    s->closing = 1;
    event_del(s->tick_ev);
    event_del(s->retry_ev);
    event_del(s->flush_ev);
}

void scheduler_free(scheduler *s)
{
    if (!s)
        return;
    cadence_redeliver_free(s->out); /* drops touches waiting to be sent again */
    if (s->tasks) {
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, s->tasks);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            g_hash_table_iter_remove(&it);
            task_free(v);
        }
        g_hash_table_destroy(s->tasks);
    }
    if (s->tick_ev)
        event_free(s->tick_ev);
    if (s->retry_ev)
        event_free(s->retry_ev);
    if (s->flush_ev)
        event_free(s->flush_ev);
    free(s->pending);
    free(s->queued);
    cadence_store_capacity_free(s->capacity);
    cadence_tzcache_free(s->tz);
    free(s);
}
