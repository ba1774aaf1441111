/* Tests for log: one JSON object per line with the fixed fields, level filtering. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

/* Runs `fn` with the logger writing into a pipe and returns what it wrote (caller frees). */
static char *capture(void (*fn)(void))
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    cadence_log_set_fd(fds[1]);
    fn();
    cadence_log_set_fd(2);
    close(fds[1]);
    char *buf = calloc(1, 65536);
    size_t len = 0;
    ssize_t n;
    while ((n = read(fds[0], buf + len, 65535 - len)) > 0)
        len += (size_t)n;
    close(fds[0]);
    return buf;
}

static void write_two_lines(void)
{
    cadence_log_init("worker", CADENCE_LOG_INFO);
    cadence_log_json(
        CADENCE_LOG_INFO, "applied",
        json_pack("{s:s,s:i,s:I}", "topic", "leads.v1", "partition", 3, "offset", (json_int_t)42));
    cadence_log_json(CADENCE_LOG_DEBUG, "hidden", NULL);
    cadence_logf(CADENCE_LOG_ERROR, "redis down: %s", "connection refused");
}

Test(log, writes_one_json_object_per_line_with_fixed_fields)
{
    char *out = capture(write_two_lines);
    char *nl = strchr(out, '\n');
    cr_assert_not_null(nl);
    *nl = '\0';
    json_error_t e;
    json_t *first = json_loads(out, 0, &e);
    cr_assert_not_null(first, "not JSON: %s", out);
    cr_assert_str_eq(json_string_value(json_object_get(first, "level")), "info");
    cr_assert_str_eq(json_string_value(json_object_get(first, "svc")), "worker");
    cr_assert_str_eq(json_string_value(json_object_get(first, "msg")), "applied");
    cr_assert_str_eq(json_string_value(json_object_get(first, "topic")), "leads.v1");
    cr_assert_eq(json_integer_value(json_object_get(first, "offset")), 42);
    const char *ts = json_string_value(json_object_get(first, "ts"));
    cr_assert(ts && strlen(ts) == 24 && ts[10] == 'T' && ts[23] == 'Z', "bad ts %s", ts);
    json_decref(first);

    json_t *second = json_loads(nl + 1, JSON_DISABLE_EOF_CHECK, &e);
    cr_assert_not_null(second, "second line not JSON: %s", nl + 1);
    cr_assert_str_eq(json_string_value(json_object_get(second, "level")), "error");
    cr_assert_str_eq(json_string_value(json_object_get(second, "msg")),
                     "redis down: connection refused");
    json_decref(second);
    cr_assert_null(strstr(nl + 1, "hidden"), "a debug line got through at level info");
    free(out);
}

Test(log, parses_level_names)
{
    enum cadence_log_level l;
    cr_assert_eq(cadence_log_level_parse("warn", &l), 0);
    cr_assert_eq(l, CADENCE_LOG_WARN);
    cr_assert_eq(cadence_log_level_parse("WARN", &l), -1);
    cr_assert_eq(cadence_log_level_parse("trace", &l), -1);
    cr_assert_str_eq(cadence_log_level_name(CADENCE_LOG_ERROR), "error");
}
