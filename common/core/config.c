/*
 * config — the environment table and its parsers.
 *
 * Each row names a variable, how to parse it, where to store it and its default. Defaults that
 * differ per service (group id, HTTP address) are the `per_service` rows, looked up by service.
 */
#include "core/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum kind { K_STRING, K_OPT_FILE, K_FILE, K_DIR, K_REDIS, K_ADDR, K_LEVEL, K_LONG, K_NAME };

struct var {
    const char *name;
    enum kind kind;
    size_t offset;   /* where the parsed value goes in cadence_config */
    const char *def; /* default, NULL = unset; "@" = per service */
    long min, max;   /* K_LONG bounds */
    const char *help;
};

#define OFF(f) offsetof(cadence_config, f)

static const struct var vars[] = {
    {"CADENCE_KAFKA_BROKERS", K_STRING, OFF(kafka_brokers), "127.0.0.1:9092", 0, 0,
     "Kafka bootstrap servers (host:port[,host:port...])"},
    {"CADENCE_KAFKA_CONFIG", K_OPT_FILE, OFF(kafka_config_file), NULL, 0, 0,
     "optional file of librdkafka key=value lines (SASL, TLS, tuning), as kcat -F reads"},
    {"CADENCE_REDIS_URL", K_REDIS, OFF(redis_url_text), "redis://127.0.0.1:6379", 0, 0,
     "redis://[[user]:password@]host[:port][/db] or unix:///path[?db=N]; with "
     "CADENCE_REDIS_CLUSTER=1 one or more seed nodes, comma-separated (redis://h1:p1,h2:p2)"},
    {"CADENCE_REDIS_CLUSTER", K_LONG, OFF(redis_cluster), "0", 0, 1,
     "1: Redis Cluster (commands routed by hash slot, MOVED/ASK followed); 0: one Redis"},
    {"CADENCE_REDIS_WAIT_REPLICAS", K_LONG, OFF(redis_wait_replicas), "0", 0, 16,
     "Redis Cluster: a write counts as done only once this many replicas have it (WAIT); 1 "
     "with one replica per master, so a failover loses no acknowledged write; 0: no wait"},
    {"CADENCE_PLAYBOOK", K_FILE, OFF(playbook_path), CADENCE_DATA_DIR "/examples/playbook.json", 0,
     0, "the playbook file (cadences, rules, hot pages, messages, business hours)"},
    {"CADENCE_SCHEMAS_DIR", K_DIR, OFF(schemas_dir), CADENCE_DATA_DIR "/schemas", 0, 0,
     "directory of the JSON Schemas events are validated against"},
    {"CADENCE_GROUP_ID", K_STRING, OFF(group_id), "@", 0, 0, "Kafka consumer group"},
    {"CADENCE_INSTANCE_ID", K_NAME, OFF(instance_id), NULL, 0, 0,
     "static group membership (group.instance.id), unique per process of a group: a restart "
     "within the session timeout gets its partitions back without a rebalance; unset = dynamic"},
    {"CADENCE_HTTP_ADDR", K_ADDR, OFF(http_addr), "@", 0, 0,
     "host:port for /healthz and /metrics (the gateway also serves its API); empty disables"},
    {"CADENCE_LOG_LEVEL", K_LEVEL, 0, "info", 0, 0, "debug, info, warn or error"},
    {"CADENCE_TOKENS_FILE", K_OPT_FILE, OFF(tokens_file), NULL, 0, 0,
     "gateway bearer tokens: lines of '<sha256 hex> <role> <rep_id or *>'"},
    {"CADENCE_WEBHOOK_SECRETS", K_OPT_FILE, OFF(webhook_secrets_file), NULL, 0, 0,
     "gateway webhook secrets: lines of '<source> <secret>'"},
    {"CADENCE_SHARDS", K_LONG, OFF(shards), "16", 1, 16384,
     "number of due-set shards in Redis (same value for every service)"},
    {"CADENCE_SESSION_TIMEOUT_MS", K_LONG, OFF(session_timeout_ms), "10000", 1000, 300000,
     "Kafka consumer session timeout: how soon a dead worker's partitions move"},
    {"CADENCE_BATCH_MAX", K_LONG, OFF(batch_max), "500", 1, 100000,
     "most events a worker takes into one batch"},
    {"CADENCE_LEAD_CACHE_MB", K_LONG, OFF(lead_cache_mb), "256", 0, 1048576,
     "worker: memory for the lead states it wrote last (skips their Redis read); 0 disables"},
    {"CADENCE_REDIS_TIMEOUT_MS", K_LONG, OFF(redis_timeout_ms), "2000", 10, 600000,
     "deadline of one Redis command before the connection is reset and retried"},
    {"CADENCE_TICK_MS", K_LONG, OFF(tick_ms), "200", 10, 60000,
     "scheduler tick: how often due sets are polled"},
    {"CADENCE_LEASE_MS", K_LONG, OFF(lease_ms), "30000", 100, 3600000,
     "scheduler claim lease: a claimed task not acknowledged by then is handed out again"},
    {"CADENCE_MAX_BODY_BYTES", K_LONG, OFF(max_body_bytes), "1048576", 1024, 67108864,
     "gateway: largest accepted request body (413 above)"},
    {"CADENCE_STATS_RETENTION_DAYS", K_LONG, OFF(stats_retention_days), "400", 1, 36600,
     "worker: days the managers' daily counters are kept in Redis (older days expire)"},
    {"CADENCE_STATS_MAX_DAYS", K_LONG, OFF(stats_max_days), "366", 1, 36600,
     "gateway: longest date range of one GET /v1/stats (400 above)"},
    {"CADENCE_NOTIFY_ROUTES", K_OPT_FILE, OFF(notify_routes), NULL, 0, 0,
     "notifier: routes file, lines of '<rep_id or *> slack <url>' or '<rep_id or *> webhook <url> "
     "<secret>' (re-read on SIGHUP; required by the notifier)"},
    {"CADENCE_CONSOLE_URL", K_STRING, OFF(console_url), "http://127.0.0.1:8080/", 0, 0,
     "notifier: the console's address, for the 'Open lead' links in Slack messages"},
    {"CADENCE_NOTIFY_CONNECT_TIMEOUT_MS", K_LONG, OFF(notify_connect_timeout_ms), "3000", 100,
     600000, "notifier: deadline to connect to a destination (TCP + TLS)"},
    {"CADENCE_NOTIFY_TIMEOUT_MS", K_LONG, OFF(notify_timeout_ms), "10000", 100, 600000,
     "notifier: deadline of one delivery request, connect to last byte"},
    {"CADENCE_NOTIFY_RETRY_BASE_MS", K_LONG, OFF(notify_retry_base_ms), "500", 10, 600000,
     "notifier: first retry delay; doubles per attempt, with jitter"},
    {"CADENCE_NOTIFY_RETRY_MAX_MS", K_LONG, OFF(notify_retry_max_ms), "60000", 10, 3600000,
     "notifier: longest retry delay (the cap of the exponential backoff)"},
    {"CADENCE_NOTIFY_RETRY_BUDGET_S", K_LONG, OFF(notify_retry_budget_s), "3600", 0, 604800,
     "notifier: how long a failing delivery is retried before it goes to cadence-dlq.v1"},
    {"CADENCE_NOTIFY_SLACK_INTERVAL_MS", K_LONG, OFF(notify_slack_interval_ms), "1000", 0, 600000,
     "notifier: least time between two messages to one Slack webhook (more wait in its queue)"},
    {"CADENCE_NOTIFY_WEBHOOK_INTERVAL_MS", K_LONG, OFF(notify_webhook_interval_ms), "0", 0, 600000,
     "notifier: least time between two requests to one signed webhook; 0 = no limit"},
    {"CADENCE_NOTIFY_CONCURRENCY", K_LONG, OFF(notify_concurrency), "4", 1, 256,
     "notifier: requests in flight at once to one destination"},
    {"CADENCE_NOTIFY_MAX_PENDING", K_LONG, OFF(notify_max_pending), "1000", 1, 1000000,
     "notifier: alerts read and not yet delivered; consumption pauses above this"},
    {"CADENCE_HTTP_MAX_REQUEST_LINE", K_LONG, OFF(http_max_request_line), "16384", 256, 1048576,
     "gateway: longest request line in bytes (414 above)"},
    {"CADENCE_HTTP_MAX_HEADER_BYTES", K_LONG, OFF(http_max_header_bytes), "16384", 1024, 1048576,
     "gateway: request header lines together, in bytes (431 above)"},
    {"CADENCE_HTTP_READ_TIMEOUT_MS", K_LONG, OFF(http_read_timeout_ms), "30000", 100, 3600000,
     "gateway: a request's head and body must arrive within this of its first byte (408)"},
    {"CADENCE_HTTP_IDLE_TIMEOUT_MS", K_LONG, OFF(http_idle_timeout_ms), "60000", 100, 3600000,
     "gateway: a connection with nothing received or sent for this long is closed"},
    {"CADENCE_HTTP_LINGER_MS", K_LONG, OFF(http_linger_ms), "5000", 0, 60000,
     "gateway: after a refusal (413, 431...), how long input is read and discarded before closing"},
    {"CADENCE_HTTP_MAX_CONNECTIONS", K_LONG, OFF(http_max_connections), "4096", 1, 1000000,
     "gateway: open connections (SSE streams included); new ones get 503 above"},
    {"CADENCE_SSE_MAX_PER_TOKEN", K_LONG, OFF(sse_max_per_token), "8", 1, 100000,
     "gateway: open alert streams of one token (429 above)"},
};

