/*
 * Tests for common/redis: the async client against a real redis-server (no mocks). Each test
 * starts its own server (tests/common/redis_server.h) and the fixture's teardown kills it, also
 * when an assertion fails. Waiting is always "run the event loop until a condition holds or a
 * deadline passes".
 */
#include <criterion/criterion.h>

#include <event2/event.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/metrics.h"
#include "store/redis.h"
#include "redis_server.h"

#define WAIT_MS 5000

struct result {
    int calls;
    int type; /* REDIS_REPLY_* or -1 */
    long long integer;
    char str[256];
    size_t len;
    size_t elements;
    char err[256];
    enum cadence_redis_error kind;
    long long at_ms;
};

static struct fixture {
    struct event_base *base;
    struct event *tick;
    cadence_test_redis srv;
    cadence_redis *r;
    cadence_metrics *metrics;
    int ups, downs;
    char down_reason[256];
    struct result *free_in_cb_results; /* see free_from_inside_a_callback */
} F;

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

static void setup(void)
{
    memset(&F, 0, sizeof(F));
    cadence_log_init("test_redis", CADENCE_LOG_WARN);
    F.base = event_base_new();
    cr_assert_not_null(F.base);
    /* A ticking timer so one loop turn never blocks longer than 10 ms past a deadline. */
    F.tick = event_new(F.base, -1, EV_PERSIST, on_tick, NULL);
    struct timeval tv = {0, 10000};
    event_add(F.tick, &tv);
}

static void teardown(void)
{
    cadence_redis_free(F.r);
    F.r = NULL;
    if (F.tick)
        event_free(F.tick);
    if (F.base)
        event_base_free(F.base);
    cadence_metrics_free(F.metrics);
    cadence_test_redis_stop(&F.srv);
}

TestSuite(redis, .init = setup, .fini = teardown, .timeout = 60);

/* Runs the loop until `cond` holds or `ms` pass. */
#define RUN_UNTIL(cond, ms)                                                                        \
    do {                                                                                           \
        long long dl_ = cadence_test_now_ms() + (ms);                                              \
        while (!(cond) && cadence_test_now_ms() < dl_)                                             \
            event_base_loop(F.base, EVLOOP_ONCE);                                                  \
    } while (0)

static void on_state(cadence_redis *r, int ready, const char *reason, void *arg)
{
    (void)r;
    (void)arg;
    if (ready) {
        F.ups++;
    } else {
        F.downs++;
        snprintf(F.down_reason, sizeof(F.down_reason), "%s", reason ? reason : "");
    }
}

static void on_result(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    struct result *res = arg;
    res->calls++;
    res->at_ms = cadence_test_now_ms();
    res->kind = cadence_redis_error_kind(reply, error);
    res->type = reply ? reply->type : -1;
    snprintf(res->err, sizeof(res->err), "%s", error ? error : "");
    if (reply) {
        res->integer = reply->integer;
        res->elements = reply->elements;
        res->len = reply->len;
        if (reply->str) {
            size_t n = reply->len < sizeof(res->str) ? reply->len : sizeof(res->str) - 1;
            memcpy(res->str, reply->str, n);
            res->str[n] = '\0';
        }
    }
}

static cadence_redis *client_opts(const char *url, long timeout_ms, size_t max_inflight)
{
    cadence_redis_url u;
    char err[256];
    cr_assert_eq(cadence_redis_url_parse(url, &u, err, sizeof(err)), 0, "%s", err);
    cadence_redis_options o = {.timeout_ms = timeout_ms,
                               .max_inflight = max_inflight,
                               .backoff_min_ms = 20,
                               .backoff_max_ms = 200,
                               .state_cb = on_state,
                               .metrics = F.metrics};
    cadence_redis *r = cadence_redis_new(F.base, &u, &o, err, sizeof(err));
    cr_assert_not_null(r, "%s", err);
    return r;
}

static char *tcp_url(char *buf, size_t n, const char *userinfo, int db)
{
    snprintf(buf, n, "redis://%s%s127.0.0.1:%d/%d", userinfo ? userinfo : "", userinfo ? "@" : "",
             F.srv.port, db);
    return buf;
}

