/*
 * redis_cluster — test helper: a throw-away Redis Cluster (3 masters, 3 replicas on loopback)
 * for one test, made by scripts/redis-cluster (redis-server processes joined with
 * `redis-cli --cluster create ... --cluster-replicas 1 --cluster-yes`, node timeout 1000 ms).
 *
 *   cadence_test_cluster c = {0};
 *   cr_assert(cadence_test_cluster_start(&c) == 0);
 *   ... c.seeds ("127.0.0.1:P1,..."), c.ports[0..c.nports-1] ...
 *   cadence_test_cluster_stop(&c);
 *
 * Start waits (with the script's own deadline) until every node reports cluster_state:ok and
 * every replica is in sync. The script gets PR_SET_PDEATHSIG and its nodes die with it, so
 * nothing outlives a crashed test. Header-only; needs CADENCE_SOURCE_DIR (ctest sets it).
 */
#ifndef CADENCE_TEST_REDIS_CLUSTER_H
#define CADENCE_TEST_REDIS_CLUSTER_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#define CADENCE_TEST_CLUSTER_NODES 6

typedef struct cadence_test_cluster {
    pid_t pid;     /* the scripts/redis-cluster process, 0 when none */
    char dir[128]; /* its data directory */
    char seeds[1024];
    int ports[CADENCE_TEST_CLUSTER_NODES];
    int nports;
} cadence_test_cluster;

static inline void cadence_test_cluster_stop(cadence_test_cluster *c)
{
    if (c->pid > 0) {
        kill(c->pid, SIGTERM);
        waitpid(c->pid, NULL, 0);
        c->pid = 0;
    }
    if (c->dir[0]) {
        char cmd[200];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->dir);
        if (system(cmd) != 0) {
        }
        c->dir[0] = '\0';
    }
}

/* Starts the cluster; 0 when it is up and healthy, -1 otherwise (nothing left running). */
static inline int cadence_test_cluster_start(cadence_test_cluster *c)
{
    const char *src = getenv("CADENCE_SOURCE_DIR");
    char script[512];
    snprintf(script, sizeof(script), "%s/scripts/redis-cluster", src ? src : ".");
    snprintf(c->dir, sizeof(c->dir), "/tmp/cadence-cluster-XXXXXX");
    if (!mkdtemp(c->dir))
        return -1;
    int out[2];
    if (pipe(out) != 0)
        return -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(1);
        dup2(out[1], 1);
        close(out[0]);
        execl(script, script, c->dir, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    c->pid = pid;
    FILE *f = fdopen(out[0], "r");
    char line[1000];
    int ready = 0;
    while (f && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "seeds=", 6) == 0) {
            snprintf(c->seeds, sizeof(c->seeds), "%s", line + 6);
        } else if (strncmp(line, "ports=", 6) == 0) {
            c->nports = 0;
            for (char *p = line + 6; *p && c->nports < CADENCE_TEST_CLUSTER_NODES;) {
                c->ports[c->nports++] = (int)strtol(p, &p, 10);
                if (*p == ',')
                    p++;
            }
        } else if (strcmp(line, "ready") == 0) {
            ready = 1;
            break;
        }
    }
    if (f)
        fclose(f);
    else
        close(out[0]);
    if (!ready || c->nports != CADENCE_TEST_CLUSTER_NODES) {
        cadence_test_cluster_stop(c);
        return -1;
    }
    return 0;
}

/* A blocking connection to one node (no redirections followed). NULL on failure. */
static inline redisContext *cadence_test_cluster_connect(int port)
{
    struct timeval tv = {.tv_sec = 2, .tv_usec = 0};
    redisContext *ctx = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!ctx || ctx->err) {
        redisFree(ctx);
        return NULL;
    }
    redisSetTimeout(ctx, tv);
    return ctx;
}

#endif
