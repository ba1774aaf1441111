/* Tests for kafka_conf: brokers from the environment, the key=value file, errors with line. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kafka/conf.h"

static char *write_tmp(const char *text)
{
    char *path = strdup("/tmp/cadence-kconf-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void conf_get(rd_kafka_conf_t *c, const char *key, char *out, size_t n)
{
    size_t size = n;
    cr_assert_eq(rd_kafka_conf_get(c, key, out, &size), RD_KAFKA_CONF_OK, "no %s", key);
}

Test(kafka_conf, sets_brokers_defaults_and_file_settings_in_order)
{
    char *path = write_tmp("# tuning\n\n  security.protocol = plaintext  \n"
                           "client.id=from-file\nlinger.ms=7\n");
    cadence_config cfg = {0};
    cfg.kafka_brokers = "k1:9092,k2:9092";
    cfg.kafka_config_file = path;
    static const char *const defaults[] = {"client.id", "cadence-test", "linger.ms", "5", NULL};
    char err[512];
    rd_kafka_conf_t *c = cadence_kafka_conf_new(&cfg, defaults, err, sizeof(err));
    cr_assert_not_null(c, "%s", err);
    char v[256];
    conf_get(c, "bootstrap.servers", v, sizeof(v));
    cr_assert_str_eq(v, "k1:9092,k2:9092");
    conf_get(c, "client.id", v, sizeof(v));
    cr_assert_str_eq(v, "from-file", "the file must win over built-in defaults");
    conf_get(c, "linger.ms", v, sizeof(v));
    cr_assert_str_eq(v, "7");
    conf_get(c, "security.protocol", v, sizeof(v));
    cr_assert_str_eq(v, "plaintext");
    rd_kafka_conf_destroy(c);
    unlink(path);
    free(path);
}

Test(kafka_conf, names_file_and_line_of_a_bad_setting)
{
    char *path = write_tmp("client.id=x\nno.such.property=1\n");
    cadence_config cfg = {0};
    cfg.kafka_brokers = "k:9092";
    cfg.kafka_config_file = path;
    char err[512] = "";
    cr_assert_null(cadence_kafka_conf_new(&cfg, NULL, err, sizeof(err)));
    cr_assert_not_null(strstr(err, "CADENCE_KAFKA_CONFIG"), "%s", err);
    char where[300];
    snprintf(where, sizeof(where), "%s:2", path);
    cr_assert_not_null(strstr(err, where), "%s", err);
    cr_assert_not_null(strstr(err, "no.such.property"), "%s", err);
    unlink(path);
    free(path);
}

Test(kafka_conf, refuses_a_line_without_equals)
{
    char *path = write_tmp("client.id\n");
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    char err[512] = "";
    cr_assert_eq(cadence_kafka_conf_read_file(c, path, err, sizeof(err)), -1);
    cr_assert_not_null(strstr(err, ":1: expected key=value"), "%s", err);
    rd_kafka_conf_destroy(c);
    unlink(path);
    free(path);
}