/* Starts a server, a client on it, and waits until the client is ready. */
static void start_ready(long timeout_ms, size_t max_inflight)
{
    char url[256];
    cr_assert_eq(cadence_test_redis_start(&F.srv, NULL), 0, "redis-server did not start");
    F.r = client_opts(tcp_url(url, sizeof(url), NULL, 0), timeout_ms, max_inflight);
    RUN_UNTIL(cadence_redis_is_ready(F.r), WAIT_MS);
    cr_assert(cadence_redis_is_ready(F.r), "not ready: %s", cadence_redis_last_error(F.r));
}

static enum cadence_redis_status cmd(struct result *res, const char *a0, const char *a1,
                                     const char *a2)
{
    const char *argv[3] = {a0, a1, a2};
    int argc = a2 ? 3 : a1 ? 2 : 1;
    return cadence_redis_command_argv(F.r, on_result, res, argc, argv, NULL);
}

/* Sends a command and waits for its one callback. */
static void cmd_wait(struct result *res, const char *a0, const char *a1, const char *a2)
{
    memset(res, 0, sizeof(*res));
    cr_assert_eq(cmd(res, a0, a1, a2), CADENCE_REDIS_OK);
    RUN_UNTIL(res->calls > 0, WAIT_MS);
    cr_assert_eq(res->calls, 1);
}

Test(redis, set_then_get_round_trips_through_the_server)
{
    struct result res;
    start_ready(1000, 16);
    cr_assert_eq(F.ups, 1);
    cmd_wait(&res, "SET", "lead:{1}:state", "new");
    cr_assert_eq(res.kind, CADENCE_REDIS_ERROR_NONE, "%s", res.err);
    cr_assert_str_eq(res.str, "OK");
    cmd_wait(&res, "GET", "lead:{1}:state", NULL);
    cr_assert_eq(res.type, REDIS_REPLY_STRING);
    cr_assert_str_eq(res.str, "new");
    cmd_wait(&res, "GET", "missing", NULL);
    cr_assert_eq(res.type, REDIS_REPLY_NIL);
    cr_assert_eq(cadence_redis_inflight(F.r), 0);
}

Test(redis, argv_is_binary_safe)
{
    static const char key[] = "bin\0key\r\n";
    static const char val[] = "a\0b\r\n$3\r\n\xff\x00z";
    const char *argv[3] = {"SET", key, val};
    size_t lens[3] = {3, sizeof(key) - 1, sizeof(val) - 1};
    struct result res = {0};
    start_ready(1000, 16);
    cr_assert_eq(cadence_redis_command_argv(F.r, on_result, &res, 3, argv, lens), CADENCE_REDIS_OK);
    RUN_UNTIL(res.calls > 0, WAIT_MS);
    cr_assert_str_eq(res.str, "OK");

    const char *get[2] = {"GET", key};
    size_t getlens[2] = {3, sizeof(key) - 1};
    memset(&res, 0, sizeof(res));
    cr_assert_eq(cadence_redis_command_argv(F.r, on_result, &res, 2, get, getlens),
                 CADENCE_REDIS_OK);
    RUN_UNTIL(res.calls > 0, WAIT_MS);
    cr_assert_eq(res.len, sizeof(val) - 1);
    cr_assert_eq(memcmp(res.str, val, sizeof(val) - 1), 0);
}

Test(redis, authenticates_with_password_and_with_acl_username)
{
    char url[256];
    struct result res;
    cr_assert_eq(cadence_test_redis_start(&F.srv, "s3cret"), 0);
    F.r = client_opts(tcp_url(url, sizeof(url), ":s3cret", 0), 1000, 16);
    RUN_UNTIL(cadence_redis_is_ready(F.r), WAIT_MS);
    cr_assert(cadence_redis_is_ready(F.r), "%s", cadence_redis_last_error(F.r));
    cmd_wait(&res, "SET", "k", "v");
    cr_assert_str_eq(res.str, "OK");
    cadence_redis_free(F.r);

    /* AUTH username password (Redis 6+ ACL form) with the default user. */
    F.r = client_opts(tcp_url(url, sizeof(url), "default:s3cret", 0), 1000, 16);
    RUN_UNTIL(cadence_redis_is_ready(F.r), WAIT_MS);
    cr_assert(cadence_redis_is_ready(F.r), "%s", cadence_redis_last_error(F.r));
    cmd_wait(&res, "GET", "k", NULL);
    cr_assert_str_eq(res.str, "v");
}

