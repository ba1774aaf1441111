/*
 * stats — reading the counters the apply script adds to each shard's statistics hash
 * (`cad:{s<N>}:stats`, store/keys.h): one pipelined HGETALL per shard, summed here, so the
 * reader sees team-wide totals by counter name.
 */
#ifndef CADENCE_STORE_STATS_H
#define CADENCE_STORE_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "store/redis.h"

/* One counter summed over every shard; `name` borrowed for the callback. */
typedef struct cadence_store_stat {
    const char *name;
    int64_t value;
} cadence_store_stat;

/* The counters (each name once, in no particular order), or stats NULL with `error`. */
typedef void (*cadence_store_stats_cb)(const cadence_store_stat *stats, size_t n, const char *error,
                                       void *arg);

/*
 * Reads and sums the statistics of shards 0 … shards-1 (shards ≥ 1) in one round trip. On
 * CADENCE_REDIS_OK `cb` is called exactly once; otherwise never.
 */
enum cadence_redis_status cadence_store_read_stats(cadence_redis *r, uint32_t shards,
                                                   cadence_store_stats_cb cb, void *arg);

#endif
