/*
 * bench_redis — round trips per second of pipelined EVALSHA through common/redis, against a
 * same-run baseline from redis-benchmark on the same private redis-server.
 *
 *   bench_redis [N=200000] [DEPTH=16]
 *
 * Three figures on one server (started here, tests/common/redis_server.h):
 *   cadence window  — one connection, DEPTH commands in flight, a new one sent per reply;
 *   cadence batch   — one connection, batches of DEPTH EVALSHA (cadence_redis_batch), one
 *                     batch in flight: the same shape as redis-benchmark -c 1 -P DEPTH;
 *   redis-benchmark -c 1 -P DEPTH (same shape, the baseline for the ratio) and with its
 *   default 50 connections (-c 50 -P DEPTH: what one Redis does with many clients).
 * Build without sanitizers for meaningful numbers (see the command printed at the end).
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/redis.h"
#include "redis_server.h"

#define LUA "return redis.call('INCRBY', KEYS[1], ARGV[1])"
#define KEY "bench:{1}:counter"

struct run {
    cadence_redis *r;
    const cadence_redis_script *s;
    long n, sent, done, errors;
    int depth;
    cadence_redis_batch *batch;
};

static void on_reply(cadence_redis *r, const redisReply *reply, const char *error, void *arg);

static int send_one(struct run *run)
{
    const char *argv[2] = {KEY, "1"};
    if (cadence_redis_evalsha(run->r, run->s, 1, 2, argv, NULL, on_reply, run) != CADENCE_REDIS_OK)
        return -1;
    run->sent++;
    return 0;
}

static void on_reply(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    (void)reply;
    struct run *run = arg;
    run->done++;
    if (error)
        run->errors++;
    if (run->sent < run->n)
        send_one(run);
}

static void on_batch(cadence_redis *r, const redisReply *reply, const char *error, void *arg);

static int send_batch(struct run *run)
{
    const char *argv[2] = {KEY, "1"};
    long k = run->n - run->sent < run->depth ? run->n - run->sent : run->depth;
    for (long i = 0; i < k; i++)
        cadence_redis_batch_add_evalsha(run->batch, run->s, 1, 2, argv, NULL);
    if (cadence_redis_batch_send(run->r, run->batch, on_batch, run) != CADENCE_REDIS_OK)
        return -1;
    run->sent += k;
    return 0;
}

static void on_batch(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    struct run *run = arg;
    if (error || !reply) {
        run->errors++;
        run->done = run->n; /* stop */
        return;
    }
    for (size_t i = 0; i < reply->elements; i++)
        if (reply->element[i]->type == REDIS_REPLY_ERROR)
            run->errors++;
    run->done += (long)reply->elements;
    if (run->sent < run->n)
        send_batch(run);
}

static double measure(struct event_base *base, struct run *run, int batched)
{
    run->sent = run->done = run->errors = 0;
    long long t0 = cadence_test_now_ms();
    if (batched) {
        send_batch(run);
    } else {
        for (int i = 0; i < run->depth && run->sent < run->n; i++)
            send_one(run);
    }
    while (run->done < run->n && cadence_test_now_ms() - t0 < 120000)
        event_base_loop(base, EVLOOP_ONCE);
    double secs = (double)(cadence_test_now_ms() - t0) / 1000.0;
    return secs > 0 ? (double)run->done / secs : 0;
}

