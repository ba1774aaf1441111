/*
 * rfc3339 — the one parser and formatter of RFC 3339 date-times ("2026-11-23T09:00:00Z",
 * "2026-11-23T09:00:00.250-05:00"), the only time text cadence reads or writes: event times,
 * due times, log timestamps, dead letters. Pure functions (no clock, no allocation the caller
 * sees), so the engine uses them too.
 */
#ifndef CADENCE_RFC3339_H
#define CADENCE_RFC3339_H

#include <stddef.h>
#include <stdint.h>

/* A buffer that holds any text these functions format, terminator included. */
#define CADENCE_RFC3339_SIZE 40

/*
 * 1 when the `len` bytes at `s` are an RFC 3339 date-time (section 5.6), checked strictly:
 * `T`/`Z` in either case, fractions of any length, an offset required, real calendar dates,
 * and a leap second only at 23:59:60 UTC. Else 0. This is the schemas' `date-time` format.
 */
int cadence_rfc3339_valid(const char *s, size_t len);

/*
 * Parses an RFC 3339 date-time (NUL-terminated; an offset is required) into Unix ms
 * (fractions below a millisecond are dropped). Returns 0, or -1 when `text` is NULL or not
 * such a time.
 */
int cadence_rfc3339_parse(const char *text, int64_t *ms);

/* Formats Unix `ms` in UTC: "2026-11-23T09:00:00Z", with ".123" only when ms are not 0. */
void cadence_rfc3339_format(int64_t ms, char *out, size_t out_size);

/* Formats Unix `ms` in UTC always with milliseconds: "2026-11-23T09:00:00.000Z" (logs). */
void cadence_rfc3339_format_ms(int64_t ms, char *out, size_t out_size);

/* Formats Unix `ms` at a UTC offset of `offset_s` seconds: "2026-11-23T04:00:00-05:00"
 * (".123" only when ms are not 0). The caller knows the offset (engine/tzcache.h). */
void cadence_rfc3339_format_offset(int64_t ms, int32_t offset_s, char *out, size_t out_size);

#endif
