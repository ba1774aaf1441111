/*
 * Tests for Redis Cluster support: the pure slot arithmetic and parsers of common/store/cluster,
 * and the client's cluster mode (common/store/redis.c) against a real local cluster of 3
 * masters and 3 replicas (tests/common/redis_cluster.h, made by scripts/redis-cluster):
 * routing by slot, batches across masters, MOVED and ASK followed, commands refused before
 * they are sent, and a master killed with its replica promoted.
 */
#include <criterion/criterion.h>

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "store/cluster.h"
#include "store/redis.h"
#include "redis_cluster.h"
#include "redis_server.h"

#define WAIT_MS 15000

/* ---- pure ------------------------------------------------------------------------------- */

static int slot_of(const char *key)
{
    return cadence_cluster_key_slot(key, strlen(key));
}

Test(cluster_slots, key_slots_are_the_ones_redis_computes)
{
    cr_assert_eq(slot_of("123456789"), 0x31C3 & 16383); /* the CRC16 XMODEM check value */
    cr_assert_eq(slot_of("foo"), 12182);                /* CLUSTER KEYSLOT foo */
    cr_assert_eq(slot_of("{user1000}.following"), slot_of("user1000"));
    cr_assert_eq(slot_of("cad:{s3}:lead:a"), slot_of("cad:{s3}:due"));
    cr_assert_eq(slot_of("foo{}{bar}"), cadence_cluster_key_slot("foo{}{bar}", 10)); /* whole */
    cr_assert_neq(slot_of("foo{}{bar}"), slot_of("bar"));
    cr_assert_eq(slot_of("a{b}c{d}"), slot_of("b"));
}

Test(cluster_slots, commands_route_by_all_their_keys)
{
    const char *get[] = {"get", "cad:{r:ana}:alerts"};
    cr_assert_eq(cadence_cluster_command_slot(2, get, NULL), slot_of("r:ana"));
    const char *ev[] = {"EVALSHA", "abc", "2", "cad:{s1}:due", "cad:{s1}:tasks", "argv1"};
    cr_assert_eq(cadence_cluster_command_slot(6, ev, NULL), slot_of("s1"));
    const char *cross[] = {"EVALSHA", "abc", "2", "cad:{s1}:due", "cad:{s2}:tasks"};
    cr_assert_eq(cadence_cluster_command_slot(5, cross, NULL), CADENCE_CLUSTER_CROSSSLOT);
    const char *xread[] = {"XREAD", "COUNT", "5", "STREAMS", "cad:{r:bo}:alerts", "0-0"};
    cr_assert_eq(cadence_cluster_command_slot(6, xread, NULL), slot_of("r:bo"));
    const char *xread2[] = {"XREAD", "STREAMS", "{a}1", "{b}2", "0", "0"};
    cr_assert_eq(cadence_cluster_command_slot(6, xread2, NULL), CADENCE_CLUSTER_CROSSSLOT);
    const char *mget[] = {"MGET", "{x}1", "{x}2"};
    cr_assert_eq(cadence_cluster_command_slot(3, mget, NULL), slot_of("x"));
    const char *ping[] = {"PING"};
    cr_assert_eq(cadence_cluster_command_slot(1, ping, NULL), CADENCE_CLUSTER_NO_KEY);
    const char *flush[] = {"FLUSHALL"};
    cr_assert_eq(cadence_cluster_command_slot(1, flush, NULL), CADENCE_CLUSTER_UNKNOWN_CMD);
    const char *badnk[] = {"EVALSHA", "abc", "3", "k"};
    cr_assert_eq(cadence_cluster_command_slot(4, badnk, NULL), CADENCE_CLUSTER_UNKNOWN_CMD);
    const char *group[] = {"XGROUP", "CREATE", "cad:{r:bo}:alerts", "g", "$"};
    cr_assert_eq(cadence_cluster_command_slot(5, group, NULL), slot_of("r:bo"));
    const char *ro[] = {"EVAL_RO", "return 1", "1", "{z}k"};
    cr_assert_eq(cadence_cluster_command_slot(4, ro, NULL), slot_of("z"));
    const char *ro2[] = {"evalsha_ro", "abc", "0"};
    cr_assert_eq(cadence_cluster_command_slot(3, ro2, NULL), CADENCE_CLUSTER_NO_KEY);
    const char *multi[] = {"MULTI"};
    cr_assert_eq(cadence_cluster_command_slot(1, multi, NULL), CADENCE_CLUSTER_UNKNOWN_CMD);
    const char *names[] = {"APPEND", "ASKING", "ZSCORE", "ZPOPMIN", "XREADGROUP", "MSETNX"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *a[] = {names[i], "{q}k", "x", "{q}k2", "y", "z", "STREAMS", "{q}a", "0"};
        cr_assert_neq(cadence_cluster_command_slot(9, a, NULL), CADENCE_CLUSTER_UNKNOWN_CMD, "%s",
                      names[i]); /* the table is sorted: binary search finds every row */
    }
    cr_assert(cadence_cluster_command_writes("evalsha", 7));
    cr_assert_not(cadence_cluster_command_writes("GET", 3));
}

