/*
 * log — structured logging: one JSON object per line on stderr.
 *
 * Every line carries `ts` (RFC 3339, UTC, milliseconds), `level`, `svc` and `msg`, plus any
 * fields the caller adds (`lead_id`, `topic`, `partition`, `offset`, `event_id`, ...). Lines
 * below the configured level are dropped before any formatting work. librdkafka's and
 * libevent's own logs are routed here too (see cadence_log_libevent_install()).
 *
 * The logger is process-wide state set once at start-up (the only global in libcadence outside
 * signal flags); it is safe to call from librdkafka's background threads.
 */
#ifndef CADENCE_LOG_H
#define CADENCE_LOG_H

#include <jansson.h>

enum cadence_log_level {
    CADENCE_LOG_DEBUG = 0,
    CADENCE_LOG_INFO = 1,
    CADENCE_LOG_WARN = 2,
    CADENCE_LOG_ERROR = 3,
};

/* Sets the service name and the minimum level. `svc` is copied. */
void cadence_log_init(const char *svc, enum cadence_log_level level);

/* Parses "debug", "info", "warn", "error" (case-sensitive). Returns 0, or -1 if unknown. */
int cadence_log_level_parse(const char *s, enum cadence_log_level *out);

/* Name of a level ("debug", ...). */
const char *cadence_log_level_name(enum cadence_log_level level);

/* True when a line at `level` would be written. */
int cadence_log_enabled(enum cadence_log_level level);

/*
 * Writes one line. `fields` may be NULL; otherwise it must be a JSON object, whose reference
 * this function steals (so `json_pack(...)` can be passed inline).
 */
void cadence_log_json(enum cadence_log_level level, const char *msg, json_t *fields);

/* Writes one line whose `msg` is formatted printf-style. */
void cadence_logf(enum cadence_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Routes libevent's internal log messages through this logger. */
void cadence_log_libevent_install(void);

/* Redirects output to `fd` (tests); the default is stderr. */
void cadence_log_set_fd(int fd);

#endif