Test(redis, wrong_password_gives_a_clear_error_and_never_ready)
{
    char url[256];
    struct result res = {0};
    cr_assert_eq(cadence_test_redis_start(&F.srv, "s3cret"), 0);
    F.r = client_opts(tcp_url(url, sizeof(url), ":wrong", 0), 1000, 16);
    RUN_UNTIL(strstr(cadence_redis_last_error(F.r), "WRONGPASS"), WAIT_MS);
    cr_assert(strstr(cadence_redis_last_error(F.r), "AUTH failed: WRONGPASS"), "last error: %s",
              cadence_redis_last_error(F.r));
    /* It keeps retrying (the password may be fixed server-side) but is never ready. */
    RUN_UNTIL(0, 300);
    cr_assert_not(cadence_redis_is_ready(F.r));
    cr_assert_eq(F.ups, 0);
    cr_assert_eq(cmd(&res, "PING", NULL, NULL), CADENCE_REDIS_DOWN);
    cadence_redis_free(F.r);

    /* No password at all against a server that wants one: NOAUTH, not ready. */
    F.r = client_opts(tcp_url(url, sizeof(url), NULL, 0), 1000, 16);
    RUN_UNTIL(strstr(cadence_redis_last_error(F.r), "NOAUTH"), WAIT_MS);
    cr_assert(strstr(cadence_redis_last_error(F.r), "NOAUTH"), "last error: %s",
              cadence_redis_last_error(F.r));
    cr_assert_not(cadence_redis_is_ready(F.r));
    cr_assert_eq(res.calls, 0);
}

Test(redis, selects_the_database_from_the_url)
{
    char url[256];
    struct result res;
    cr_assert_eq(cadence_test_redis_start(&F.srv, NULL), 0);
    F.r = client_opts(tcp_url(url, sizeof(url), NULL, 3), 1000, 16);
    RUN_UNTIL(cadence_redis_is_ready(F.r), WAIT_MS);
    cr_assert(cadence_redis_is_ready(F.r), "%s", cadence_redis_last_error(F.r));
    cmd_wait(&res, "SET", "where", "db3");
    cr_assert_str_eq(res.str, "OK");

    redisReply *rep = cadence_test_redis_cmd(&F.srv, 3, "GET %s", "where", NULL);
    cr_assert(rep && rep->type == REDIS_REPLY_STRING && strcmp(rep->str, "db3") == 0);
    freeReplyObject(rep);
    rep = cadence_test_redis_cmd(&F.srv, 0, "EXISTS %s", "where", NULL);
    cr_assert(rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 0);
    freeReplyObject(rep);

    /* A db the server does not have: a clear error, not ready. */
    cadence_redis_free(F.r);
    F.r = client_opts(tcp_url(url, sizeof(url), NULL, 99), 1000, 16);
    RUN_UNTIL(strstr(cadence_redis_last_error(F.r), "SELECT 99 failed"), WAIT_MS);
    cr_assert(strstr(cadence_redis_last_error(F.r), "SELECT 99 failed"), "%s",
              cadence_redis_last_error(F.r));
    cr_assert_not(cadence_redis_is_ready(F.r));
}

Test(redis, connects_over_a_unix_socket)
{
    char url[512];
    struct result res;
    cr_assert_eq(cadence_test_redis_start(&F.srv, NULL), 0);
    snprintf(url, sizeof(url), "unix://%s?db=2", F.srv.sock);
    F.r = client_opts(url, 1000, 16);
    RUN_UNTIL(cadence_redis_is_ready(F.r), WAIT_MS);
    cr_assert(cadence_redis_is_ready(F.r), "%s", cadence_redis_last_error(F.r));
    cmd_wait(&res, "SET", "via", "unix");
    cr_assert_str_eq(res.str, "OK");
    redisReply *rep = cadence_test_redis_cmd(&F.srv, 2, "GET %s", "via", NULL);
    cr_assert(rep && rep->type == REDIS_REPLY_STRING && strcmp(rep->str, "unix") == 0);
    freeReplyObject(rep);
}

