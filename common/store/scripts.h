/*
 * scripts — the Lua scripts of the store, one file each under common/store/lua/ (read there for
 * each script's KEYS/ARGV contract), embedded at build time as NUL-terminated text. Load them
 * with cadence_redis_script_add (run by SHA, with a NOSCRIPT fallback). Each script touches
 * the keys of one hash tag only (one Redis Cluster slot): a shard's `{s<N>}` or a rep's
 * `{r:<rep_id>}`; each checks every argument before its first write (scripts do not roll back).
 */
#ifndef CADENCE_STORE_SCRIPTS_H
#define CADENCE_STORE_SCRIPTS_H

/* Applies one event to one lead, all or nothing (shard slot; lua/apply_event.lua). */
extern const char cadence_lua_apply_event[];
/* Claims due touches of a shard under a lease (shard slot; lua/claim_due.lua). */
extern const char cadence_lua_claim_due[];
/* Acknowledges published touches (shard slot; lua/ack_due.lua). */
extern const char cadence_lua_ack_due[];
/* Records a rep's open tasks (rep slot; lua/queue_tasks.lua). */
extern const char cadence_lua_queue_tasks[];
/* Reads a rep's open tasks with their JSON (rep slot; lua/read_queue.lua). */
extern const char cadence_lua_read_queue[];
/* Appends an alert to a rep's stream once per alert id (rep slot; lua/append_alert.lua). */
extern const char cadence_lua_append_alert[];
/* Replaces a lead's terms and card in its rep's search index (rep slot; lua/index_lead.lua). */
extern const char cadence_lua_index_lead[];
/* A rep's leads by name, company, email or id prefix (rep slot; lua/search_leads.lua). */
extern const char cadence_lua_search_leads[];

/* How many outboxes (the outputs of its events that had any, until the worker drops them once
 * Kafka acknowledged them) a lead's hash keeps at most, so a redelivered event produces its
 * outputs again. */
#define CADENCE_STORE_OUTBOXES 4
/* How many entries a lead's timeline keeps (the newest). */
#define CADENCE_STORE_TIMELINE_CAP 200

#endif
