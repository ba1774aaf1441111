/*
 * kafka_conf — builds an rd_kafka_conf_t the same way for every service.
 */
#include "kafka/conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    /* syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug */
    enum cadence_log_level l = level <= 3   ? CADENCE_LOG_ERROR
                               : level == 4 ? CADENCE_LOG_WARN
                               : level <= 6 ? CADENCE_LOG_INFO
                                            : CADENCE_LOG_DEBUG;
    cadence_log_json(l, buf, json_pack("{s:s,s:s}", "source", "librdkafka", "facility", fac));
}

static char *trim(char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

int cadence_kafka_conf_read_file(rd_kafka_conf_t *conf, const char *path, char *errstr,
                                 size_t errstr_size)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, rc = 0;
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(errstr, errstr_size, "%s:%d: expected key=value", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        char why[256];
        if (rd_kafka_conf_set(conf, key, val, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
            snprintf(errstr, errstr_size, "%s:%d: %s", path, lineno, why);
            rc = -1;
            break;
        }
    }
    free(line);
    fclose(f);
    return rc;
}

rd_kafka_conf_t *cadence_kafka_conf_new(const cadence_config *cfg, const char *const *defaults,
                                        char *errstr, size_t errstr_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char why[256];
    if (rd_kafka_conf_set(conf, "bootstrap.servers", cfg->kafka_brokers, why, sizeof(why)) !=
        RD_KAFKA_CONF_OK) {
        snprintf(errstr, errstr_size, "CADENCE_KAFKA_BROKERS: %s", why);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    for (size_t i = 0; defaults && defaults[i] && defaults[i + 1]; i += 2) {
        if (rd_kafka_conf_set(conf, defaults[i], defaults[i + 1], why, sizeof(why)) !=
            RD_KAFKA_CONF_OK) {
            snprintf(errstr, errstr_size, "%s: %s", defaults[i], why);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    if (cfg->kafka_config_file) {
        char err[512];
        if (cadence_kafka_conf_read_file(conf, cfg->kafka_config_file, err, sizeof(err)) != 0) {
            snprintf(errstr, errstr_size, "CADENCE_KAFKA_CONFIG: %s", err);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    rd_kafka_conf_set_log_cb(conf, log_cb);
    return conf;
}