static enum cadence_redis_status incr_script(const cadence_redis_script *s, struct result *res,
                                             const char *key)
{
    const char *argv[2] = {key, "1"};
    memset(res, 0, sizeof(*res));
    return cadence_redis_evalsha(F.r, s, 1, 2, argv, NULL, on_result, res);
}

#define INCR_LUA "return redis.call('INCRBY', KEYS[1], ARGV[1])"

Test(redis, evalsha_reloads_the_script_after_script_flush)
{
    struct result res;
    cr_assert_eq(cadence_test_redis_start(&F.srv, NULL), 0);
    char url[256];
    F.r = client_opts(tcp_url(url, sizeof(url), NULL, 0), 1000, 16);
    char err[128];
    const cadence_redis_script *s = cadence_redis_script_add(F.r, INCR_LUA, err, sizeof(err));
    cr_assert_not_null(s, "%s", err);
    cr_assert_eq(cadence_redis_script_add(F.r, INCR_LUA, err, sizeof(err)), s);
    /* The local SHA1 is Redis's: `redis-cli SCRIPT LOAD` gives the same digest. */
    cr_assert_eq(strlen(cadence_redis_script_sha(s)), 40);
    RUN_UNTIL(cadence_redis_is_ready(F.r), WAIT_MS);
    cr_assert(cadence_redis_is_ready(F.r));

    /* Loaded by the handshake already. */
    redisReply *rep =
        cadence_test_redis_cmd(&F.srv, 0, "SCRIPT EXISTS %s", cadence_redis_script_sha(s), NULL);
    cr_assert(rep && rep->type == REDIS_REPLY_ARRAY && rep->element[0]->integer == 1);
    freeReplyObject(rep);

    cr_assert_eq(incr_script(s, &res, "n"), CADENCE_REDIS_OK);
    RUN_UNTIL(res.calls > 0, WAIT_MS);
    cr_assert_eq(res.kind, CADENCE_REDIS_ERROR_NONE, "%s", res.err);
    cr_assert_eq(res.integer, 1);

    rep = cadence_test_redis_cmd(&F.srv, 0, "SCRIPT FLUSH", NULL, NULL);
    freeReplyObject(rep);
    cr_assert_eq(incr_script(s, &res, "n"), CADENCE_REDIS_OK);
    RUN_UNTIL(res.calls > 0, WAIT_MS);
    cr_assert_eq(res.calls, 1);
    cr_assert_eq(res.kind, CADENCE_REDIS_ERROR_NONE, "caller saw: %s", res.err);
    cr_assert_eq(res.integer, 2);
}

Test(redis, a_script_that_does_not_compile_reports_the_compile_error)
{
    struct result res;
    start_ready(1000, 16);
    const cadence_redis_script *s = cadence_redis_script_add(F.r, "return (", NULL, 0);
    cr_assert_not_null(s);
    cr_assert_eq(incr_script(s, &res, "n"), CADENCE_REDIS_OK);
    RUN_UNTIL(res.calls > 0, WAIT_MS);
    RUN_UNTIL(0, 50);
    cr_assert_eq(res.calls, 1);
    cr_assert_eq(res.kind, CADENCE_REDIS_ERROR_REPLY);
    cr_assert(strstr(res.err, "Error compiling script"), "%s", res.err);
    cr_assert(cadence_redis_is_ready(F.r));
}