Test(cluster_slots, redirections_are_parsed)
{
    cadence_cluster_redirect rd;
    const char *moved = "MOVED 3999 127.0.0.1:6381";
    cr_assert_eq(cadence_cluster_redirect_parse(moved, strlen(moved), "x", &rd),
                 CADENCE_CLUSTER_REDIRECT_MOVED);
    cr_assert_eq(rd.slot, 3999);
    cr_assert_str_eq(rd.node.host, "127.0.0.1");
    cr_assert_eq(rd.node.port, 6381);
    const char *ask = "ASK 12 :7000"; /* empty host: the node that answered */
    cr_assert_eq(cadence_cluster_redirect_parse(ask, strlen(ask), "10.0.0.9", &rd),
                 CADENCE_CLUSTER_REDIRECT_ASK);
    cr_assert_str_eq(rd.node.host, "10.0.0.9");
    const char *v6 = "MOVED 1 ::1:7001";
    cr_assert_eq(cadence_cluster_redirect_parse(v6, strlen(v6), "x", &rd),
                 CADENCE_CLUSTER_REDIRECT_MOVED);
    cr_assert_str_eq(rd.node.host, "::1");
    const char *bad[] = {"ERR wrong", "MOVED x 1.2.3.4:5", "MOVED 99999 a:1", "ASK 1 host",
                         "MOVED"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(cadence_cluster_redirect_parse(bad[i], strlen(bad[i]), "x", &rd),
                     CADENCE_CLUSTER_REDIRECT_NONE, "%s", bad[i]);
    cr_assert(cadence_cluster_error_is_retryable("TRYAGAIN Multiple keys", 22));
    cr_assert(cadence_cluster_error_is_retryable("CLUSTERDOWN The cluster is down", 31));
    cr_assert_not(cadence_cluster_error_is_retryable("ERR x", 5));
}

/* ---- against a live cluster --------------------------------------------------------------- */

struct result {
    int calls;
    int type;
    long long integer;
    char str[256];
    size_t elements;
    char err[256];
    enum cadence_redis_error kind;
};

static struct fixture {
    struct event_base *base;
    struct event *tick;
    cadence_test_cluster cl;
    cadence_redis *r;
    cadence_redis *other; /* a second client of one test, freed by teardown like r */
    int ups, downs;
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
    cadence_log_init("test_cluster", CADENCE_LOG_ERROR);
    F.base = event_base_new();
    F.tick = event_new(F.base, -1, EV_PERSIST, on_tick, NULL);
    struct timeval tv = {0, 10000};
    event_add(F.tick, &tv);
}

static void teardown(void)
{
    cadence_redis_free(F.r);
    F.r = NULL;
    cadence_redis_free(F.other);
    F.other = NULL;
    event_free(F.tick);
    event_base_free(F.base);
    cadence_test_cluster_stop(&F.cl);
}

TestSuite(cluster, .init = setup, .fini = teardown, .timeout = 120);

#define RUN_UNTIL(cond, ms)                                                                        \
    do {                                                                                           \
        long long dl_ = cadence_test_now_ms() + (ms);                                              \
        while (!(cond) && cadence_test_now_ms() < dl_)                                             \
            event_base_loop(F.base, EVLOOP_ONCE);                                                  \
    } while (0)

static void on_state(cadence_redis *r, int ready, const char *reason, void *arg)
{
    (void)r;
    (void)reason;
    (void)arg;
    if (ready)
        F.ups++;
    else
        F.downs++;
}

static void on_result(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    struct result *res = arg;
    memset(res, 0, sizeof(*res));
    res->calls = 1;
    res->kind = cadence_redis_error_kind(reply, error);
    res->type = reply ? reply->type : -1;
    snprintf(res->err, sizeof(res->err), "%s", error ? error : "");
    if (reply) {
        res->integer = reply->integer;
        res->elements = reply->elements;
        if (reply->str)
            snprintf(res->str, sizeof(res->str), "%s", reply->str);
    }
}

/* A cluster-mode client on the running cluster (not waited for). */
static cadence_redis *client(int wait_replicas, long timeout_ms)
{
    char url[1100], err[256];
    snprintf(url, sizeof(url), "redis://%s", F.cl.seeds);
    cadence_redis_url u;
    cr_assert_eq(cadence_redis_url_parse(url, &u, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(u.nseeds, CADENCE_TEST_CLUSTER_NODES);
    u.cluster = 1;
    u.wait_replicas = wait_replicas;
    cadence_redis_options o = {.timeout_ms = timeout_ms,
                               .backoff_min_ms = 20,
                               .backoff_max_ms = 200,
                               .state_cb = on_state};
    cadence_redis *r = cadence_redis_new(F.base, &u, &o, err, sizeof(err));
    cr_assert_not_null(r, "%s", err);
    return r;
}

/* Starts the cluster and a cluster-mode client on it; waits until the client is ready. */
static void start_ready(int wait_replicas)
{
    cr_assert_eq(cadence_test_cluster_start(&F.cl), 0, "the local cluster did not start");
    F.r = client(wait_replicas, 3000);
    RUN_UNTIL(cadence_redis_is_ready(F.r), WAIT_MS);
    cr_assert(cadence_redis_is_ready(F.r), "not ready: %s", cadence_redis_last_error(F.r));
}

static void argv_wait(struct result *res, int argc, const char **argv)
{
    memset(res, 0, sizeof(*res));
    enum cadence_redis_status st =
        cadence_redis_command_argv(F.r, on_result, res, argc, argv, NULL);
    cr_assert_eq(st, CADENCE_REDIS_OK, "%s: %s", argv[0], cadence_redis_status_name(st));
    RUN_UNTIL(res->calls, WAIT_MS);
    cr_assert_eq(res->calls, 1, "%s: no callback", argv[0]);
}

/* A write through a client that waits for replicas, sent again while it fails as disconnected
 * (a replica just made or just resumed may still be catching up, or the machine is loaded),
 * until one is acknowledged or the deadline passes. */
static void write_until_acknowledged(cadence_redis *c, const char **w, struct result *res)
{
    long long deadline = cadence_test_now_ms() + WAIT_MS;
    do {
        memset(res, 0, sizeof(*res));
        cr_assert_eq(cadence_redis_command_argv(c, on_result, res, 3, w, NULL), CADENCE_REDIS_OK);
        RUN_UNTIL(res->calls, WAIT_MS);
    } while (res->kind == CADENCE_REDIS_ERROR_DISCONNECTED && cadence_test_now_ms() < deadline);
    cr_assert_eq(res->kind, CADENCE_REDIS_ERROR_NONE, "%s", res->err);
}

/* One blocking command on one node (no redirection followed); caller frees. */
static redisReply *node_cmd(int port, const char *fmt, const char *a1, const char *a2)
{
    redisContext *c = cadence_test_cluster_connect(port);
    cr_assert_not_null(c, "node %d unreachable", port);
    redisReply *rep = redisCommand(c, fmt, a1, a2);
    redisFree(c);
    cr_assert_not_null(rep);
    return rep;
}

/* 1 for a live master (a killed node is neither). */
static int is_master(int port)
{
    redisContext *c = cadence_test_cluster_connect(port);
    if (!c)
        return 0;
    redisReply *rep = redisCommand(c, "ROLE");
    redisFree(c);
    int m = rep && rep->type == REDIS_REPLY_ARRAY && strcmp(rep->element[0]->str, "master") == 0;
    freeReplyObject(rep);
    return m;
}

/* The master port serving `key` (the one that answers EXISTS without a redirection). */
static int owner_of(const char *key)
{
    for (int i = 0; i < F.cl.nports; i++) {
        if (!is_master(F.cl.ports[i]))
            continue;
        redisReply *rep = node_cmd(F.cl.ports[i], "EXISTS %s", key, NULL);
        int mine = rep->type == REDIS_REPLY_INTEGER;
        freeReplyObject(rep);
        if (mine)
            return F.cl.ports[i];
    }
    return -1;
}

static void node_id(int port, char *out, size_t n)
{
    redisReply *rep = node_cmd(port, "CLUSTER MYID", NULL, NULL);
    cr_assert_eq(rep->type, REDIS_REPLY_STRING);
    snprintf(out, n, "%s", rep->str);
    freeReplyObject(rep);
}

static int other_master(int not_this)
{
    for (int i = 0; i < F.cl.nports; i++)
        if (F.cl.ports[i] != not_this && is_master(F.cl.ports[i]))
            return F.cl.ports[i];
    return -1;
}

Test(cluster, commands_reach_the_master_of_their_slot_and_batches_keep_order)
{
    start_ready(0);
    struct result res;
    char key[64], val[16];
    for (int i = 0; i < 60; i++) {
        snprintf(key, sizeof(key), "cad:{r:rep%d}:k", i);
        snprintf(val, sizeof(val), "%d", i);
        const char *set[] = {"SET", key, val};
        argv_wait(&res, 3, set);
        cr_assert_eq(res.kind, CADENCE_REDIS_ERROR_NONE, "%s", res.err);
    }
    /* Every master got some of them. */
    int masters = 0;
    for (int i = 0; i < F.cl.nports; i++) {
        if (!is_master(F.cl.ports[i]))
            continue;
        masters++;
        redisReply *rep = node_cmd(F.cl.ports[i], "DBSIZE", NULL, NULL);
        cr_assert_gt(rep->integer, 0, "master %d holds no key", F.cl.ports[i]);
        freeReplyObject(rep);
    }
    cr_assert_eq(masters, 3);

    /* One batch across all masters: one callback, replies in order. */
    cadence_redis_batch *b = cadence_redis_batch_new();
    for (int i = 0; i < 60; i++) {
        snprintf(key, sizeof(key), "cad:{r:rep%d}:k", i);
        const char *get[] = {"GET", key};
        cr_assert_eq(cadence_redis_batch_add_argv(b, 2, get, NULL), 0);
    }
    const char *nope[] = {"HGET", "cad:{r:rep1}:k", "f"}; /* WRONGTYPE: an element error */
    cr_assert_eq(cadence_redis_batch_add_argv(b, 3, nope, NULL), 0);
    struct result bres = {0};
    cr_assert_eq(cadence_redis_batch_send(F.r, b, on_result, &bres), CADENCE_REDIS_OK);
    RUN_UNTIL(bres.calls, WAIT_MS);
    cr_assert_eq(bres.kind, CADENCE_REDIS_ERROR_NONE, "%s", bres.err);
    cr_assert_eq(bres.elements, 61);
    cadence_redis_batch_free(b);

    /* A script with two keys of one tag. */
    const cadence_redis_script *s = cadence_redis_script_add(
        F.r, "redis.call('SET', KEYS[2], ARGV[1]) return redis.call('GET', KEYS[1])", NULL, 0);
    const char *ev[] = {"cad:{r:rep7}:k", "cad:{r:rep7}:copy", "x"};
    memset(&res, 0, sizeof(res));
    cr_assert_eq(cadence_redis_evalsha(F.r, s, 2, 3, ev, NULL, on_result, &res), CADENCE_REDIS_OK);
    RUN_UNTIL(res.calls, WAIT_MS);
    cr_assert_str_eq(res.str, "7", "%s", res.err);

    /* Keys of two slots, or a command the router cannot place: refused, no callback. */
    const char *cross[] = {"cad:{r:rep1}:k", "cad:{r:rep2}:k"};
    memset(&res, 0, sizeof(res));
    cr_assert_eq(cadence_redis_evalsha(F.r, s, 2, 2, cross, NULL, on_result, &res),
                 CADENCE_REDIS_INVALID);
    const char *flush[] = {"FLUSHALL"};
    cr_assert_eq(cadence_redis_command_argv(F.r, on_result, &res, 1, flush, NULL),
                 CADENCE_REDIS_INVALID);
    RUN_UNTIL(0, 50);
    cr_assert_eq(res.calls, 0);

    /* Writes wait for the master's replica (CADENCE_REDIS_WAIT_REPLICAS=1): while it is stopped
     * a write fails as "disconnected" (to be retried); once it is back, writes pass again. */
    cadence_redis *one = F.other = client(1, 600);
    RUN_UNTIL(cadence_redis_is_ready(one), WAIT_MS);
    const char *wkey = "cad:{r:rep3}:w";
    int master = owner_of(wkey), replica = -1;
    for (int i = 0; i < F.cl.nports && replica < 0; i++) {
        redisReply *role = node_cmd(F.cl.ports[i], "ROLE", NULL, NULL);
        if (strcmp(role->element[0]->str, "slave") == 0 && role->element[2]->integer == master)
            replica = F.cl.ports[i];
        freeReplyObject(role);
    }
    cr_assert_gt(replica, 0);
    const char *w[] = {"SET", wkey, "1"};
    write_until_acknowledged(one, w, &res);
    /* The replica stops (SIGSTOP): it can acknowledge nothing until SIGCONT. */
    redisReply *info = node_cmd(replica, "INFO server", NULL, NULL);
    const char *pidp = strstr(info->str, "process_id:");
    cr_assert_not_null(pidp);
    pid_t rpid = (pid_t)strtol(pidp + 11, NULL, 10);
    freeReplyObject(info);
    cr_assert_eq(kill(rpid, SIGSTOP), 0);
    memset(&res, 0, sizeof(res));
    cr_assert_eq(cadence_redis_command_argv(one, on_result, &res, 3, w, NULL), CADENCE_REDIS_OK);
    RUN_UNTIL(res.calls, WAIT_MS);
    kill(rpid, SIGCONT);
    cr_assert_eq(res.kind, CADENCE_REDIS_ERROR_DISCONNECTED, "%s", res.err);
    cr_assert(strstr(res.err, "replica"), "%s", res.err);
    write_until_acknowledged(one, w, &res);
}

Test(cluster, moved_and_ask_are_followed)
{
    start_ready(0);
    struct result res;
    char from_id[64], to_id[64], slot[16];

    /* MOVED: an empty slot is given to another master behind the client's back. */
    const char *key = "cad:{r:moving}:k";
    int from = owner_of(key), to = other_master(from);
    cr_assert(from > 0 && to > 0);
    node_id(to, to_id, sizeof(to_id));
    snprintf(slot, sizeof(slot), "%d", slot_of(key));
    for (int i = 0; i < F.cl.nports; i++) {
        if (is_master(F.cl.ports[i]))
            freeReplyObject(node_cmd(F.cl.ports[i], "CLUSTER SETSLOT %s NODE %s", slot, to_id));
    }
    const char *set[] = {"SET", key, "moved"};
    argv_wait(&res, 3, set);
    cr_assert_eq(res.kind, CADENCE_REDIS_ERROR_NONE, "%s", res.err);
    redisReply *rep = node_cmd(to, "GET %s", key, NULL);
    cr_assert_str_eq(rep->str, "moved");
    freeReplyObject(rep);

    /* ASK: a slot being migrated; a key the old owner does not hold goes to the new one. */
    const char *akey = "cad:{r:asking}:k";
    from = owner_of(akey);
    to = other_master(from);
    node_id(from, from_id, sizeof(from_id));
    node_id(to, to_id, sizeof(to_id));
    snprintf(slot, sizeof(slot), "%d", slot_of(akey));
    freeReplyObject(node_cmd(to, "CLUSTER SETSLOT %s IMPORTING %s", slot, from_id));
    freeReplyObject(node_cmd(from, "CLUSTER SETSLOT %s MIGRATING %s", slot, to_id));
    const char *aset[] = {"SET", akey, "asked"};
    argv_wait(&res, 3, aset);
    cr_assert_eq(res.kind, CADENCE_REDIS_ERROR_NONE, "%s", res.err);
    redisContext *c = cadence_test_cluster_connect(to);
    freeReplyObject(redisCommand(c, "ASKING"));
    rep = redisCommand(c, "GET %s", akey);
    cr_assert(rep && rep->type == REDIS_REPLY_STRING && strcmp(rep->str, "asked") == 0);
    freeReplyObject(rep);
    redisFree(c);
    rep = node_cmd(from, "EXISTS %s", akey, NULL);
    cr_assert_eq(rep->integer, 0, "the old owner must not have it");
    freeReplyObject(rep);
}

Test(cluster, a_killed_master_is_replaced_by_its_replica_and_nothing_acknowledged_is_lost)
{
    start_ready(1); /* every write waits for the master's replica (WAIT 1), while it has one */
    struct result res;
    const char *key = "cad:{r:failover}:k";
    const char *set[] = {"SET", key, "before"};
    argv_wait(&res, 3, set);
    cr_assert_eq(res.kind, CADENCE_REDIS_ERROR_NONE);
    int master = owner_of(key);
    redisReply *info = node_cmd(master, "INFO server", NULL, NULL);
    const char *pidp = strstr(info->str, "process_id:");
    cr_assert_not_null(pidp);
    pid_t pid = (pid_t)strtol(pidp + 11, NULL, 10);
    freeReplyObject(info);
    cr_assert_eq(kill(pid, SIGKILL), 0);

    /* Keep writing to the dead master's slot until a write succeeds on the promoted replica. */
    long long t0 = cadence_test_now_ms();
    int ok = 0;
    while (!ok && cadence_test_now_ms() < t0 + WAIT_MS) {
        const char *after[] = {"SET", "cad:{r:failover}:k2", "after"};
        memset(&res, 0, sizeof(res));
        if (cadence_redis_command_argv(F.r, on_result, &res, 3, after, NULL) == CADENCE_REDIS_OK) {
            RUN_UNTIL(res.calls, WAIT_MS);
            ok = res.kind == CADENCE_REDIS_ERROR_NONE;
        }
        RUN_UNTIL(0, 50);
    }
    cr_assert(ok, "no write succeeded within %d ms of the kill: %s", WAIT_MS, res.err);
    cr_assert_geq(F.downs, 1);
    RUN_UNTIL(cadence_redis_is_ready(F.r), WAIT_MS);
    cr_assert(cadence_redis_is_ready(F.r));
    cr_assert_geq(F.ups, 2);
    const char *get[] = {"GET", key};
    argv_wait(&res, 2, get);
    cr_assert_str_eq(res.str, "before");
    cr_assert_neq(owner_of(key), master);
}

/* A commandstats counter of one node ("cmdstat_<name>:calls=N"), 0 when never called. */
static long long node_calls(int port, const char *name)
{
    redisReply *rep = node_cmd(port, "INFO commandstats", NULL, NULL);
    char pat[64];
    snprintf(pat, sizeof(pat), "cmdstat_%s:calls=", name);
    const char *at = strstr(rep->str, pat);
    long long n = at ? strtoll(at + strlen(pat), NULL, 10) : 0;
    freeReplyObject(rep);
    return n;
}

struct counted {
    int calls, ok;
    long long last_get;
};

static void on_counted(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    struct counted *c = arg;
    c->calls++;
    c->ok += !error && reply && reply->type != REDIS_REPLY_ERROR;
    if (reply && reply->type == REDIS_REPLY_STRING)
        c->last_get = strtoll(reply->str, NULL, 10);
}

/* With CADENCE_REDIS_WAIT_REPLICAS=1, the writes a caller sends to one node in one turn of the
 * event loop go with one WAIT after the last (one replication round trip, not one per write),
 * each is still answered only once the replica has it, and a read sent after them in the same
 * turn is answered after them (it sees the last write). */
Test(cluster, a_turns_writes_to_one_node_share_one_wait)
{
    start_ready(1);
    struct result res;
    const char *key = "cad:{r:waitgroup}:n";
    const char *set0[] = {"SET", key, "0"};
    write_until_acknowledged(F.r, set0, &res); /* once the replica is in sync */
    int master = owner_of(key);
    long long waits0 = node_calls(master, "wait"), incrs0 = node_calls(master, "incr");

    enum { N = 50 };
    struct counted c = {0};
    const char *incr[] = {"INCR", key};
    const char *get[] = {"GET", key};
    for (int i = 0; i < N; i++)
        cr_assert_eq(cadence_redis_command_argv(F.r, on_counted, &c, 2, incr, NULL),
                     CADENCE_REDIS_OK);
    cr_assert_eq(cadence_redis_command_argv(F.r, on_counted, &c, 2, get, NULL), CADENCE_REDIS_OK);
    cr_assert_eq(c.calls, 0, "answered before the loop ran");
    RUN_UNTIL(c.calls == N + 1, WAIT_MS);
    cr_assert_eq(c.calls, N + 1);
    cr_assert_eq(c.ok, N + 1, "every write acknowledged by the replica");
    cr_assert_eq(c.last_get, N, "the read came after the turn's writes");
    cr_assert_eq(node_calls(master, "incr") - incrs0, N);
    long long waits = node_calls(master, "wait") - waits0;
    cr_assert_eq(waits, 1, "%lld WAITs for %d writes of one turn", waits, N);
}
