/* Tests for config: defaults per service, parsed values, and bad values naming the variable. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

static void clear_env(void)
{
    for (size_t i = 0; i < cadence_config_var_count(); i++)
        unsetenv(cadence_config_var_name(i));
}

TestSuite(config, .init = clear_env);

Test(config, uses_design_defaults)
{
    cadence_config c;
    char err[512];
    cr_assert_eq(cadence_config_load(&c, "worker", err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(c.kafka_brokers, "127.0.0.1:9092");
    cr_assert_null(c.kafka_config_file);
    cr_assert_str_eq(c.redis.host, "127.0.0.1");
    cr_assert_eq(c.redis.port, 6379);
    cr_assert_str_eq(c.group_id, "cadence-worker");
    cr_assert_eq(c.log_level, CADENCE_LOG_INFO);
    cr_assert_str_eq(c.http_host, "127.0.0.1");
    cr_assert_eq(c.http_port, 9101);
    cr_assert_eq(c.session_timeout_ms, 10000);
    cadence_config_free(&c);
}

Test(config, picks_per_service_defaults)
{
    cadence_config c;
    char err[512];
    cr_assert_eq(cadence_config_load(&c, "gateway", err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(c.group_id, "cadence-gateway");
    cr_assert_eq(c.http_port, 8080);
    cadence_config_free(&c);
}

Test(config, reads_values_from_the_environment)
{
    setenv("CADENCE_KAFKA_BROKERS", "k1:9093,k2:9093", 1);
    setenv("CADENCE_REDIS_URL", "redis://:pw@r:6390/2", 1);
    setenv("CADENCE_GROUP_ID", "g1", 1);
    setenv("CADENCE_HTTP_ADDR", "0.0.0.0:0", 1);
    setenv("CADENCE_LOG_LEVEL", "debug", 1);
    setenv("CADENCE_SHARDS", "128", 1);
    cadence_config c;
    char err[512];
    cr_assert_eq(cadence_config_load(&c, "scheduler", err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(c.kafka_brokers, "k1:9093,k2:9093");
    cr_assert_str_eq(c.redis.password, "pw");
    cr_assert_eq(c.redis.db, 2);
    cr_assert_str_eq(c.group_id, "g1");
    cr_assert_str_eq(c.http_host, "0.0.0.0");
    cr_assert_eq(c.http_port, 0);
    cr_assert_eq(c.log_level, CADENCE_LOG_DEBUG);
    cr_assert_eq(c.shards, 128);
    cadence_config_free(&c);
}

Test(config, empty_http_addr_disables_http)
{
    setenv("CADENCE_HTTP_ADDR", "", 1);
    cadence_config c;
    char err[512];
    cr_assert_eq(cadence_config_load(&c, "worker", err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(c.http_port, 0);
    cr_assert_str_eq(c.http_host, "");
    cadence_config_free(&c);
}

struct bad_var {
    char name[40];
    char value[60];
    char reason[60];
};

ParameterizedTestParameters(config, refuses_bad_values_naming_the_variable)
{
    static struct bad_var cases[] = {
        {"CADENCE_KAFKA_BROKERS", "", "must not be empty"},
        {"CADENCE_KAFKA_CONFIG", "/nonexistent/kafka.conf", "cannot read file"},
        {"CADENCE_REDIS_URL", "http://x", "redis://"},
        {"CADENCE_PLAYBOOK", "/nonexistent/playbook.json", "cannot read file"},
        {"CADENCE_SCHEMAS_DIR", "/nonexistent-dir", "cannot read directory"},
        {"CADENCE_GROUP_ID", "", "must not be empty"},
        {"CADENCE_HTTP_ADDR", "8080", "host:port"},
        {"CADENCE_HTTP_ADDR", "h:99999", "port"},
        {"CADENCE_LOG_LEVEL", "verbose", "debug, info, warn, error"},
        {"CADENCE_SHARDS", "0", "from 1 to 16384"},
        {"CADENCE_SHARDS", "12abc", "whole number"},
        {"CADENCE_SESSION_TIMEOUT_MS", "-5", "whole number"},
        {"CADENCE_BATCH_MAX", "99999999999999999999", "whole number"},
        {"CADENCE_INSTANCE_ID", "worker 1", "a-z A-Z 0-9"},
        {"CADENCE_INSTANCE_ID", "", "a-z A-Z 0-9"},
    };
    return cr_make_param_array(struct bad_var, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_var *c, config, refuses_bad_values_naming_the_variable)
{
    clear_env();
    setenv(c->name, c->value, 1);
    cadence_config cfg;
    char err[512] = "";
    cr_assert_eq(cadence_config_load(&cfg, "worker", err, sizeof(err)), -1, "%s=%s accepted",
                 c->name, c->value);
    cr_assert_eq(strncmp(err, c->name, strlen(c->name)), 0, "error does not name %s: %s", c->name,
                 err);
    cr_assert_not_null(strstr(err, c->reason), "error for %s=%s: %s", c->name, c->value, err);
}

Test(config, cluster_settings_are_checked_together)
{
    cadence_config c;
    char err[512];
    setenv("CADENCE_REDIS_URL", "redis://10.0.0.1:7000,10.0.0.2:7000", 1);
    cr_assert_eq(cadence_config_load(&c, "worker", err, sizeof(err)), -1);
    cr_assert(strstr(err, "CADENCE_REDIS_CLUSTER"), "%s", err);
    setenv("CADENCE_REDIS_CLUSTER", "1", 1);
    setenv("CADENCE_REDIS_WAIT_REPLICAS", "1", 1);
    cr_assert_eq(cadence_config_load(&c, "worker", err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(c.redis.cluster, 1);
    cr_assert_eq(c.redis.wait_replicas, 1);
    cr_assert_eq(c.redis.nseeds, 2);
    cadence_config_free(&c);
    setenv("CADENCE_REDIS_URL", "redis://10.0.0.1:7000/2", 1);
    cr_assert_eq(cadence_config_load(&c, "worker", err, sizeof(err)), -1);
    cr_assert(strstr(err, "database 0"), "%s", err);
    setenv("CADENCE_REDIS_URL", "unix:///run/redis.sock", 1);
    cr_assert_eq(cadence_config_load(&c, "worker", err, sizeof(err)), -1);
    setenv("CADENCE_REDIS_CLUSTER", "0", 1);
    setenv("CADENCE_REDIS_URL", "redis://h:1", 1);
    cr_assert_eq(cadence_config_load(&c, "worker", err, sizeof(err)), -1);
    cr_assert(strstr(err, "CADENCE_REDIS_WAIT_REPLICAS"), "%s", err);
}