Test(redis, survives_a_redis_restart_and_reloads_scripts_by_itself)
{
    struct result res, blocked[3];
    start_ready(5000, 16);
    const cadence_redis_script *s = cadence_redis_script_add(F.r, INCR_LUA, NULL, 0);
    cr_assert_eq(incr_script(s, &res, "n"), CADENCE_REDIS_OK);
    RUN_UNTIL(res.calls > 0, WAIT_MS);
    cr_assert_eq(res.integer, 1, "%s", res.err);

    /* Commands in flight when the server dies: a BLPOP holds them on the server side. */
    memset(blocked, 0, sizeof(blocked));
    cr_assert_eq(cmd(&blocked[0], "BLPOP", "queue", "0"), CADENCE_REDIS_OK);
    cr_assert_eq(cmd(&blocked[1], "GET", "a", NULL), CADENCE_REDIS_OK);
    cr_assert_eq(cmd(&blocked[2], "GET", "b", NULL), CADENCE_REDIS_OK);
    RUN_UNTIL(0, 100); /* written and waiting */
    cr_assert_eq(blocked[0].calls, 0);
    cadence_test_redis_kill(&F.srv);

    RUN_UNTIL(F.downs > 0 && blocked[2].calls > 0, WAIT_MS);
    cr_assert_eq(F.downs, 1);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(blocked[i].calls, 1);
        cr_assert_eq(blocked[i].kind, CADENCE_REDIS_ERROR_DISCONNECTED, "%d: %s", i,
                     blocked[i].err);
    }
    cr_assert_not(cadence_redis_is_ready(F.r));
    cr_assert_eq(incr_script(s, &res, "n"), CADENCE_REDIS_DOWN);
    cr_assert_eq(cadence_redis_inflight(F.r), 0);
    RUN_UNTIL(0, 300); /* a few failed reconnect attempts */
    cr_assert_eq(F.downs, 1, "failed attempts while down are not new transitions");

    /* Same port, empty script cache. The client reconnects and reloads on its own. */
    cr_assert_eq(cadence_test_redis_restart(&F.srv), 0);
    RUN_UNTIL(cadence_redis_is_ready(F.r), WAIT_MS);
    cr_assert(cadence_redis_is_ready(F.r), "%s", cadence_redis_last_error(F.r));
    cr_assert_eq(F.ups, 2);
    redisReply *rep =
        cadence_test_redis_cmd(&F.srv, 0, "SCRIPT EXISTS %s", cadence_redis_script_sha(s), NULL);
    cr_assert(rep && rep->type == REDIS_REPLY_ARRAY && rep->element[0]->integer == 1);
    freeReplyObject(rep);
    cr_assert_eq(incr_script(s, &res, "n"), CADENCE_REDIS_OK);
    RUN_UNTIL(res.calls > 0, WAIT_MS);
    cr_assert_eq(res.kind, CADENCE_REDIS_ERROR_NONE, "%s", res.err);
    cr_assert_eq(res.integer, 1); /* a fresh server: the key starts over */
}

Test(redis, starts_before_redis_and_connects_when_it_appears)
{
    char url[256];
    struct result res = {0};
    F.srv.port = cadence_test_free_port();
    F.r = client_opts(tcp_url(url, sizeof(url), NULL, 0), 1000, 16);
    RUN_UNTIL(cadence_redis_last_error(F.r)[0], WAIT_MS);
    cr_assert(strstr(cadence_redis_last_error(F.r), "refused"), "%s",
              cadence_redis_last_error(F.r));
    cr_assert_eq(cmd(&res, "PING", NULL, NULL), CADENCE_REDIS_DOWN);
    cr_assert_eq(cadence_test_redis_start(&F.srv, NULL), 0);
    RUN_UNTIL(cadence_redis_is_ready(F.r), WAIT_MS);
    cr_assert(cadence_redis_is_ready(F.r));
    cr_assert_eq(F.ups, 1);
    cr_assert_eq(F.downs, 0);
}

Test(redis, a_command_past_its_deadline_times_out_and_the_client_recovers)
{
    struct result slow = {0}, behind = {0}, res;
    F.metrics = cadence_metrics_new();
    start_ready(200, 16);
    long long t0 = cadence_test_now_ms();
    cr_assert_eq(cmd(&slow, "DEBUG", "SLEEP", "1"), CADENCE_REDIS_OK);
    cr_assert_eq(cmd(&behind, "GET", "x", NULL), CADENCE_REDIS_OK);
    RUN_UNTIL(slow.calls > 0 && behind.calls > 0, WAIT_MS);
    cr_assert_eq(slow.kind, CADENCE_REDIS_ERROR_TIMEOUT, "%s", slow.err);
    cr_assert(strncmp(slow.err, "timeout", 7) == 0);
    long long took = slow.at_ms - t0;
    cr_assert(took >= 190 && took < 800, "timed out after %lld ms", took);
    cr_assert_eq(behind.kind, CADENCE_REDIS_ERROR_DISCONNECTED, "%s", behind.err);
    cr_assert_eq(F.downs, 1);
    cr_assert_eq(cadence_metrics_value(F.metrics, "cadence_redis_errors_total", "kind=\"timeout\""),
                 1);

    /* Reconnects by itself once Redis answers again, and works. */
    RUN_UNTIL(cadence_redis_is_ready(F.r), WAIT_MS);
    cr_assert(cadence_redis_is_ready(F.r), "%s", cadence_redis_last_error(F.r));
    cr_assert_eq(F.ups, 2);
    cmd_wait(&res, "SET", "after", "timeout");
    cr_assert_str_eq(res.str, "OK");
    /* The DEBUG SLEEP's late "OK" never reached its callback a second time. */
    RUN_UNTIL(0, cadence_test_now_ms() - t0 < 1300 ? 1300 - (cadence_test_now_ms() - t0) : 0);
    cr_assert_eq(slow.calls, 1);
    cr_assert_eq(behind.calls, 1);
}

