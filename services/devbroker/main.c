/*
 * cadence-devbroker — the embedded Kafka for development, CI and demos.
 *
 * Runs librdkafka's mock cluster: the real Kafka wire protocol (produce, fetch, consumer
 * groups, offsets) served from memory. Every topic of DESIGN.md §3 is created with
 * --partitions partitions; the bootstrap address is printed on stdout and written (atomically,
 * through a rename) to --bootstrap-file, so scripts can wait for the file to appear. Runs until
 * SIGTERM or SIGINT and exits 0.
 *
 * Known limit of the mock in librdkafka 2.0.2: each partition keeps only about 5 MB; older
 * messages are dropped. Benchmarks pace production or use more partitions.
 */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "kafka/conf.h"
#include "core/log.h"
#include "base/topics.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: cadence-devbroker [--partitions N] [--brokers N] [--bootstrap-file PATH]\n"
            "\n"
            "Runs librdkafka's mock Kafka cluster (the real wire protocol, in memory) with every\n"
            "cadence topic created, prints the bootstrap address and writes it to PATH, and runs\n"
            "until SIGTERM/SIGINT. For development, CI and demos; production uses real Kafka.\n"
            "\n"
            "  --partitions N       partitions per topic (1-256, default 4)\n"
            "  --brokers N          mock brokers in the cluster (1-16, default 1)\n"
            "  --bootstrap-file P   write the bootstrap address to P (atomically)\n"
            "  --help               this text\n"
            "\n"
            "Only CADENCE_LOG_LEVEL applies to the devbroker.\n");
}

static int parse_int(const char *flag, const char *v, int min, int max, int *out)
{
    char *end = NULL;
    errno = 0;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || errno || end == v || *end || x < min || x > max) {
        fprintf(stderr, "cadence-devbroker: %s must be a number from %d to %d\n", flag, min, max);
        return -1;
    }
    *out = (int)x;
    return 0;
}

static int write_bootstrap(const char *path, const char *bootstraps)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
        return -1;
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    int ok = fprintf(f, "%s\n", bootstraps) > 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int partitions = 4, brokers = 1;
    const char *bootstrap_file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--partitions") == 0) {
            if (parse_int("--partitions", i + 1 < argc ? argv[++i] : NULL, 1, 256, &partitions) !=
                0)
                return 2;
        } else if (strcmp(argv[i], "--brokers") == 0) {
            if (parse_int("--brokers", i + 1 < argc ? argv[++i] : NULL, 1, 16, &brokers) != 0)
                return 2;
        } else if (strcmp(argv[i], "--bootstrap-file") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "cadence-devbroker: --bootstrap-file needs a path\n");
                return 2;
            }
            bootstrap_file = argv[++i];
        } else {
            fprintf(stderr, "cadence-devbroker: unknown argument \"%s\"\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }

    cadence_config cfg;
    cadence_config_load_or_exit(&cfg, "devbroker");
    cadence_log_init("devbroker", cfg.log_level);

    /* Block the stop signals before librdkafka starts its threads (they inherit the mask),
     * so only the main thread's sigsuspend() below receives them. */
    sigset_t stop_set, old_set;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGTERM);
    sigaddset(&stop_set, SIGINT);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigprocmask(SIG_BLOCK, &stop_set, &old_set);

    char errstr[512];
    static const char *const defaults[] = {"client.id", "cadence-devbroker", NULL};
    rd_kafka_conf_t *conf = cadence_kafka_conf_new(&cfg, defaults, errstr, sizeof(errstr));
    cadence_config_free(&cfg);
    if (!conf) {
        fprintf(stderr, "cadence-devbroker: configuration error: %s\n", errstr);
        return 2;
    }
    /* The handle only hosts the mock cluster; it never connects anywhere itself. */
    rd_kafka_conf_set(conf, "bootstrap.servers", "", NULL, 0);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        cadence_logf(CADENCE_LOG_ERROR, "rd_kafka_new: %s", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        cadence_logf(CADENCE_LOG_ERROR, "cannot create the mock cluster");
        rd_kafka_destroy(rk);
        return 1;
    }
    size_t ntopics;
    const cadence_topic *topics = cadence_topics_all(&ntopics);
    int rc = 0;
    for (size_t i = 0; i < ntopics && rc == 0; i++) {
        rd_kafka_resp_err_t err =
            rd_kafka_mock_topic_create(mc, topics[i].name, partitions, brokers < 3 ? 1 : 3);
        if (err) {
            cadence_logf(CADENCE_LOG_ERROR, "creating topic %s: %s", topics[i].name,
                         rd_kafka_err2str(err));
            rc = 1;
        }
    }
    const char *bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
    if (rc == 0 && bootstrap_file && write_bootstrap(bootstrap_file, bootstraps) != 0) {
        cadence_logf(CADENCE_LOG_ERROR, "cannot write %s: %s", bootstrap_file, strerror(errno));
        rc = 1;
    }
    if (rc == 0) {
        printf("%s\n", bootstraps);
        fflush(stdout);
        cadence_log_json(CADENCE_LOG_INFO, "devbroker ready",
                         json_pack("{s:s,s:i,s:i,s:i}", "bootstrap", bootstraps, "partitions",
                                   partitions, "brokers", brokers, "topics", (int)ntopics));
        while (!stop_requested)
            sigsuspend(&old_set);
        cadence_log_json(CADENCE_LOG_INFO, "devbroker stopping", NULL);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    if (bootstrap_file && rc == 0)
        unlink(bootstrap_file);
    return rc;
}
