/*
 * devbroker_proc — test helper: runs cadence-devbroker in a child process for a unit test and
 * stops it again. Header-only (static functions), included by the tests that need Kafka.
 */
#ifndef CADENCE_TEST_DEVBROKER_PROC_H
#define CADENCE_TEST_DEVBROKER_PROC_H

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct test_devbroker {
    pid_t pid;
    char bootstrap[256];
    char path[128];
} test_devbroker;

/* Starts the devbroker with `partitions` partitions and waits (10 s deadline) for its address. */
static inline void test_devbroker_start(test_devbroker *b, int partitions)
{
    const char *bin_dir = getenv("CADENCE_BIN_DIR");
    cr_assert_not_null(bin_dir, "CADENCE_BIN_DIR not set");
    char bin[512], parts[16];
    snprintf(bin, sizeof(bin), "%s/cadence-devbroker", bin_dir);
    snprintf(parts, sizeof(parts), "%d", partitions);
    snprintf(b->path, sizeof(b->path), "/tmp/cadence-test-bootstrap-%d", (int)getpid());
    unlink(b->path);
    b->pid = fork();
    cr_assert_geq(b->pid, 0);
    if (b->pid == 0) {
        freopen("/dev/null", "w", stdout);
        execl(bin, bin, "--partitions", parts, "--bootstrap-file", b->path, (char *)NULL);
        _exit(127);
    }
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        FILE *f = fopen(b->path, "r");
        if (f) {
            int ok = fgets(b->bootstrap, sizeof(b->bootstrap), f) != NULL;
            fclose(f);
            if (ok) {
                b->bootstrap[strcspn(b->bootstrap, "\n")] = '\0';
                return;
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        cr_assert_lt(now.tv_sec - start.tv_sec, 10, "devbroker did not start");
        usleep(10000); /* polling a condition with a deadline */
    }
}

/* Stops the devbroker with SIGTERM and asserts it exited 0. */
static inline void test_devbroker_stop(test_devbroker *b)
{
    if (b->pid <= 0)
        return;
    kill(b->pid, SIGTERM);
    int status = 0;
    waitpid(b->pid, &status, 0);
    b->pid = 0;
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "devbroker exit status %d", status);
}

#endif
