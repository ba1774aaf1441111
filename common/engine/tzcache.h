/*
 * tzcache — IANA time zones for the engine, and the calendar arithmetic on top of them.
 *
 * The engine has no globals, so the caller owns a cadence_tzcache (one per thread: it is not
 * locked) and passes it to every cadence_engine_apply call. It caches one GTimeZone per name.
 * Looking a name up is the engine's one read of system data: GLib reads the system tz
 * database (/usr/share/zoneinfo) the first time a name is seen; we never parse TZif by hand.
 * An unknown name yields NULL and the caller falls back to the playbook's default zone.
 *
 * Times are Unix milliseconds (int64_t) everywhere in the engine.
 */
#ifndef CADENCE_ENGINE_TZCACHE_H
#define CADENCE_ENGINE_TZCACHE_H

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "base/rfc3339.h" /* parsing and UTC formatting */

typedef struct cadence_tzcache cadence_tzcache;

/*
 * One zone of the cache: the GTimeZone and a small memo of UTC-offset spans. GLib's interval
 * lookups scan the zone's transitions linearly; the memo answers repeated lookups near the same
 * times (the common case: one lead's schedule) in a few comparisons. A span is found around a
 * time by bisection within ±7 days, assuming no zone changes its offset twice in 7 days.
 */
typedef struct cadence_tz cadence_tz;

/* A new, empty cache; free with cadence_tzcache_free. Never NULL. */
cadence_tzcache *cadence_tzcache_new(void);

/* Frees the cache and its zones; NULL is a no-op. */
void cadence_tzcache_free(cadence_tzcache *tz);

/* The zone named `name` (IANA, e.g. "America/New_York", or "UTC"), borrowed from the cache,
 * or NULL when the system tz database has no such zone. */
cadence_tz *cadence_tzcache_get(cadence_tzcache *tz, const char *name);

/* The zone's GTimeZone (borrowed). */
GTimeZone *cadence_tz_gtimezone(const cadence_tz *zone);

/* Formats `ms` as RFC 3339 with the local offset of `zone` ("2026-11-23T09:00:00-05:00"; UTC
 * with "Z" when `zone` is NULL). Parsing and UTC formatting: base/rfc3339.h. */
void cadence_time_format_local(int64_t ms, cadence_tz *zone, char *out, size_t out_size);

/* The local calendar date of `ms` in `zone` as a GDate Julian day, and the minutes after local
 * midnight in *minute (may be NULL). */
uint32_t cadence_time_local_day(int64_t ms, cadence_tz *zone, int *minute);

/* The instant of local `julian` day at `minute` after midnight in `zone` (a time skipped by
 * a DST change moves forward, as GLib's g_date_time_new does). No allocation: the zone's
 * intervals are looked up with g_time_zone_find_interval / g_time_zone_adjust_time. */
int64_t cadence_time_at_local(uint32_t julian, int minute, cadence_tz *zone);

#endif
