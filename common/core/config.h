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
    char *instance_id;                /* CADENCE_INSTANCE_ID, NULL when unset */
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
    long redis_wait_replicas;         /* CADENCE_REDIS_WAIT_REPLICAS (cluster) */
    long redis_cluster;               /* CADENCE_REDIS_CLUSTER: 1 = Redis Cluster */
    long redis_timeout_ms;            /* CADENCE_REDIS_TIMEOUT_MS: deadline of one Redis command */
    long tick_ms;                     /* CADENCE_TICK_MS: scheduler tick */
    long lease_ms;                    /* CADENCE_LEASE_MS: scheduler claim lease */
    long max_body_bytes;              /* CADENCE_MAX_BODY_BYTES: gateway request bodies */
    long stats_retention_days;        /* CADENCE_STATS_RETENTION_DAYS: worker, counters kept */
    long stats_max_days;              /* CADENCE_STATS_MAX_DAYS: gateway, longest stats range */
    /* cadence-notifier (services/notifier/) */
    char *notify_routes;             /* CADENCE_NOTIFY_ROUTES, NULL when unset */
    char *console_url;               /* CADENCE_CONSOLE_URL: base of the lead links */
    long notify_connect_timeout_ms;  /* CADENCE_NOTIFY_CONNECT_TIMEOUT_MS */
    long notify_timeout_ms;          /* CADENCE_NOTIFY_TIMEOUT_MS: one request, start to end */
    long notify_retry_base_ms;       /* CADENCE_NOTIFY_RETRY_BASE_MS: first retry delay */
    long notify_retry_max_ms;        /* CADENCE_NOTIFY_RETRY_MAX_MS: retry delay cap */
    long notify_retry_budget_s;      /* CADENCE_NOTIFY_RETRY_BUDGET_S: then the DLQ */
    long notify_slack_interval_ms;   /* CADENCE_NOTIFY_SLACK_INTERVAL_MS: per Slack webhook */
    long notify_webhook_interval_ms; /* CADENCE_NOTIFY_WEBHOOK_INTERVAL_MS: per webhook URL */
    long notify_concurrency;         /* CADENCE_NOTIFY_CONCURRENCY: requests per destination */
    long notify_max_pending;         /* CADENCE_NOTIFY_MAX_PENDING: alerts in hand */
    /* Gateway connection limits (services/gateway/conn.c). */
    long http_max_request_line; /* CADENCE_HTTP_MAX_REQUEST_LINE → 414 */
    long http_max_header_bytes; /* CADENCE_HTTP_MAX_HEADER_BYTES → 431 */
    long http_read_timeout_ms;  /* CADENCE_HTTP_READ_TIMEOUT_MS: one request's head + body */
    long http_idle_timeout_ms;  /* CADENCE_HTTP_IDLE_TIMEOUT_MS: idle keep-alive connection */
    long http_linger_ms;        /* CADENCE_HTTP_LINGER_MS: reading on after a refusal */
    long http_max_connections;  /* CADENCE_HTTP_MAX_CONNECTIONS → 503 */
    long sse_max_per_token;     /* CADENCE_SSE_MAX_PER_TOKEN → 429 */
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
