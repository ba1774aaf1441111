/*
 * plan — the scheduler's pure decisions, kept apart from I/O so they are unit-tested:
 * the order in which a sweep visits the shards, the claim script's arguments, and what the
 * scheduler needs out of a stored touch_due (its Kafka key, its rep, its due time).
 *
 * Why a sweep order: any number of schedulers claim from the same per-shard due sets without
 * talking to each other. The claim script is atomic, so two schedulers never take the same
 * entry; starting each sweep at a different shard (a per-process random seed, rotated every
 * sweep) keeps them from queueing behind each other on the same shard and spreads a backlog
 * over all of them.
 */
#ifndef CADENCE_SCHEDULER_PLAN_H
#define CADENCE_SCHEDULER_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "base/id.h"
#include "engine/playbook.h"
#include "engine/tzcache.h"

/* Longest id (lead, rep, task), plus the terminator. */
#define SCHEDULER_ID_SIZE CADENCE_ID_SIZE

/* What the scheduler reads from a stored touch_due JSON. */
typedef struct scheduler_task_info {
    char task_id[SCHEDULER_ID_SIZE];
    char lead_id[SCHEDULER_ID_SIZE]; /* the Kafka key */
    char rep_id[SCHEDULER_ID_SIZE];  /* whose open-task queue the task joins */
    int64_t due_ms;                  /* due_at as Unix ms */
} scheduler_task_info;

/* The first shard of sweep number `sweep` for a process with `seed` (shards ≥ 1). */
uint32_t scheduler_plan_sweep_start(uint64_t seed, uint64_t sweep, uint32_t shards);

/* The i-th shard (0 ≤ i < shards) a sweep starting at `start` visits: every shard once. */
uint32_t scheduler_plan_sweep_shard(uint32_t start, uint32_t i, uint32_t shards);

/* What one claim asks for (cadence_store_claim_due's arguments). */
typedef struct scheduler_claim_args {
    int64_t now_ms;      /* wall clock, Unix ms: entries due at or before it are claimed */
    int64_t deadline_ms; /* now + lease: the lease written into the in-flight set */
    long limit;          /* most entries one claim takes */
} scheduler_claim_args;

/* Fills `a`. Returns 0, or -1 when lease_ms or limit is not positive. */
int scheduler_plan_claim_args(scheduler_claim_args *a, int64_t now_ms, long lease_ms, long limit);

/*
 * Reads the task's ids and due time out of a stored touch_due (borrowed, `len` bytes).
 * Returns 0, or -1 with a reason in errstr when it is not JSON, lacks a field, or an id is
 * not a valid id (such a task is never published: its key could not be built safely).
 */
int scheduler_plan_task_read(const char *json, size_t len, scheduler_task_info *out, char *errstr,
                             size_t errstr_size);

/* Seconds from `due_ms` to `now_ms`, never negative (a touch published early has no lag). */
double scheduler_plan_lag_seconds(int64_t now_ms, int64_t due_ms);

/*
 * Rep capacity (the playbook's rep_daily_capacity): at most that many touches per rep per day
 * across all of the rep's leads. Reps have no time zone of their own: the rep's day is the
 * lead's local date (its `lead.timezone`, else the playbook's default zone) on the day the
 * touch is published. When a day is full, the lowest-priority touches move to the next
 * business day (the lead's working days and holidays, at the start of business hours) with
 * `moved` reason `rep_capacity`. Priority, first kept first:
 *   0 callbacks and call-now touches (`callback`: the prospect reached out) — never moved, but
 *     they take a place;
 *   1 warm first-time calls; 2 cold first-time calls (and first-time touches of unknown type);
 *   3 follow-ups, then anything else (re_evaluate);
 * within a class, the earlier due time first, then the task id. Touches are ranked within what
 * one claim takes together (e.g. a morning's backlog); a touch that falls due later in a full
 * day is moved whatever its class, except class 0.
 */
enum scheduler_priority {
    SCHEDULER_PRIORITY_CALLBACK = 0,
    SCHEDULER_PRIORITY_WARM_FIRST = 1,
    SCHEDULER_PRIORITY_COLD_FIRST = 2,
    SCHEDULER_PRIORITY_FOLLOW_UP = 3,
};

/* Most touches one capacity decision ranks (one claim batch, with room to spare). */
#define SCHEDULER_PLAN_MAX_RANK 512

/* What a capacity decision needs of one touch. */
typedef struct scheduler_touch_class {
    int priority;                /* enum scheduler_priority */
    char zone[65];               /* lead.timezone ("" = the playbook's default) */
    int64_t due_ms;              /* due_at */
    const char *id;              /* task id (borrowed), the last tie-break */
    char rep[SCHEDULER_ID_SIZE]; /* rep_id */
    char day[11];                /* the rep's day: "YYYY-MM-DD" (scheduler_plan_rep_day) */
} scheduler_touch_class;

/* Reads a stored touch_due's class (priority, rep, zone, due time; not `day` nor `id`).
 * Returns 0, or -1 with errstr. */
int scheduler_plan_touch_class(const char *json, size_t len, scheduler_touch_class *out,
                               char *errstr, size_t errstr_size);

/* Priority of a touch from its fields (`callback`, `objective`, `lead_type`; NULL = absent). */
int scheduler_plan_priority(int callback, const char *objective, const char *lead_type);

/*
 * Writes to `order` the indexes 0..n-1 of `t` (n ≤ SCHEDULER_PLAN_MAX_RANK) in the order a full
 * day keeps them: by rep and day, then priority, due time and id (each rep's day is one run).
 */
void scheduler_plan_rank(const scheduler_touch_class *t, size_t n, size_t *order);

/* The rep's day of a touch published at `now_ms` for a lead in `zone` ("" or unknown: the
 * playbook's default zone): "YYYY-MM-DD" into `out` (11 bytes). Returns 0, or -1. */
int scheduler_plan_rep_day(const cadence_playbook *pb, cadence_tzcache *tz, const char *zone,
                           int64_t now_ms, char out[11]);

/* The start of business hours on the next business day after `now_ms`'s local date in
 * `zone` (working days and holidays of the zone's calendar); -1 when none within a year. */
int64_t scheduler_plan_next_business_day(const cadence_playbook *pb, cadence_tzcache *tz,
                                         const char *zone, int64_t now_ms);

/*
 * The stored touch_due `json` moved to `to_ms` (in `zone`'s local time) for `reason`: due_at
 * replaced, {reason, from: the old due_at} appended to `moved` (the oldest dropped past 10).
 * Returns a new string (free with free()), or NULL when `json` is not a touch.
 */
char *scheduler_plan_move(const char *json, size_t len, int64_t to_ms, const cadence_playbook *pb,
                          cadence_tzcache *tz, const char *zone, const char *reason);

#endif