Test(redis, in_flight_bound_returns_busy_without_queueing)
{
    struct result res[5], extra = {0};
    memset(res, 0, sizeof(res));
    start_ready(1000, 4);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(cmd(&res[i], "PING", NULL, NULL), CADENCE_REDIS_OK);
    cr_assert_eq(cadence_redis_inflight(F.r), 4);
    cr_assert_eq(cmd(&res[4], "PING", NULL, NULL), CADENCE_REDIS_BUSY);

    /* A batch counts its commands; one bigger than the bound can never go. */
    cadence_redis_batch *b = cadence_redis_batch_new();
    const char *ping[1] = {"PING"};
    for (int i = 0; i < 5; i++)
        cr_assert_eq(cadence_redis_batch_add_argv(b, 1, ping, NULL), 0);
    cr_assert_eq(cadence_redis_batch_send(F.r, b, on_result, &extra), CADENCE_REDIS_INVALID);
    cadence_redis_batch_free(b);

    RUN_UNTIL(cadence_redis_inflight(F.r) == 0, WAIT_MS);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(res[i].calls, 1);
    cr_assert_eq(res[4].calls, 0, "a refused command never gets a callback");
    cmd_wait(&res[4], "PING", NULL, NULL);
    cr_assert_str_eq(res[4].str, "PONG");
}

Test(redis, free_with_commands_in_flight_calls_every_callback_once_with_an_error)
{
    struct result res[10];
    memset(res, 0, sizeof(res));
    start_ready(1000, 16);
    cr_assert_eq(cmd(&res[0], "DEBUG", "SLEEP", "0.2"), CADENCE_REDIS_OK);
    RUN_UNTIL(0, 50); /* the first few are on the wire, the rest still in the buffer */
    for (int i = 1; i < 10; i++)
        cr_assert_eq(cmd(&res[i], "INCR", "counter", NULL), CADENCE_REDIS_OK);
    cadence_redis_free(F.r);
    F.r = NULL;
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(res[i].calls, 1, "command %d called %d times", i, res[i].calls);
        cr_assert_eq(res[i].kind, CADENCE_REDIS_ERROR_DISCONNECTED);
        cr_assert_str_eq(res[i].err, "disconnected: client freed");
    }
    RUN_UNTIL(0, 400); /* replies that would have come: nothing may run */
    for (int i = 0; i < 10; i++)
        cr_assert_eq(res[i].calls, 1);
}

static void free_in_callback(cadence_redis *r, const redisReply *reply, const char *error,
                             void *arg)
{
    on_result(r, reply, error, arg);
    cadence_redis_free(r);
    F.r = NULL;
}

Test(redis, free_from_inside_a_callback_fails_the_rest_once)
{
    struct result first = {0}, rest[3];
    memset(rest, 0, sizeof(rest));
    start_ready(1000, 16);
    const char *ping[1] = {"PING"};
    cr_assert_eq(cadence_redis_command_argv(F.r, free_in_callback, &first, 1, ping, NULL),
                 CADENCE_REDIS_OK);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cmd(&rest[i], "PING", NULL, NULL), CADENCE_REDIS_OK);
    RUN_UNTIL(first.calls > 0, WAIT_MS);
    cr_assert_eq(first.calls, 1);
    cr_assert_str_eq(first.str, "PONG");
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(rest[i].calls, 1);
        cr_assert_eq(rest[i].kind, CADENCE_REDIS_ERROR_DISCONNECTED);
    }
    RUN_UNTIL(0, 100);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(rest[i].calls, 1);
}

