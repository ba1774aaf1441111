/*
 * settings — checks the Redis settings cadence's data model is sized for (redis/cadence.conf)
 * and says, in the log, what a different setting costs. Never changes the server's settings.
 */
#ifndef CADENCE_STORE_SETTINGS_H
#define CADENCE_STORE_SETTINGS_H

#include "store/redis.h"

/* The largest value a Redis hash keeps in its compact (listpack) encoding that a lead's hash
 * needs so that it is one listpack: redis/cadence.conf sets it. */
#define CADENCE_STORE_HASH_LISTPACK_VALUE 1024

/*
 * Reads `hash-max-listpack-value` (CONFIG GET) and logs a warning when it is below
 * CADENCE_STORE_HASH_LISTPACK_VALUE: each lead's hash then takes about 1 KB more memory. A
 * server that refuses CONFIG (a managed Redis, an ACL) is logged at info level. Fire and forget:
 * returns the status of the send (see cadence_redis_command_argv).
 */
enum cadence_redis_status cadence_store_check_settings(cadence_redis *r);

#endif