static const struct {
    const char *service, *group_id, *http_addr;
} per_service[] = {
    {"worker", "cadence-worker", "127.0.0.1:9101"},
    {"scheduler", "cadence-scheduler", "127.0.0.1:9102"},
    {"gateway", "cadence-gateway", "127.0.0.1:8080"},
    {"devbroker", "cadence-devbroker", ""},
    {"loadgen", "cadence-loadgen", ""},
    {"cli", "cadence-cli", ""},
    {"notifier", "cadence-notifier", "127.0.0.1:9104"},
};

static const char *service_default(const char *service, const char *name)
{
    for (size_t i = 0; i < sizeof(per_service) / sizeof(per_service[0]); i++) {
        if (strcmp(per_service[i].service, service) != 0)
            continue;
        return strcmp(name, "CADENCE_GROUP_ID") == 0 ? per_service[i].group_id
                                                     : per_service[i].http_addr;
    }
    return "";
}

static int parse_addr(cadence_config *cfg, const char *v, char *err, size_t n)
{
    if (!*v) { /* disabled */
        cfg->http_host[0] = '\0';
        cfg->http_port = 0;
        return 0;
    }
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v) {
        snprintf(err, n, "must be host:port (got \"%.60s\")", v);
        return -1;
    }
    size_t hlen = (size_t)(colon - v);
    if (hlen >= sizeof(cfg->http_host)) {
        snprintf(err, n, "host too long");
        return -1;
    }
    char *end = NULL;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || port < 0 || port > 65535) {
        snprintf(err, n, "port must be a number from 0 to 65535 (got \"%.20s\")", colon + 1);
        return -1;
    }
    memcpy(cfg->http_host, v, hlen);
    cfg->http_host[hlen] = '\0';
    cfg->http_port = (int)port;
    return 0;
}

