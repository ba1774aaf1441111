/*
 * redis_server — test helper: run a private, throw-away redis-server (Debian's
 * /usr/bin/redis-server) for one test, on a free TCP port of 127.0.0.1 plus a unix socket in a
 * temporary directory, without persistence (--save '' --appendonly no).
 *
 * Header-only (static inline) so any test or benchmark can include it without CMake changes.
 *
 *   cadence_test_redis srv = {0};
 *   cr_assert(cadence_test_redis_start(&srv, NULL) == 0);   // or a password
 *   ... srv.port, srv.sock ...
 *   cadence_test_redis_kill(&srv);      // kill -9, keep the directory and port
 *   cadence_test_redis_restart(&srv);   // same port, same socket path
 *   cadence_test_redis_stop(&srv);      // kill and remove the directory (idempotent)
 *
 * Start waits on a condition (the server answers PING, or NOAUTH when a password is set) with a
 * deadline, never a fixed sleep. The server gets PR_SET_PDEATHSIG, so it dies with the test
 * process even when the test crashes before its teardown runs. DEBUG is enabled for local
 * connections (DEBUG SLEEP simulates a slow Redis).
 */
#ifndef CADENCE_TEST_REDIS_SERVER_H
#define CADENCE_TEST_REDIS_SERVER_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#define CADENCE_TEST_REDIS_BIN "/usr/bin/redis-server"
#define CADENCE_TEST_REDIS_START_MS 10000

typedef struct cadence_test_redis {
    pid_t pid;         /* running server, 0 when none */
    int port;          /* TCP port on 127.0.0.1 (chosen by start when 0) */
    char dir[128];     /* temporary directory, "" when none */
    char sock[192];    /* unix socket path inside dir */
    char password[64]; /* requirepass, "" for none */
} cadence_test_redis;

static inline long long cadence_test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void cadence_test_sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* A TCP port free on 127.0.0.1 right now (the kernel picks it: bind to port 0). -1 on error. */
static inline int cadence_test_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* A blocking connection to the server (TCP), authenticated when it has a password. */
static inline redisContext *cadence_test_redis_connect(const cadence_test_redis *s)
{
    struct timeval tv = {.tv_sec = 1, .tv_usec = 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
    if (!c || c->err) {
        redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    if (s->password[0]) {
        redisReply *rep = redisCommand(c, "AUTH %s", s->password);
        int ok = rep && rep->type == REDIS_REPLY_STATUS;
        freeReplyObject(rep);
        if (!ok) {
            redisFree(c);
            return NULL;
        }
    }
    return c;
}

/* Runs one command on a fresh blocking connection; returns the reply (caller frees) or NULL. */
static inline redisReply *cadence_test_redis_cmd(const cadence_test_redis *s, int db,
                                                 const char *fmt, const char *a1, const char *a2)
{
    redisContext *c = cadence_test_redis_connect(s);
    if (!c)
        return NULL;
    redisReply *rep = redisCommand(c, "SELECT %d", db);
    freeReplyObject(rep);
    rep = redisCommand(c, fmt, a1, a2);
    redisFree(c);
    return rep;
}

/* Waits until the server answers PING (PONG, or NOAUTH with a password). 0 or -1. */
static inline int cadence_test_redis_wait(const cadence_test_redis *s, long timeout_ms)
{
    long long deadline = cadence_test_now_ms() + timeout_ms;
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    while (cadence_test_now_ms() < deadline) {
        int status;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid)
            return -1; /* the server exited (bad arguments, port taken...) */
        redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
        if (c && !c->err) {
            redisSetTimeout(c, tv);
            redisReply *rep = redisCommand(c, "PING");
            int up =
                rep && ((rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, "PONG") == 0) ||
                        (rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOAUTH", 6) == 0));
            freeReplyObject(rep);
            redisFree(c);
            if (up && access(s->sock, F_OK) == 0)
                return 0;
        } else {
            redisFree(c);
        }
        cadence_test_sleep_ms(10);
    }
    return -1;
}

/* Starts the server process for s (port, dir and password already set). 0 or -1. */
static inline int cadence_test_redis_spawn(cadence_test_redis *s)
{
    char port[16], logfile[256];
    snprintf(port, sizeof(port), "%d", s->port);
    snprintf(logfile, sizeof(logfile), "%s/redis.log", s->dir);
    const char *argv[32];
    int n = 0;
    argv[n++] = CADENCE_TEST_REDIS_BIN;
    argv[n++] = "--port";
    argv[n++] = port;
    argv[n++] = "--bind";
    argv[n++] = "127.0.0.1";
    argv[n++] = "--save";
    argv[n++] = "";
    argv[n++] = "--appendonly";
    argv[n++] = "no";
    argv[n++] = "--daemonize";
    argv[n++] = "no";
    argv[n++] = "--dir";
    argv[n++] = s->dir;
    argv[n++] = "--logfile";
    argv[n++] = logfile;
    argv[n++] = "--unixsocket";
    argv[n++] = s->sock;
    argv[n++] = "--unixsocketperm";
    argv[n++] = "700";
    argv[n++] = "--enable-debug-command";
    argv[n++] = "local";
    if (s->password[0]) {
        argv[n++] = "--requirepass";
        argv[n++] = s->password;
    }
    argv[n] = NULL;

    unlink(s->sock); /* a stale socket file must not count as "up" */
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        execv(CADENCE_TEST_REDIS_BIN, (char *const *)argv);
        _exit(127);
    }
    s->pid = pid;
    if (cadence_test_redis_wait(s, CADENCE_TEST_REDIS_START_MS) != 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        s->pid = 0;
        return -1;
    }
    return 0;
}

/* Kills the server with SIGKILL (no goodbye to clients) and reaps it. Keeps dir and port. */
static inline void cadence_test_redis_kill(cadence_test_redis *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
}

/* Starts a server on s->port (a free one when 0) with `password` (NULL or "" for none). */
static inline int cadence_test_redis_start(cadence_test_redis *s, const char *password)
{
    snprintf(s->dir, sizeof(s->dir), "/tmp/cadence-redis-XXXXXX");
    if (!mkdtemp(s->dir)) {
        s->dir[0] = '\0';
        return -1;
    }
    snprintf(s->sock, sizeof(s->sock), "%s/redis.sock", s->dir);
    snprintf(s->password, sizeof(s->password), "%s", password ? password : "");
    for (int attempt = 0; attempt < 5; attempt++) {
        int chosen = s->port == 0;
        if (chosen && (s->port = cadence_test_free_port()) <= 0)
            return -1;
        if (cadence_test_redis_spawn(s) == 0)
            return 0;
        if (!chosen)
            return -1;
        s->port = 0; /* somebody took the port between probe and bind: pick another */
    }
    return -1;
}

/* Starts the server again on the same port and socket path (after cadence_test_redis_kill). */
static inline int cadence_test_redis_restart(cadence_test_redis *s)
{
    cadence_test_redis_kill(s);
    return cadence_test_redis_spawn(s);
}

/* Kills the server and removes its directory. Safe to call twice or on a zeroed struct. */
static inline void cadence_test_redis_stop(cadence_test_redis *s)
{
    cadence_test_redis_kill(s);
    if (!s->dir[0])
        return;
    DIR *d = opendir(s->dir);
    if (d) {
        struct dirent *e;
        char path[512];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof(path), "%s/%s", s->dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(s->dir);
    s->dir[0] = '\0';
}

#endif
