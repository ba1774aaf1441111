/*
 * kafka_conf — librdkafka configuration from CADENCE_KAFKA_BROKERS and CADENCE_KAFKA_CONFIG.
 *
 * The file holds `key=value` lines as `kcat -F` reads them: blank lines and lines starting
 * with '#' are skipped, whitespace around key and value is trimmed. Its settings win over our
 * defaults (so an operator can tune anything), except bootstrap.servers, which the environment
 * variable sets when the file does not. librdkafka's log lines go through cadence's logger.
 */
#ifndef CADENCE_KAFKA_CONF_H
#define CADENCE_KAFKA_CONF_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "core/config.h"

/*
 * Returns a new librdkafka conf (caller owns it; rd_kafka_new() takes it over on success, or
 * free it with rd_kafka_conf_destroy()) with, in order: bootstrap.servers from `cfg`, the
 * `defaults` key/value pairs (a NULL-terminated list, may be NULL), then the lines of
 * cfg->kafka_config_file. On error returns NULL with `errstr` naming the file, line and key.
 */
rd_kafka_conf_t *cadence_kafka_conf_new(const cadence_config *cfg, const char *const *defaults,
                                        char *errstr, size_t errstr_size);

/* Reads a key=value file into `conf`. Returns 0, or -1 with errstr "FILE:LINE: why". */
int cadence_kafka_conf_read_file(rd_kafka_conf_t *conf, const char *path, char *errstr,
                                 size_t errstr_size);

#endif
