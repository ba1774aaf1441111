/*
 * service — start-up steps every service binary shares: --help/--version handling, loading
 * the configuration (exit 2 on a bad value) and starting the logger.
 */
#ifndef CADENCE_SERVICE_H
#define CADENCE_SERVICE_H

#include <event2/event.h>
#include <stddef.h>

#include "core/config.h"

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

/*
 * How a long-running service stops. On SIGTERM/SIGINT, or when `fatal` (polled every second)
 * reports a fatal condition, the stopper logs why, arms a drain deadline, and calls
 * `drain(arg)`; the service finishes its work in flight and then calls
 * cadence_service_stopper_done(), which ends the event loop. If the deadline passes first,
 * `drain_timed_out(arg)` (optional) logs what is left and the loop ends anyway.
 */
typedef struct cadence_service_stopper cadence_service_stopper;

typedef struct cadence_service_stop_ops {
    void (*drain)(void *arg);
    void (*drain_timed_out)(void *arg);           /* may be NULL */
    int (*fatal)(void *arg, char *why, size_t n); /* may be NULL */
} cadence_service_stop_ops;

/* Registers the signals and timers on `base` (borrowed, like `ops` and `arg`). NULL on error. */
cadence_service_stopper *cadence_service_stopper_new(struct event_base *base, int drain_timeout_s,
                                                     const cadence_service_stop_ops *ops, void *arg,
                                                     char *errstr, size_t errstr_size);

/* Starts stopping (once; later calls are ignored). */
void cadence_service_stopper_stop(cadence_service_stopper *s, const char *why);

/* The drain is finished: ends the event loop. Takes the stopper as `void *` so it can be
 * passed as a completion callback. */
void cadence_service_stopper_done(void *stopper);

/* 0, or 1 once a fatal condition stopped the service. */
int cadence_service_stopper_exit_code(const cadence_service_stopper *s);

/* Frees the stopper; NULL is a no-op. */
void cadence_service_stopper_free(cadence_service_stopper *s);

#endif
