/*
 * service — start-up steps every service binary shares: --help/--version handling, loading
 * the configuration (exit 2 on a bad value) and starting the logger.
 */
#ifndef CADENCE_SERVICE_H
#define CADENCE_SERVICE_H

#include "config.h"

typedef struct cadence_service_info {
    const char *service;     /* "worker": picks the per-service defaults and the log's `svc` */
    const char *binary;      /* "cadence-worker" */
    const char *description; /* what the binary does, printed by --help */
} cadence_service_info;

/*
 * Handles the common command line: --help prints the description and the configuration table
 * and returns 1 (the caller exits 0); --version likewise; an unknown argument prints usage and
 * exits with status 2. Otherwise loads `cfg` (exit 2 on a bad value), starts the logger and
 * libevent's log routing, and returns 0. The caller frees `cfg` with cadence_config_free().
 */
int cadence_service_start(const cadence_service_info *info, int argc, char **argv,
                          cadence_config *cfg);

#endif