Test(redis, free_while_connecting_and_free_null_are_harmless)
{
    char url[256];
    cadence_redis_free(NULL);
    F.srv.port = cadence_test_free_port();
    F.r = client_opts(tcp_url(url, sizeof(url), NULL, 0), 1000, 16);
    RUN_UNTIL(0, 30);
    cadence_redis_free(F.r);
    F.r = NULL;
}

struct batch_result {
    int calls;
    char err[128];
    size_t n;
    int types[8];
    long long ints[8];
    char strs[8][64];
};

static void on_batch(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    struct batch_result *b = arg;
    b->calls++;
    snprintf(b->err, sizeof(b->err), "%s", error ? error : "");
    if (!reply)
        return;
    b->n = reply->elements;
    for (size_t i = 0; i < reply->elements && i < 8; i++) {
        b->types[i] = reply->element[i]->type;
        b->ints[i] = reply->element[i]->integer;
        snprintf(b->strs[i], sizeof(b->strs[i]), "%s",
                 reply->element[i]->str ? reply->element[i]->str : "");
    }
}

Test(redis, a_batch_is_one_pipelined_round_trip_with_one_callback)
{
    struct batch_result out = {0};
    start_ready(1000, 16);
    const cadence_redis_script *s = cadence_redis_script_add(F.r, INCR_LUA, NULL, 0);
    redisReply *rep = cadence_test_redis_cmd(&F.srv, 0, "SCRIPT FLUSH", NULL, NULL);
    freeReplyObject(rep);

    cadence_redis_batch *b = cadence_redis_batch_new();
    const char *set[3] = {"SET", "a", "1"};
    const char *get[2] = {"GET", "a"};
    const char *bad[2] = {"LPUSH", "a"};
    const char *ev[2] = {"a", "41"};
    const char *ping[1] = {"PING"};
    cr_assert_eq(cadence_redis_batch_add_argv(b, 3, set, NULL), 0);
    cr_assert_eq(cadence_redis_batch_add_argv(b, 2, get, NULL), 0);
    cr_assert_eq(cadence_redis_batch_add_argv(b, 2, bad, NULL), 0);
    cr_assert_eq(cadence_redis_batch_add_evalsha(b, s, 1, 2, ev, NULL), 0);
    cr_assert_eq(cadence_redis_batch_add_argv(b, 1, ping, NULL), 0);
    cr_assert_eq(cadence_redis_batch_size(b), 5);
    cr_assert_eq(cadence_redis_batch_send(F.r, b, on_batch, &out), CADENCE_REDIS_OK);
    cr_assert_eq(cadence_redis_batch_size(b), 0, "sent commands move into the client");
    cr_assert_eq(cadence_redis_inflight(F.r), 5);
    cadence_redis_batch_free(b);

    RUN_UNTIL(out.calls > 0, WAIT_MS);
    cr_assert_eq(out.calls, 1);
    cr_assert_str_eq(out.err, "");
    cr_assert_eq(out.n, 5);
    cr_assert_str_eq(out.strs[0], "OK");
    cr_assert_str_eq(out.strs[1], "1");
    cr_assert_eq(out.types[2], REDIS_REPLY_ERROR); /* wrong arity: an element, not the batch */
    cr_assert_eq(out.types[3], REDIS_REPLY_INTEGER, "NOSCRIPT retried inside the batch: %s",
                 out.strs[3]);
    cr_assert_eq(out.ints[3], 42);
    cr_assert_str_eq(out.strs[4], "PONG");
    cr_assert_eq(cadence_redis_inflight(F.r), 0);
}

Test(redis, refuses_bad_arguments_and_reports_down_when_not_connected)
{
    char url[256];
    struct result res = {0};
    F.srv.port = cadence_test_free_port();
    F.r = client_opts(tcp_url(url, sizeof(url), NULL, 0), 1000, 16);
    cr_assert_not(cadence_redis_is_ready(F.r));
    cr_assert_eq(cmd(&res, "PING", NULL, NULL), CADENCE_REDIS_DOWN);
    cr_assert_eq(cadence_redis_command_argv(NULL, on_result, &res, 1, NULL, NULL),
                 CADENCE_REDIS_DOWN);
    cadence_redis_options bad = {.backoff_min_ms = 500, .backoff_max_ms = 100};
    cadence_redis_url u;
    char err[128];
    cr_assert_eq(cadence_redis_url_parse(url, &u, err, sizeof(err)), 0);
    cr_assert_null(cadence_redis_new(F.base, &u, &bad, err, sizeof(err)));
    cr_assert(strstr(err, "backoff"), "%s", err);
    cr_assert_str_eq(cadence_redis_status_name(CADENCE_REDIS_BUSY), "busy");
    cr_assert_eq(res.calls, 0);
}