static double redis_benchmark(const cadence_test_redis *srv, const char *sha, int clients, long n,
                              int depth, char *cmdline, size_t cmdsize)
{
    snprintf(cmdline, cmdsize,
             "redis-benchmark -h 127.0.0.1 -p %d -c %d -P %d -n %ld -q EVALSHA %s 1 %s 1",
             srv->port, clients, depth, n, sha, KEY);
    char shell[1024];
    snprintf(shell, sizeof(shell), "%s 2>&1 | tr '\\r' '\\n'", cmdline);
    FILE *p = popen(shell, "r");
    if (!p)
        return 0;
    char line[1024];
    double rps = 0;
    while (fgets(line, sizeof(line), p)) {
        char *at = strstr(line, " requests per second");
        if (!at)
            continue;
        *at = '\0';
        char *num = strrchr(line, ' ');
        if (num)
            rps = strtod(num + 1, NULL);
    }
    pclose(p);
    return rps;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
    int depth = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 16;
    if (n <= 0 || depth <= 0) {
        fprintf(stderr, "usage: bench_redis [N>0] [DEPTH>0]\n");
        return 2;
    }
    cadence_log_init("bench_redis", CADENCE_LOG_ERROR);
    cadence_test_redis srv = {0};
    if (cadence_test_redis_start(&srv, NULL) != 0) {
        fprintf(stderr, "bench_redis: cannot start redis-server\n");
        return 1;
    }
    int rc = 1;
    struct event_base *base = event_base_new();
    char url[128], err[256];
    snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0", srv.port);
    cadence_redis_url u;
    cadence_redis_options o = {.timeout_ms = 10000, .max_inflight = (size_t)depth};
    struct run run = {.n = n, .depth = depth, .batch = cadence_redis_batch_new()};
    if (!base || cadence_redis_url_parse(url, &u, err, sizeof(err)) != 0 ||
        !(run.r = cadence_redis_new(base, &u, &o, err, sizeof(err))) ||
        !(run.s = cadence_redis_script_add(run.r, LUA, err, sizeof(err)))) {
        fprintf(stderr, "bench_redis: setup failed: %s\n", err);
        goto out;
    }
    long long t0 = cadence_test_now_ms();
    while (!cadence_redis_is_ready(run.r) && cadence_test_now_ms() - t0 < 5000)
        event_base_loop(base, EVLOOP_ONCE);
    if (!cadence_redis_is_ready(run.r)) {
        fprintf(stderr, "bench_redis: not ready: %s\n", cadence_redis_last_error(run.r));
        goto out;
    }
    const char *sha = cadence_redis_script_sha(run.s);

    measure(base, &(struct run){.r = run.r, .s = run.s, .n = n / 10, .depth = depth}, 0);
    double window = measure(base, &run, 0);
    long werr = run.errors;
    double batched = measure(base, &run, 1);
    long berr = run.errors;
    char cmd1[512], cmd50[512];
    double rb1 = redis_benchmark(&srv, sha, 1, n, depth, cmd1, sizeof(cmd1));
    double rb50 = redis_benchmark(&srv, sha, 50, n, depth, cmd50, sizeof(cmd50));

    printf("EVALSHA round trips/s, N=%ld, %d in flight, one redis-server 127.0.0.1:%d\n", n, depth,
           srv.port);
    printf("  cadence_redis window (1 conn, %2d in flight):  %10.0f /s  (errors: %ld)\n", depth,
           window, werr);
    printf("  cadence_redis batch  (1 conn, batches of %2d): %10.0f /s  (errors: %ld)\n", depth,
           batched, berr);
    printf("  redis-benchmark -c 1  -P %d:                  %10.0f /s\n", depth, rb1);
    printf("  redis-benchmark -c 50 -P %d:                  %10.0f /s\n", depth, rb50);
    if (rb1 > 0)
        printf("  ratio window/rb(-c 1) = %.2f, batch/rb(-c 1) = %.2f, window/rb(-c 50) = %.2f\n",
               window / rb1, batched / rb1, rb50 > 0 ? window / rb50 : 0.0);
    printf("baseline command: %s\n", cmd1);
    printf(
        "reproduce: cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release && "
        "cmake --build build/bench --target bench_redis && build/bench/tests/bench_redis %ld %d\n",
        n, depth);
    rc = werr || berr || rb1 <= 0 ? 1 : 0;
out:
    cadence_redis_free(run.r);
    cadence_redis_batch_free(run.batch);
    if (base)
        event_base_free(base);
    cadence_test_redis_stop(&srv);
    return rc;
}
