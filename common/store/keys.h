/*
 * keys — the Redis key layout, in one place.
 *
 * Every key of a lead carries its shard's hash tag `{s<N>}` so each apply script touches one
 * Redis Cluster slot; the shard is a stable hash of the lead id modulo CADENCE_SHARDS. Keys are
 * built only from validated ids (`[A-Za-z0-9._:-]{1,64}`) or from hashes, so no input can name
 * a key outside its namespace.
 *
 *   cad:{s<N>}:lead:<lead_id>       hash: v (version), s (state JSON), and what deduplicates
 *                                   its events: d (last event ids), w:<topic>:<partition>
 *                                   (offset watermarks), x:<event_id> + xr (last outboxes);
 *                                   see lua/apply_event.lua                  — worker
 *   cad:{s<N>}:timeline:<lead_id>   list: newest-first history entries (JSON), capped
 *   cad:{s<N>}:due                  zset: task_id → due time (ms)           — worker, scheduler
 *   cad:{s<N>}:tasks                hash: task_id → touch_due JSON
 *   cad:{s<N>}:inflight             zset: task_id → lease deadline (ms)     — scheduler
 *   cad:{s<N>}:stats                hash: counter → value (before per-day statistics; unused)
 *   cad:{s<N>}:stats:<YYYY-MM-DD>   hash: "<rep_id>|<counter>" → value, the managers' counters
 *                                   of one local day (store/stats.h), expiring after the
 *                                   retention — worker; read by the gateway
 *   cad:{e<N>}:email:<sha256(email)> string: lead_id (visits that carry only an email)
 *   cad:{r:<rep_id>}:alerts         stream: the rep's call-now alerts        — gateway
 *   cad:{r:<rep_id>}:queue          zset: the rep's open task ids by due time — scheduler
 *   cad:{r:<rep_id>}:tasks          hash: task_id → touch_due JSON of queued tasks — scheduler
 *                                   (may hold entries no longer in the queue: read ids from
 *                                   the queue zset, then their JSON from here)
 *   cad:{r:<rep_id>}:alert_ids      zset: alert_id → time added (ms), the stream's dedupe — gateway
 *   cad:{r:<rep_id>}:lead_index     zset (score 0): "<term>\1<lead_id>", the rep's lead search
 *                                   (lower-case name, company, email, id)      — worker
 *   cad:{r:<rep_id>}:lead_cards     hash: lead_id → the card a search shows (JSON) — worker
 *   cad:{r:<rep_id>}:lead_terms     hash: lead_id → its terms ("\1"-joined), to replace them
 */
#ifndef CADENCE_KEYS_H
#define CADENCE_KEYS_H

#include <stddef.h>
#include <stdint.h>

/* Longest key this module builds, terminator included. */
#define CADENCE_KEY_MAX 160

/* The shard of a lead (FNV-1a 32 of the id, modulo `shards`, which must be ≥ 1). */
uint32_t cadence_keys_shard(const char *lead_id, uint32_t shards);

/* The per-lead keys. Each writes into `buf` (CADENCE_KEY_MAX bytes) and returns it. */
char *cadence_keys_lead_state(char *buf, uint32_t shard, const char *lead_id);
char *cadence_keys_timeline(char *buf, uint32_t shard, const char *lead_id);

/* The per-shard keys. */
char *cadence_keys_due(char *buf, uint32_t shard);
char *cadence_keys_tasks(char *buf, uint32_t shard);
char *cadence_keys_inflight(char *buf, uint32_t shard);
char *cadence_keys_stats(char *buf, uint32_t shard);
/* The shard's counters of one local day; `day` is "YYYY-MM-DD" (10 characters, checked by the
 * caller: store/stats.h's cadence_store_stats_day_valid). */
char *cadence_keys_stats_day(char *buf, uint32_t shard, const char *day);

/* The email index key of an email address (case-insensitive), sharded by the address. */
char *cadence_keys_email(char *buf, const char *email, uint32_t shards);

/* The per-rep keys. */
char *cadence_keys_rep_alerts(char *buf, const char *rep_id);
char *cadence_keys_rep_queue(char *buf, const char *rep_id);
char *cadence_keys_rep_tasks(char *buf, const char *rep_id);
char *cadence_keys_rep_alert_ids(char *buf, const char *rep_id);
char *cadence_keys_rep_lead_index(char *buf, const char *rep_id);
char *cadence_keys_rep_lead_cards(char *buf, const char *rep_id);
char *cadence_keys_rep_lead_terms(char *buf, const char *rep_id);

#endif
