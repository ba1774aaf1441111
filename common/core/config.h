/*
 * config — every service's configuration, from environment variables.
 *
 * One table (config.c) lists each variable: name, parser, default, help. Every service loads
 * the same table; per-service defaults (consumer group, HTTP address) come from the service's
 * name. A bad value is reported naming the variable; services then exit with status 2
 * (cadence_config_load_or_exit). The README's configuration table is checked against this
 * table by the test suite.
 */
#ifndef CADENCE_CONFIG_H
#define CADENCE_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "core/log.h"
#include "core/redis_url.h"

/* Exit status for a configuration error. */
#define CADENCE_CONFIG_EXIT_STATUS 2

typedef struct cadence_config {
    /* Strings are owned by the config and freed by cadence_config_free(). */
    char *kafka_brokers;              /* CADENCE_KAFKA_BROKERS */
    char *kafka_config_file;          /* CADENCE_KAFKA_CONFIG, NULL when unset */
    char *redis_url_text;             /* CADENCE_REDIS_URL as given */
    cadence_redis_url redis;          /* ...parsed */
    char *playbook_path;              /* CADENCE_PLAYBOOK */
    char *schemas_dir;                /* CADENCE_SCHEMAS_DIR */
    char *group_id;                   /* CADENCE_GROUP_ID */
    char *http_addr;                  /* CADENCE_HTTP_ADDR as given ("host:port"), "" disables */
    char http_host[256];              /* ...host part */
    int http_port;                    /* ...port part */
    enum cadence_log_level log_level; /* CADENCE_LOG_LEVEL */
    char *tokens_file;                /* CADENCE_TOKENS_FILE, NULL when unset */
    char *webhook_secrets_file;       /* CADENCE_WEBHOOK_SECRETS, NULL when unset */
    long shards;                      /* CADENCE_SHARDS: due-set shards in Redis */
    long session_timeout_ms;          /* CADENCE_SESSION_TIMEOUT_MS: Kafka consumer session */
    long batch_max;                   /* CADENCE_BATCH_MAX: events per worker batch */
    long lead_cache_mb;               /* CADENCE_LEAD_CACHE_MB: worker's lead-state cache */
    long redis_timeout_ms;            /* CADENCE_REDIS_TIMEOUT_MS: deadline of one Redis command */
    long tick_ms;                     /* CADENCE_TICK_MS: scheduler tick */
    long lease_ms;                    /* CADENCE_LEASE_MS: scheduler claim lease */
    long max_body_bytes;              /* CADENCE_MAX_BODY_BYTES: gateway request bodies */
} cadence_config;

/*
 * Loads the configuration of `service` ("worker", "scheduler", "gateway", "devbroker",
 * "loadgen", "cli") from the environment into `cfg`. Returns 0, or -1 with `errstr` naming the
 * variable and what is wrong; `cfg` then holds nothing that needs freeing.
 */
int cadence_config_load(cadence_config *cfg, const char *service, char *errstr, size_t errstr_size);

/* As cadence_config_load; on error prints the message on stderr and exits with status 2. */
void cadence_config_load_or_exit(cadence_config *cfg, const char *service);

/* Frees what the config owns. Safe on a zeroed config. */
void cadence_config_free(cadence_config *cfg);

/* Prints the configuration table (name, default for `service`, meaning) for --help. */
void cadence_config_print_help(FILE *out, const char *service);

/* Number of variables in the table, and the name of the i-th (for checks against the README). */
size_t cadence_config_var_count(void);
const char *cadence_config_var_name(size_t i);

#endif
