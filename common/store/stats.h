/*
 * stats — the managers' counters in Redis: how they are laid out, kept and read.
 *
 * Layout: one hash per shard and local day, `cad:{s<N>}:stats:<YYYY-MM-DD>` (store/keys.h),
 * written by the apply script (lua/apply_event.lua, its KEYS[6]) in the lead's slot, so an
 * event's counters are written with its state, all or nothing. A field is
 * `<rep_id>|<counter>` (engine/engine.h names the counters), e.g.
 * `rep.ana|attempts:zero_to_ten:2:cold`. Rep ids never hold '|' (the id rule), so the first
 * '|' splits a field.
 *
 * Growth: a day's hash holds at most (reps active on the shard that day) × (counters touched),
 * about 10 + 3 × (steps × lead types in use) counters per rep — ≈ 60 for the shipped playbook
 * (2 cadences × 8 rows × 1 lead type each, plus activity) — and most reps touch far fewer per
 * shard. Every hash expires CADENCE_STATS_RETENTION_DAYS after its day (the worker repeats an
 * EXPIREAT right behind each apply), so Redis keeps shards × retention days of them at most.
 *
 * Reads: the gateway reads shards × days hashes with HGETALL, CADENCE_STORE_STATS_READ_CHUNK
 * commands per pipelined round trip, and sums what it needs (services/gateway/stats.c).
 */
#ifndef CADENCE_STORE_STATS_H
#define CADENCE_STORE_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "store/redis.h"

#define CADENCE_STORE_STATS_REP_SEP '|'
/* Longest field: a 64-byte rep id, the separator, a counter name of up to 127 bytes. */
#define CADENCE_STORE_STATS_FIELD_MAX 200
/* HGETALL commands per round trip of a read. */
#define CADENCE_STORE_STATS_READ_CHUNK 32

/* 1 when `day` is a real calendar date written "YYYY-MM-DD" (years 1970-9999), else 0. */
int cadence_store_stats_day_valid(const char *day);

/* Days since 1970-01-01 of a valid `day` (-1 when not valid). */
int64_t cadence_store_stats_day_number(const char *day);

/* Writes day number `n` (≥ 0) as "YYYY-MM-DD" into `out` (11 bytes). */
void cadence_store_stats_day_text(int64_t n, char out[11]);

/* The field of counter `name` for `rep` ("<rep>|<name>"; `name` alone when rep is NULL),
 * written into `buf` (truncated to `size`); returns buf. */
const char *cadence_store_stats_field(char *buf, size_t size, const char *rep, const char *name);

/*
 * When the hash of `day` expires (Unix seconds): `retention_days` + 2 days after the day's
 * midnight UTC (the two days cover every time zone); 0 for no expiry (retention_days ≤ 0 or
 * a bad day). The apply script sets it when a counter creates its field in the hash.
 */
int64_t cadence_store_stats_expire_at(const char *day, long retention_days);

/* One stored counter of a read: `day` is the index in the range (0 = from_day). Strings are
 * borrowed for the callback (not NUL-terminated: use the lengths). */
typedef struct cadence_store_stats_cell {
    size_t day;
    const char *rep;
    size_t rep_len;
    const char *counter;
    size_t counter_len;
    long long value;
} cadence_store_stats_cell;

typedef void (*cadence_store_stats_cell_cb)(const cadence_store_stats_cell *cell, void *arg);
/* The end of a read: `error` NULL when every hash was read, else why (borrowed). */
typedef void (*cadence_store_stats_done_cb)(const char *error, void *arg);

/*
 * Reads the counters of `n_days` ≥ 1 local days from `from_day` (valid) over `shards` shards,
 * of one rep (`rep` a valid id) or of all (NULL): `each` is called per counter, then `done`
 * once. On CADENCE_REDIS_OK the callbacks follow (from the event loop); on any other status
 * neither is called.
 */
enum cadence_redis_status cadence_store_read_stats(cadence_redis *r, uint32_t shards,
                                                   const char *from_day, size_t n_days,
                                                   const char *rep,
                                                   cadence_store_stats_cell_cb each,
                                                   cadence_store_stats_done_cb done, void *arg);

#endif
