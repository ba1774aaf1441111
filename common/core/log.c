/*
 * log — one JSON object per line on stderr.
 *
 * Each line is rendered by jansson and written with a single writev(2), so concurrent writers
 * (librdkafka's threads) never interleave within a line.
 */
#include "core/log.h"

#include "base/clock.h"
#include "base/rfc3339.h"

#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static char log_svc[64] = "cadence";
static enum cadence_log_level log_level = CADENCE_LOG_INFO;
static int log_fd = 2;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void cadence_log_init(const char *svc, enum cadence_log_level level)
{
    snprintf(log_svc, sizeof(log_svc), "%s", svc ? svc : "cadence");
    log_level = level;
}

void cadence_log_set_fd(int fd)
{
    log_fd = fd;
}

int cadence_log_level_parse(const char *s, enum cadence_log_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (s && strcmp(s, level_names[i]) == 0) {
            *out = (enum cadence_log_level)i;
            return 0;
        }
    }
    return -1;
}

const char *cadence_log_level_name(enum cadence_log_level level)
{
    if ((int)level < 0 || (size_t)level >= sizeof(level_names) / sizeof(level_names[0]))
        return "info";
    return level_names[level];
}

int cadence_log_enabled(enum cadence_log_level level)
{
    return level >= log_level;
}

void cadence_log_json(enum cadence_log_level level, const char *msg, json_t *fields)
{
    if (!cadence_log_enabled(level)) {
        json_decref(fields);
        return;
    }
    char ts[CADENCE_RFC3339_SIZE];
    cadence_rfc3339_format_ms(cadence_clock_now_ms(), ts, sizeof(ts));

    json_t *line = json_object();
    json_object_set_new(line, "ts", json_string(ts));
    json_object_set_new(line, "level", json_string(cadence_log_level_name(level)));
    json_object_set_new(line, "svc", json_string(log_svc));
    json_object_set_new(line, "msg", json_string(msg ? msg : ""));
    if (json_is_object(fields))
        json_object_update_missing(line, fields);
    json_decref(fields);

    char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(line);
    if (!text)
        return;
    /* One writev(2): a line is never interleaved with another thread's. */
    struct iovec iov[2] = {{text, strlen(text)}, {"\n", 1}};
    ssize_t n = writev(log_fd, iov, 2);
    (void)n; /* nowhere to report a failure to log */
    free(text);
}

void cadence_logf(enum cadence_log_level level, const char *fmt, ...)
{
    if (!cadence_log_enabled(level))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cadence_log_json(level, msg, NULL);
}

static void libevent_log_cb(int severity, const char *msg)
{
    enum cadence_log_level level = CADENCE_LOG_DEBUG;
    if (severity == EVENT_LOG_MSG)
        level = CADENCE_LOG_INFO;
    else if (severity == EVENT_LOG_WARN)
        level = CADENCE_LOG_WARN;
    else if (severity == EVENT_LOG_ERR)
        level = CADENCE_LOG_ERROR;
    cadence_log_json(level, msg, json_pack("{s:s}", "source", "libevent"));
}

void cadence_log_libevent_install(void)
{
    event_set_log_callback(libevent_log_cb);
}
