/* See settings.h. */
#include "store/settings.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

static void on_config(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    (void)arg;
    if (error || !reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
        reply->element[1]->type != REDIS_REPLY_STRING) {
        const char *why = error                                       ? error
                          : reply && reply->type == REDIS_REPLY_ERROR ? reply->str
                                                                      : "unexpected reply";
        cadence_log_json(
            CADENCE_LOG_INFO, "could not read the Redis setting hash-max-listpack-value",
            json_pack("{s:s,s:i}", "error", why, "recommended", CADENCE_STORE_HASH_LISTPACK_VALUE));
        return;
    }
    long v = strtol(reply->element[1]->str, NULL, 10);
    if (v >= CADENCE_STORE_HASH_LISTPACK_VALUE)
        cadence_log_json(CADENCE_LOG_INFO, "Redis settings checked",
                         json_pack("{s:i}", "hash_max_listpack_value", (int)v));
    else
        cadence_log_json(CADENCE_LOG_WARN,
                         "Redis hash-max-listpack-value is below what a lead's hash needs to stay "
                         "compact: each lead takes about 1 KB more (see redis/cadence.conf)",
                         json_pack("{s:i,s:i}", "hash_max_listpack_value", (int)v, "recommended",
                                   CADENCE_STORE_HASH_LISTPACK_VALUE));
}

enum cadence_redis_status cadence_store_check_settings(cadence_redis *r)
{
    const char *argv[] = {"CONFIG", "GET", "hash-max-listpack-value"};
    return cadence_redis_command_argv(r, on_config, NULL, 3, argv, NULL);
}
