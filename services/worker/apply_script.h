/*
 * apply_script — the Lua script that applies one event to one lead in Redis, all or nothing.
 *
 * KEYS: 1 lead state hash, 2 event record (outbox), 3 shard due zset, 4 shard tasks hash,
 *       5 lead timeline list, 6 shard stats hash — all with the lead's shard hash tag.
 * ARGV: 1 mode ("apply" or "check": only look the event up), 2 expected version,
 *       3 new state JSON, 4 outputs JSON (recorded as the outbox), 5 record TTL seconds,
 *       6 touch action ("keep", "set", "cancel"), 7 task id to drop ("" none), 8 new task id,
 *       9 new task due (Unix ms), 10 new task JSON, 11 timeline entry JSON ("" none),
 *       12 timeline cap, 13 number of counters N, then N pairs of (name, delta).
 * Returns {"dup", outbox} when the event was applied before, {"noop", ""} for "check" of an
 * event never applied, {"conflict", version} when the lead's version is not the expected one,
 * and {"ok", new version, unqueued} after the writes, where unqueued is 1 when the dropped task
 * was still in the due set: never claimed by a scheduler, so in no rep's queue. Every argument is
 * checked before the first write: Redis scripts do not roll back.
 */
#ifndef CADENCE_WORKER_APPLY_SCRIPT_H
#define CADENCE_WORKER_APPLY_SCRIPT_H

extern const char worker_apply_lua[];

#endif
