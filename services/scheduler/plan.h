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

#endif