static int parse_one(cadence_config *cfg, const struct var *var, const char *v, int from_env,
                     char *err, size_t n)
{
    char **slot = (char **)((char *)cfg + var->offset);
    switch (var->kind) {
    case K_STRING:
        if (!*v) {
            snprintf(err, n, "must not be empty");
            return -1;
        }
        break;
    case K_OPT_FILE:
    case K_FILE:
        /* A shipped default is checked by whoever opens it; a value the operator set is
         * checked here, so a typo stops start-up naming the variable. */
        if (from_env && access(v, R_OK) != 0) {
            snprintf(err, n, "cannot read file \"%.200s\": %s", v, strerror(errno));
            return -1;
        }
        break;
    case K_DIR:
        if (from_env && access(v, R_OK | X_OK) != 0) {
            snprintf(err, n, "cannot read directory \"%.200s\": %s", v, strerror(errno));
            return -1;
        }
        break;
    case K_REDIS:
        if (cadence_redis_url_parse(v, &cfg->redis, err, n) != 0)
            return -1;
        break;
    case K_ADDR:
        if (parse_addr(cfg, v, err, n) != 0)
            return -1;
        break;
    case K_NAME:
        /* Kafka's rule for group.instance.id: 1-249 of [a-zA-Z0-9._-]. */
        if (!*v || strlen(v) > 249 ||
            strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789._-") != strlen(v)) {
            snprintf(err, n, "must be 1-249 of the characters a-z A-Z 0-9 . _ - (got \"%.60s\")",
                     v);
            return -1;
        }
        break;
    case K_LEVEL:
        if (cadence_log_level_parse(v, &cfg->log_level) != 0) {
            snprintf(err, n, "must be one of debug, info, warn, error (got \"%.40s\")", v);
            return -1;
        }
        return 0;
    case K_LONG: {
        char *end = NULL;
        errno = 0;
        long x = strtol(v, &end, 10);
        if (errno || end == v || *end || x < var->min || x > var->max) {
            snprintf(err, n, "must be a whole number from %ld to %ld (got \"%.40s\")", var->min,
                     var->max, v);
            return -1;
        }
        *(long *)((char *)cfg + var->offset) = x;
        return 0;
    }
    }
    *slot = strdup(v);
    return *slot ? 0 : -1;
}

