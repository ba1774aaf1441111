/*
 * scripts — the scheduler's Lua scripts. Each touches the keys of one hash tag only (one
 * Redis Cluster slot): the shard's `{s<N>}` keys, or the rep's `{r:<rep_id>}` keys.
 *
 * claim (shard slot) — KEYS: 1 due zset, 2 tasks hash, 3 inflight zset.
 *   ARGV: 1 now (Unix ms), 2 lease deadline (Unix ms), 3 limit.
 *   First takes in-flight entries whose lease expired (a scheduler died or stalled between
 *   claim and acknowledgement): each whose task still exists gets the new lease and is
 *   returned as re-claimed; those whose task was cancelled meanwhile are dropped. Then takes
 *   due entries (due ≤ now) up to the limit: each moves from the due set to the in-flight set
 *   with the lease; an entry whose task JSON is gone is dropped.
 *   Returns {scanned, id1, json1, reclaimed1, id2, ...}: scanned (entries looked at) equal to
 *   the limit means there may be more, so the caller claims again at once.
 *
 * ack (shard slot) — KEYS: 1 inflight zset, 2 tasks hash. ARGV: N pairs (task id, lease
 *   deadline). Drops each task from the in-flight set if the lease is still ours (another
 *   scheduler may have re-claimed it after our lease expired; its lease is then left alone).
 *   Returns an array of N integers: 1 when the task still exists (it is open: it stays in the
 *   rep's queue), 0 when the worker cancelled or replaced it meanwhile.
 *
 * queue (rep slot) — KEYS: 1 rep queue zset, 2 rep tasks hash. ARGV: N triples (due ms,
 *   task id, task JSON). Records the open tasks for the gateway. The hash may hold entries whose
 * task already left the queue (the worker removes answered tasks from the zset only): readers take
 * ids from the zset, and this script prunes the hash whenever it grows to more than twice the queue
 * (amortised O(1) per task). Returns N.
 *
 * unqueue (rep slot) — KEYS: 1 rep queue zset, 2 rep tasks hash. ARGV: 1 task id. Removes a
 *   task that turned out cancelled after it was queued. Returns 1.
 *
 * Every argument is checked before the first write (scripts do not roll back).
 */
#ifndef CADENCE_SCHEDULER_SCRIPTS_H
#define CADENCE_SCHEDULER_SCRIPTS_H

extern const char scheduler_claim_lua[];
extern const char scheduler_ack_lua[];
extern const char scheduler_queue_lua[];
extern const char scheduler_unqueue_lua[];

#endif
