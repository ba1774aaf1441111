/*
 * apply — applying one event to one lead in Redis, all or nothing, as a typed operation: the
 * caller describes the writes (cadence_store_apply_args), the store names the keys, packs the
 * arguments of lua/apply_event.lua and parses its reply into a cadence_store_apply_result.
 */
#ifndef CADENCE_STORE_APPLY_H
#define CADENCE_STORE_APPLY_H

#include <stddef.h>
#include <stdint.h>

#include "store/redis.h"

/* What happens to the lead's scheduled touch. */
enum cadence_store_touch {
    CADENCE_STORE_TOUCH_KEEP,   /* leave it */
    CADENCE_STORE_TOUCH_SET,    /* schedule task_id at task_due_ms with task_json */
    CADENCE_STORE_TOUCH_CANCEL, /* only drop drop_task_id */
};

typedef struct cadence_store_counter {
    const char *name; /* the counter (engine/engine.h names) */
    int64_t delta;
    const char *rep; /* the rep it counts for; NULL: the field is `name` alone */
} cadence_store_counter;

/* Every string is borrowed for the duration of cadence_store_apply() only. */
typedef struct cadence_store_apply_args {
    uint32_t shard;       /* cadence_keys_shard(lead_id, shards) */
    const char *lead_id;  /* a validated id */
    const char *event_id; /* a validated id */
    /* The Kafka message the event came from (source_topic NULL: none, e.g. a test). Every
     * event of this lead from that topic and partition up to offset source_floor is applied
     * once this one is: the store then treats any of them as a duplicate (a redelivery after
     * a crash), however many events of the lead were in flight. */
    const char *source_topic;
    int32_t source_partition;
    int64_t source_offset;
    int64_t source_floor;
    int check_only; /* 1: only look the event up (a replay), write nothing */
    long expected_version;
    /* NULL, or the event whose apply (sent before this one, its reply not yet in) must have
     * written expected_version: else this apply is a conflict, not an overwrite of another
     * worker's write. */
    const char *after_event_id;
    const char *state_json; /* the lead's new state */
    const char *outbox;     /* the outputs ("[]" or NULL: none; stored as a zstd frame,
                               store/codec.h), kept with the lead's last
                               CADENCE_STORE_OUTBOXES so a replay re-emits them */
    enum cadence_store_touch touch;
    const char *drop_task_id;              /* "" or NULL: none */
    const char *task_id;                   /* TOUCH_SET */
    int64_t task_due_ms;                   /* TOUCH_SET */
    const char *task_json;                 /* TOUCH_SET */
    const char *timeline_json;             /* NULL or "": no timeline entry */
    const cadence_store_counter *counters; /* ignored when check_only */
    size_t n_counters;
    /* The local day of the counters ("YYYY-MM-DD"): they go to the shard's hash of that day
     * (store/stats.h), which expires `stats_retention_days` after the day (0: never). NULL or
     * "": the shard's undated hash (cadence_keys_stats). */
    const char *stats_day;
    long stats_retention_days;
} cadence_store_apply_args;

enum cadence_store_verdict {
    CADENCE_STORE_APPLIED,     /* written; version and unqueued are set */
    CADENCE_STORE_DUPLICATE,   /* applied before: outbox holds what was recorded then ("" when
                                  the lead no longer keeps it: older than its last outboxes) */
    CADENCE_STORE_NOT_APPLIED, /* check_only, and the event was never applied */
    CADENCE_STORE_CONFLICT,    /* the lead's version is not the expected one (version: its own) */
    CADENCE_STORE_FAILED,      /* no answer: error says why */
};

typedef struct cadence_store_apply_result {
    enum cadence_store_verdict verdict;
    long version;       /* APPLIED: the new version; CONFLICT: the stored one */
    int unqueued;       /* APPLIED: 1 when the dropped task was still due (in no rep queue) */
    const char *outbox; /* DUPLICATE: the recorded outbox (borrowed for the callback) */
    size_t outbox_len;
    const char *error; /* FAILED: the reason */
    int script_error;  /* FAILED: 1 when Redis answered (an error reply or a malformed
                          reply), 0 on timeout or a lost connection */
} cadence_store_apply_result;

typedef void (*cadence_store_apply_cb)(const cadence_store_apply_result *res, void *arg);

/* Registers lua/apply_event.lua with the client (see cadence_redis_script_add). */
const cadence_redis_script *cadence_store_apply_script(cadence_redis *r, char *errstr,
                                                       size_t errstr_size);

/*
 * Sends the apply. On CADENCE_REDIS_OK `cb` is called exactly once; on any other status it is
 * not called (CADENCE_REDIS_INVALID also for an unknown touch action or no memory).
 */
enum cadence_redis_status cadence_store_apply(cadence_redis *r, const cadence_redis_script *script,
                                              const cadence_store_apply_args *a,
                                              cadence_store_apply_cb cb, void *arg);

/* An applied event whose outputs Kafka has acknowledged. Strings borrowed for the call. */
typedef struct cadence_store_outbox_ref {
    uint32_t shard;
    const char *lead_id;
    const char *event_id;
} cadence_store_outbox_ref;

/* Called once: `error` NULL when every outbox was dropped (borrowed for the call). */
typedef void (*cadence_store_forget_cb)(const char *error, void *arg);

/*
 * Drops the recorded outboxes of `n` applied events whose outputs Kafka acknowledged (one
 * pipelined round trip): a redelivery of them needs no outputs again, so a lead keeps an
 * outbox only while its outputs are in flight (and at most its last CADENCE_STORE_OUTBOXES,
 * should this never run). Idempotent. On CADENCE_REDIS_OK `cb` is called exactly once.
 */
enum cadence_redis_status cadence_store_forget_outboxes(cadence_redis *r,
                                                        const cadence_store_outbox_ref *refs,
                                                        size_t n, cadence_store_forget_cb cb,
                                                        void *arg);

#endif