int cadence_config_load(cadence_config *cfg, const char *service, char *errstr, size_t errstr_size)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const struct var *var = &vars[i];
        const char *v = getenv(var->name);
        int from_env = v != NULL;
        if (!v && var->def && strcmp(var->def, "@") == 0)
            v = service_default(service, var->name);
        else if (!v)
            v = var->def;
        if (!v)
            continue; /* optional and unset */
        if (!from_env && var->kind == K_OPT_FILE)
            continue;
        char why[512];
        if (parse_one(cfg, var, v, from_env, why, sizeof(why)) != 0) {
            snprintf(errstr, errstr_size, "%s: %s", var->name, why);
            cadence_config_free(cfg);
            return -1;
        }
    }
    cfg->redis.cluster = cfg->redis_cluster != 0;
    cfg->redis.wait_replicas = (int)cfg->redis_wait_replicas;
    const char *why = NULL;
    if (!cfg->redis.cluster && cfg->redis.nseeds > 1)
        why = "CADENCE_REDIS_URL: several nodes need CADENCE_REDIS_CLUSTER=1";
    else if (cfg->redis.cluster && cfg->redis.is_unix)
        why = "CADENCE_REDIS_URL: Redis Cluster needs redis:// seed nodes (TCP), not unix://";
    else if (cfg->redis.cluster && cfg->redis.db != 0)
        why = "CADENCE_REDIS_URL: Redis Cluster has only database 0";
    else if (!cfg->redis.cluster && cfg->redis.wait_replicas > 0)
        why = "CADENCE_REDIS_WAIT_REPLICAS: needs CADENCE_REDIS_CLUSTER=1";
    if (why) {
        snprintf(errstr, errstr_size, "%s", why);
        cadence_config_free(cfg);
        return -1;
    }
    return 0;
}

void cadence_config_load_or_exit(cadence_config *cfg, const char *service)
{
    char err[768];
    if (cadence_config_load(cfg, service, err, sizeof(err)) != 0) {
        fprintf(stderr, "cadence-%s: configuration error: %s\n", service, err);
        exit(CADENCE_CONFIG_EXIT_STATUS);
    }
}

void cadence_config_free(cadence_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        if (vars[i].kind == K_LEVEL || vars[i].kind == K_LONG)
            continue;
        char **slot = (char **)((char *)cfg + vars[i].offset);
        free(*slot);
        *slot = NULL;
    }
}

void cadence_config_print_help(FILE *out, const char *service)
{
    fprintf(out, "Configuration (environment variables):\n");
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *def = vars[i].def;
        if (def && strcmp(def, "@") == 0)
            def = service_default(service, vars[i].name);
        fprintf(out, "  %-28s %s\n  %-28s (default: %s)\n", vars[i].name, vars[i].help, "",
                def ? (*def ? def : "\"\"") : "unset");
    }
}

size_t cadence_config_var_count(void)
{
    return sizeof(vars) / sizeof(vars[0]);
}

const char *cadence_config_var_name(size_t i)
{
    return i < cadence_config_var_count() ? vars[i].name : NULL;
}