Test(redis, a_missing_unix_socket_is_a_clear_error)
{
    F.r = client_opts("unix:///nonexistent/cadence/redis.sock", 1000, 16);
    RUN_UNTIL(cadence_redis_last_error(F.r)[0], WAIT_MS);
    cr_assert(strstr(cadence_redis_last_error(F.r), "No such file"), "%s",
              cadence_redis_last_error(F.r));
    cr_assert_not(cadence_redis_is_ready(F.r));
}

static void free_on_down(cadence_redis *r, int ready, const char *reason, void *arg)
{
    on_state(r, ready, reason, arg);
    if (!ready) {
        cadence_redis_free(r);
        F.r = NULL;
    }
}

Test(redis, the_state_callback_may_free_the_client)
{
    char url[256];
    struct result res = {0};
    cadence_redis_url u;
    cr_assert_eq(cadence_test_redis_start(&F.srv, NULL), 0);
    cr_assert_eq(cadence_redis_url_parse(tcp_url(url, sizeof(url), NULL, 0), &u, NULL, 0), 0);
    cadence_redis_options o = {.timeout_ms = 2000, .state_cb = free_on_down};
    F.r = cadence_redis_new(F.base, &u, &o, NULL, 0);
    RUN_UNTIL(cadence_redis_is_ready(F.r), WAIT_MS);
    cr_assert(cadence_redis_is_ready(F.r));
    cr_assert_eq(cmd(&res, "BLPOP", "q", "0"), CADENCE_REDIS_OK);
    RUN_UNTIL(0, 50);
    cadence_test_redis_kill(&F.srv);
    RUN_UNTIL(F.r == NULL, WAIT_MS);
    cr_assert_null(F.r);
    cr_assert_eq(F.downs, 1);
    cr_assert_eq(res.calls, 1);
    cr_assert_eq(res.kind, CADENCE_REDIS_ERROR_DISCONNECTED);
}

Test(redis, scripts_added_while_connecting_or_ready_are_loaded_without_noscript)
{
    char url[256];
    struct result res;
    cr_assert_eq(cadence_test_redis_start(&F.srv, NULL), 0);
    /* The server holds every command for 400 ms, so the handshake is surely in flight. */
    redisReply *paused = cadence_test_redis_cmd(&F.srv, 0, "CLIENT PAUSE %s ALL", "400", NULL);
    cr_assert(paused && paused->type == REDIS_REPLY_STATUS);
    freeReplyObject(paused);
    F.r = client_opts(tcp_url(url, sizeof(url), NULL, 0), 2000, 16);
    const cadence_redis_script *early = cadence_redis_script_add(F.r, INCR_LUA, NULL, 0);
    RUN_UNTIL(0, 150);
    cr_assert_not(cadence_redis_is_ready(F.r));
    const cadence_redis_script *during =
        cadence_redis_script_add(F.r, "return redis.call('GET', KEYS[1])", NULL, 0);
    RUN_UNTIL(cadence_redis_is_ready(F.r), WAIT_MS);
    cr_assert(cadence_redis_is_ready(F.r));
    const cadence_redis_script *late =
        cadence_redis_script_add(F.r, "return redis.call('EXISTS', KEYS[1])", NULL, 0);
    cmd_wait(&res, "PING", NULL, NULL); /* after the SCRIPT LOAD on the same connection */
    const cadence_redis_script *all[3] = {early, during, late};
    for (int i = 0; i < 3; i++) {
        redisReply *rep = cadence_test_redis_cmd(&F.srv, 0, "SCRIPT EXISTS %s",
                                                 cadence_redis_script_sha(all[i]), NULL);
        cr_assert(rep && rep->type == REDIS_REPLY_ARRAY && rep->element[0]->integer == 1,
                  "script %d not loaded", i);
        freeReplyObject(rep);
    }
}
