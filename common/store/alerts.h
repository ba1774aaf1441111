/*
 * alerts — a rep's call-now alerts in Redis: the stream `cad:{r:<rep_id>}:alerts` and its
 * dedupe set (store/keys.h), written by the gateways' fan-in from alerts.v1 and read by their
 * SSE feeds. Appending goes through lua/append_alert.lua (once per dedupe id); reading is
 * XRANGE / XREVRANGE / XREAD, here and nowhere else.
 */
#ifndef CADENCE_STORE_ALERTS_H
#define CADENCE_STORE_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include "store/redis.h"

/* Registers lua/append_alert.lua with the client (see cadence_redis_script_add). */
const cadence_redis_script *cadence_store_append_alert_script(cadence_redis *r, char *errstr,
                                                              size_t errstr_size);

/* One alert to append; strings borrowed for the call only. */
typedef struct cadence_store_alert_in {
    const char *rep_id;    /* a validated id: whose stream */
    const char *dedupe_id; /* appended once per dedupe id ("<alert_id>" or "<alert_id>#r<n>") */
    const char *json;      /* the alert as received */
    size_t json_len;
} cadence_store_alert_in;

/* How the stream and its dedupe set are bounded. */
typedef struct cadence_store_alert_limits {
    long stream_maxlen; /* entries a rep's stream keeps (approximately: MAXLEN ~) */
    long ids_max;       /* dedupe ids kept (the newest) */
} cadence_store_alert_limits;

/* appended[i] is 1 when alerts[i] was appended, 0 when its dedupe id was seen before. On
 * failure appended is NULL and `error` says why (some may have been appended: retrying is
 * safe, the dedupe set makes it idempotent). */
typedef void (*cadence_store_append_cb)(const int *appended, size_t n, const char *error,
                                        void *arg);

/*
 * Appends `n` ≥ 1 alerts in one pipelined round trip, stamping each dedupe id with `now_ms`.
 * On CADENCE_REDIS_OK `cb` is called exactly once; otherwise never.
 */
enum cadence_redis_status
cadence_store_append_alerts(cadence_redis *r, const cadence_redis_script *script,
                            const cadence_store_alert_in *alerts, size_t n,
                            const cadence_store_alert_limits *limits, int64_t now_ms,
                            cadence_store_append_cb cb, void *arg);

/* One stream entry; strings borrowed for the callback. */
typedef struct cadence_store_alert {
    const char *id;   /* the stream id, "<ms>-<seq>" */
    const char *json; /* the alert; NULL when the entry has no alert field */
    size_t json_len;
} cadence_store_alert;

/* Entries in stream order (oldest first), or entries NULL with `error` on failure. */
typedef void (*cadence_store_alerts_cb)(const cadence_store_alert *entries, size_t n,
                                        const char *error, void *arg);

/*
 * Reads up to `count` entries of rep `rep_id`'s stream after stream id `after` (exclusive;
 * "0-0" for the start), oldest first. On CADENCE_REDIS_OK `cb` is called exactly once.
 */
enum cadence_redis_status cadence_store_read_alerts_after(cadence_redis *r, const char *rep_id,
                                                          const char *after, long count,
                                                          cadence_store_alerts_cb cb, void *arg);

/*
 * Reads the newest `count` entries of rep `rep_id`'s stream, oldest first. On
 * CADENCE_REDIS_OK `cb` is called exactly once.
 */
enum cadence_redis_status cadence_store_read_alerts_newest(cadence_redis *r, const char *rep_id,
                                                           long count, cadence_store_alerts_cb cb,
                                                           void *arg);

/* One rep of a poll: its stream is read after `cursor` (a stream id). Borrowed for the call. */
typedef struct cadence_store_alert_cursor {
    const char *rep_id;
    const char *cursor;
} cadence_store_alert_cursor;

/* For each polled rep i, its new entries (n[i] of them, possibly 0), oldest first; entries
 * NULL with `error` when the poll failed as a whole. */
typedef void (*cadence_store_poll_cb)(const cadence_store_alert *const *entries, const size_t *n,
                                      size_t reps, const char *error, void *arg);

/*
 * Reads, without blocking, up to `count` new entries of each of `reps` ≥ 1 streams (one
 * pipelined round trip; one XREAD per rep). On CADENCE_REDIS_OK `cb` is called exactly once.
 */
enum cadence_redis_status cadence_store_poll_alerts(cadence_redis *r,
                                                    const cadence_store_alert_cursor *cursors,
                                                    size_t reps, long count,
                                                    cadence_store_poll_cb cb, void *arg);

#endif
