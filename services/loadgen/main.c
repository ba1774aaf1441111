/*
 * cadence-loadgen — a realistic event mix against a running cadence (workers + Kafka + Redis),
 * and the two figures a platform engineer sizes it by: worker throughput (events/s until the
 * worker group has committed every event: committed means applied in Redis and its outputs
 * acknowledged by Kafka) and the visit → alert latency (p50/p99) seen by an alert consumer.
 *
 * The mix: a prelude of leads (30 % of them then say "no", the rest get a first no-answer),
 * then the measured stream, drawn event by event from one of two mixes (--mix):
 *   default  call outcomes 40 %, ordinary page views 40 %, hot page views 20 %
 *   visits   call outcomes  5 %, ordinary page views 90 %, hot page views  5 % — the feed of a
 *            marketing-automation tool, mostly page views of pages that are not hot (blog)
 * A hot page view (pricing, demo) is on a lead not yet alerted, so each one raises exactly one
 * alert (former_no_revisit for the "no"s, hot_page_active for the others); once every lead of
 * the prelude has had its hot view, further draws of a hot view become ordinary page views, so
 * the hot share is at most --leads events. Ordinary page views and outcomes are on random leads.
 * Production is paced at --rate events/s, or as fast as possible with --rate 0. Event ids carry
 * a run id, so runs never collide.
 *
 * Two ways to take the producer out of the throughput figure (on two cores, producing as fast
 * as possible competes with the consumer it measures):
 *   --produce-only   produce the prelude and the stream, report how fast, wait for nothing:
 *                    the load generator and the broker alone, no consumer needed.
 *   --pause PIDS     backlog mode: once the group has committed the prelude, stop the consumer
 *                    processes PIDS (SIGSTOP), produce the whole stream, resume them (SIGCONT)
 *                    and time from there until the group has committed everything. The
 *                    consumers keep their group membership (the stream must be produced within
 *                    their session timeout); visit→alert latency then includes the backlog.
 */
#include <errno.h>
#include <glib.h>
#include <librdkafka/rdkafka.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "base/clock.h"
#include "base/rfc3339.h"
#include "core/config.h"
#include "kafka/conf.h"
#include "core/log.h"
#include "base/topics.h"

struct opts {
    long rate;   /* events/s in the measured stream; 0 = as fast as possible */
    long events; /* events in the measured stream */
    long leads;  /* leads in the prelude */
    long wait_s; /* how long to wait for the worker and the alerts afterwards */
    const char *group;
    const char *mix;   /* "default" or "visits" */
    int produce_only;  /* produce, report, wait for nothing */
    const char *pause; /* comma-separated consumer pids to SIGSTOP while the stream is produced */
};

/* Shares of the measured stream, in percent: outcomes, then ordinary views, the rest hot. */
struct mix {
    const char *name;
    long outcome_pct, ordinary_pct;
};

static const struct mix MIXES[] = {
    {"default", 40, 40},
    {"visits", 5, 90},
};

/* The consumers main does not destroy (see the end of main), reachable until exit. */
static rd_kafka_t *kept_to_exit[2];

static int64_t now_us(void)
{
    return cadence_clock_mono_ns() / 1000;
}

static void rfc3339(time_t t, char *out, size_t n)
{
    cadence_rfc3339_format((int64_t)t * 1000, out, n);
}

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: cadence-loadgen [--rate N] [--events N] [--leads N] [--wait S] [--group G]\n"
        "                       [--mix default|visits] [--produce-only | --pause PID[,PID...]]\n"
        "\n"
        "Produces a realistic event mix to the cadence input topics, consumes alerts.v1, and\n"
        "reports worker throughput (events/s until the worker group committed them all) and\n"
        "visit-to-alert latency (p50/p99). Needs running workers; uses CADENCE_KAFKA_BROKERS\n"
        "and CADENCE_KAFKA_CONFIG like every service.\n"
        "\n"
        "  --rate N     events/s of the measured stream, 0 = as fast as possible (default 5000)\n"
        "  --events N   events in the measured stream (default 50000)\n"
        "  --leads N    leads in the prelude (default: a fifth of --events)\n"
        "  --wait S     seconds to wait for processing and alerts (default 120)\n"
        "  --group G    the workers' consumer group (default cadence-worker)\n"
        "  --mix M      the measured stream's mix (default: default):\n"
        "               default  call outcomes 40 %%, ordinary page views 40 %%, hot 20 %%\n"
        "               visits   call outcomes 5 %%, ordinary page views 90 %%, hot 5 %%\n"
        "               (ordinary: a blog page; hot: /pricing or /demo/book, each on a lead not\n"
        "               yet alerted, so at most --leads of them; further ones become ordinary)\n"
        "  --produce-only  produce the prelude and the stream as fast as --rate allows, report\n"
        "               how fast, and wait for no consumer (the generator and broker alone)\n"
        "  --pause PIDS backlog mode: after the prelude is committed, SIGSTOP the consumer\n"
        "               processes PIDS (comma-separated), produce the whole stream, SIGCONT them\n"
        "               and time from there until the group has committed everything\n\n");
    cadence_config_print_help(out, "loadgen");
}

static int parse_long(const char *flag, const char *v, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || errno || end == v || *end || x < min || x > max) {
        fprintf(stderr, "cadence-loadgen: %s must be a number from %ld to %ld\n", flag, min, max);
        return -1;
    }
    *out = x;
    return 0;
}

struct gen {
    rd_kafka_t *producer;
    char run[16];
    long produced;
    GHashTable *sent_at; /* visit event_id → produce time (µs), for latency */
    unsigned seed;
};

static void produce(struct gen *g, const char *topic, const char *key, const char *value)
{
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            g->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
            RD_KAFKA_V_VALUE((void *)value, strlen(value)),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(g->producer, 10);
            continue;
        }
        if (err)
            fprintf(stderr, "cadence-loadgen: produce: %s\n", rd_kafka_err2str(err));
        break;
    }
    g->produced++;
}

static void lead_event(struct gen *g, long i, time_t at)
{
    char when[32], key[64], v[768];
    rfc3339(at, when, sizeof(when));
    snprintf(key, sizeof(key), "%s-L%ld", g->run, i);
    snprintf(v, sizeof(v),
             "{\"event_id\":\"%s-lead-%ld\",\"type\":\"lead\",\"occurred_at\":\"%s\","
             "\"lead_id\":\"%s\",\"rep_id\":\"rep-%ld\",\"lead_type\":\"%s\",\"potential\":%ld,"
             "\"first_name\":\"Lee%ld\",\"last_name\":\"Doe\",\"company\":\"Acme %ld\","
             "\"email\":\"lee%ld@%s.example\",\"phone\":\"+1 555 0100\","
             "\"timezone\":\"America/New_York\"}",
             g->run, i, when, key, i % 25, i % 3 ? "cold" : "warm", 40 + i % 60, i, i, i, g->run);
    produce(g, CADENCE_TOPIC_LEADS, key, v);
}

static void outcome_event(struct gen *g, long i, long n, const char *disposition, time_t at)
{
    char when[32], key[64], v[768];
    rfc3339(at, when, sizeof(when));
    snprintf(key, sizeof(key), "%s-L%ld", g->run, i);
    snprintf(v, sizeof(v),
             "{\"event_id\":\"%s-out-%ld-%ld\",\"type\":\"call_outcome\",\"occurred_at\":\"%s\","
             "\"lead_id\":\"%s\",\"rep_id\":\"rep-%ld\",\"channel\":\"call\","
             "\"disposition\":\"%s\"%s}",
             g->run, i, n, when, key, i % 25, disposition,
             strcmp(disposition, "not_interested") == 0 ? ",\"no_reason\":\"not this quarter\""
                                                        : "");
    produce(g, CADENCE_TOPIC_CALL_OUTCOMES, key, v);
}

static void visit_event(struct gen *g, long i, long n, int hot, time_t at)
{
    char when[32], key[64], id[96], v[768];
    rfc3339(at, when, sizeof(when));
    snprintf(key, sizeof(key), "%s-L%ld", g->run, i);
    snprintf(id, sizeof(id), "%s-visit-%ld-%ld", g->run, i, n);
    snprintf(v, sizeof(v),
             "{\"event_id\":\"%s\",\"type\":\"site_visit\",\"occurred_at\":\"%s\","
             "\"lead_id\":\"%s\",\"url\":\"https://www.example.com/%s\",\"title\":\"page\","
             "\"source\":\"loadgen\"}",
             id, when, key, hot ? (n % 2 ? "pricing" : "demo/book") : "blog/cadence-tips");
    if (hot)
        g_hash_table_insert(g->sent_at, g_strdup(id), g_memdup2(&(int64_t){now_us()}, 8));
    produce(g, CADENCE_TOPIC_SITE_VISITS, key, v);
}

/* Sum over the input topics of (end offset − committed offset of the worker group). */
static int64_t backlog(rd_kafka_t *rk, rd_kafka_t *group_rk)
{
    static const char *const inputs[] = {CADENCE_TOPIC_LEADS, CADENCE_TOPIC_SITE_VISITS,
                                         CADENCE_TOPIC_CALL_OUTCOMES};
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(rk, 1, NULL, &md, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return -1;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(32);
    for (int t = 0; t < md->topic_cnt; t++)
        for (size_t k = 0; k < 3; k++)
            if (strcmp(md->topics[t].topic, inputs[k]) == 0)
                for (int p = 0; p < md->topics[t].partition_cnt; p++)
                    rd_kafka_topic_partition_list_add(parts, inputs[k], p);
    rd_kafka_metadata_destroy(md);
    int64_t total = 0;
    if (rd_kafka_committed(group_rk, parts, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_topic_partition_list_destroy(parts);
        return -1;
    }
    for (int i = 0; i < parts->cnt; i++) {
        int64_t lo, hi;
        if (rd_kafka_query_watermark_offsets(rk, parts->elems[i].topic, parts->elems[i].partition,
                                             &lo, &hi, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR)
            continue;
        int64_t c = parts->elems[i].offset < 0 ? lo : parts->elems[i].offset;
        total += hi > c ? hi - c : 0;
    }
    rd_kafka_topic_partition_list_destroy(parts);
    return total;
}

/* Parses "PID[,PID...]" into pids (at most max); -1 on anything else or a pid not signalable. */
static int parse_pids(const char *v, pid_t *pids, int max)
{
    int n = 0;
    const char *p = v;
    while (p && *p) {
        char *end = NULL;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (errno || end == p || x <= 1 || (*end && *end != ',') || n == max ||
            kill((pid_t)x, 0) != 0)
            return -1;
        pids[n++] = (pid_t)x;
        p = *end ? end + 1 : end;
    }
    return n > 0 ? n : -1;
}

static void signal_all(const pid_t *pids, int n, int sig)
{
    for (int i = 0; i < n; i++)
        if (kill(pids[i], sig) != 0)
            fprintf(stderr, "cadence-loadgen: kill(%ld, %d): %s\n", (long)pids[i], sig,
                    strerror(errno));
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Takes the alerts that arrived; records the latency of those triggered by our visits. */
static void drain_alerts(rd_kafka_t *consumer, struct gen *g, GArray *lat)
{
    rd_kafka_message_t *m;
    while (consumer && (m = rd_kafka_consumer_poll(consumer, 0)) != NULL) {
        if (!m->err) {
            json_t *a = json_loadb(m->payload, m->len, 0, NULL);
            const char *eid =
                json_string_value(json_object_get(json_object_get(a, "trigger"), "event_id"));
            int64_t *sent = eid ? g_hash_table_lookup(g->sent_at, eid) : NULL;
            if (sent) {
                int64_t us = now_us() - *sent;
                g_array_append_val(lat, us);
                g_hash_table_remove(g->sent_at, eid);
            }
            json_decref(a);
        }
        rd_kafka_message_destroy(m);
    }
}

static rd_kafka_t *client(const cadence_config *cfg, rd_kafka_type_t type, const char *const *d)
{
    char err[512];
    rd_kafka_conf_t *conf = cadence_kafka_conf_new(cfg, d, err, sizeof(err));
    rd_kafka_t *rk = conf ? rd_kafka_new(type, conf, err, sizeof(err)) : NULL;
    if (!rk) {
        if (conf)
            rd_kafka_conf_destroy(conf);
        fprintf(stderr, "cadence-loadgen: %s\n", err);
        exit(2);
    }
    return rk;
}

int main(int argc, char **argv)
{
    struct opts o = {5000, 50000, 0, 120, "cadence-worker", "default", 0, NULL};
    const struct {
        const char *flag;
        long min, max;
        long *slot;
    } flags[] = {
        {"--rate", 0, 10000000, &o.rate},
        {"--events", 1, 100000000, &o.events},
        {"--leads", 1, 10000000, &o.leads},
        {"--wait", 1, 86400, &o.wait_s},
    };
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--produce-only") == 0) {
            o.produce_only = 1;
            continue;
        }
        if (strcmp(argv[i], "--group") == 0 && v) {
            o.group = argv[++i];
            continue;
        }
        if (strcmp(argv[i], "--mix") == 0 && v) {
            o.mix = argv[++i];
            continue;
        }
        if (strcmp(argv[i], "--pause") == 0 && v) {
            o.pause = argv[++i];
            continue;
        }
        size_t k = 0;
        while (k < sizeof(flags) / sizeof(flags[0]) && strcmp(argv[i], flags[k].flag) != 0)
            k++;
        if (k == sizeof(flags) / sizeof(flags[0])) {
            fprintf(stderr, "cadence-loadgen: unknown argument \"%s\" (try --help)\n", argv[i]);
            return 2;
        }
        if (parse_long(flags[k].flag, v, flags[k].min, flags[k].max, flags[k].slot) != 0)
            return 2;
        i++;
    }
    if (o.leads == 0)
        o.leads = o.events / 5 > 0 ? o.events / 5 : 1;
    const struct mix *mix = NULL;
    for (size_t k = 0; k < sizeof(MIXES) / sizeof(MIXES[0]); k++)
        if (strcmp(o.mix, MIXES[k].name) == 0)
            mix = &MIXES[k];
    if (!mix) {
        fprintf(stderr, "cadence-loadgen: --mix must be default or visits, not \"%s\"\n", o.mix);
        return 2;
    }
    pid_t paused[64];
    int npaused = 0;
    if (o.pause && (o.produce_only || (npaused = parse_pids(o.pause, paused, 64)) < 0)) {
        fprintf(stderr,
                "cadence-loadgen: --pause takes running pids (PID[,PID...], at most 64) and "
                "no --produce-only\n");
        return 2;
    }

    cadence_config cfg;
    cadence_config_load_or_exit(&cfg, "loadgen");
    cadence_log_init("loadgen", cfg.log_level);

    static const char *const pd[] = {
        "linger.ms", "5", "queue.buffering.max.messages", "1000000", "acks", "all", NULL};
    /* The alert reader assigns partitions itself (its group is never joined; librdkafka's
     * consumer API needs one) and must not wait on idle partitions. */
    static const char *const cd[] = {"group.id",
                                     "cadence-loadgen-reader",
                                     "enable.auto.commit",
                                     "false",
                                     "fetch.wait.max.ms",
                                     "10",
                                     "fetch.error.backoff.ms",
                                     "10",
                                     NULL};
    const char *gd[] = {"group.id", o.group, "enable.auto.commit", "false", NULL};
    struct gen g = {0};
    g.producer = client(&cfg, RD_KAFKA_PRODUCER, pd);
    rd_kafka_t *consumer = NULL, *group_rk = NULL; /* --produce-only reads nothing */
    if (!o.produce_only) {
        consumer = client(&cfg, RD_KAFKA_CONSUMER, cd);
        rd_kafka_poll_set_consumer(consumer);
        group_rk = client(&cfg, RD_KAFKA_CONSUMER, gd);
    }
    /* The alert reader takes every partition itself (no group to join or leave), from the end. */
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_partition_list_t *asg = rd_kafka_topic_partition_list_new(16);
    if (rd_kafka_metadata(g.producer, 1, NULL, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int t = 0; t < md->topic_cnt; t++)
            if (strcmp(md->topics[t].topic, CADENCE_TOPIC_ALERTS) == 0)
                for (int p = 0; p < md->topics[t].partition_cnt; p++) {
                    /* From the current end, read now: alerts of this run only. */
                    int64_t lo = 0, hi = 0;
                    rd_kafka_query_watermark_offsets(g.producer, CADENCE_TOPIC_ALERTS, p, &lo, &hi,
                                                     10000);
                    rd_kafka_topic_partition_list_add(asg, CADENCE_TOPIC_ALERTS, p)->offset = hi;
                }
        rd_kafka_metadata_destroy(md);
    }
    if (asg->cnt == 0) {
        fprintf(stderr, "cadence-loadgen: no topic %s on the cluster\n", CADENCE_TOPIC_ALERTS);
        return 2;
    }
    if (consumer)
        rd_kafka_assign(consumer, asg);
    rd_kafka_topic_partition_list_destroy(asg);
    snprintf(g.run, sizeof(g.run), "r%lx", (unsigned long)cadence_clock_now_s() % 0xfffff);
    g.sent_at = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g.seed = 12345;
    GArray *lat = g_array_new(FALSE, FALSE, sizeof(int64_t));
    int64_t t0 = now_us();

    /* Prelude: the leads and their first outcome, a month ago. */
    time_t now = (time_t)cadence_clock_now_s();
    for (long i = 0; i < o.leads; i++) {
        lead_event(&g, i, now - 30L * 86400);
        outcome_event(&g, i, 0, i % 10 < 3 ? "not_interested" : "no_answer", now - 29L * 86400);
        rd_kafka_poll(g.producer, 0);
    }
    rd_kafka_flush(g.producer, 60000);
    int64_t prelude_events = g.produced;
    while (!o.produce_only && backlog(g.producer, group_rk) > 0 &&
           now_us() - t0 < o.wait_s * 1000000LL)
        drain_alerts(consumer, &g, lat);
    g_array_set_size(lat, 0); /* warm_inbound alerts of the prelude are not visit latency */
    g_hash_table_remove_all(g.sent_at);

    /* The measured stream (backlog mode: with the consumers stopped). */
    signal_all(paused, npaused, SIGSTOP);
    long hot_next = 0;
    int64_t start = now_us();
    for (long n = 0; n < o.events; n++) {
        long r = (long)(rand_r(&g.seed) % 100);
        long lead = (long)(rand_r(&g.seed) % (unsigned)o.leads);
        time_t at = (time_t)cadence_clock_now_s();
        if (r < mix->outcome_pct)
            outcome_event(&g, lead, n + 1, r % 2 ? "no_answer" : "voicemail_left", at - 3600);
        else if (r < mix->outcome_pct + mix->ordinary_pct || hot_next >= o.leads)
            visit_event(&g, lead, n, 0, at);
        else
            visit_event(&g, hot_next++, n, 1, at);
        if (o.rate > 0) {
            int64_t due = start + (int64_t)((double)(n + 1) * 1e6 / (double)o.rate);
            while (now_us() < due) {
                rd_kafka_poll(g.producer, 0);
                drain_alerts(consumer, &g, lat);
                struct timespec ts = {0, 100000};
                nanosleep(&ts, NULL); /* pacing the producer, not waiting on a result */
            }
        } else if ((n & 1023) == 0) {
            rd_kafka_poll(g.producer, 0);
            drain_alerts(consumer, &g, lat);
        }
    }
    int flushed = rd_kafka_flush(g.producer, 60000) == RD_KAFKA_RESP_ERR_NO_ERROR;
    int64_t produced_at = now_us();
    double produce_secs = (double)(produced_at - start) / 1e6;
    if (npaused > 0) {
        signal_all(paused, npaused, SIGCONT);
        start = produced_at; /* the consumers' time starts now, with the whole stream waiting */
    }
    if (o.produce_only) {
        printf("{\"mix\":\"%s\",\"mode\":\"produce-only\",\"rate_target\":%ld,\"events\":%ld,"
               "\"prelude_events\":%lld,\"hot_visits\":%ld,\"produce_seconds\":%.3f,"
               "\"produced_per_s\":%.0f}\n",
               mix->name, o.rate, o.events, (long long)prelude_events, hot_next, produce_secs,
               (double)o.events / produce_secs);
        fflush(stdout);
        g_array_free(lat, TRUE);
        g_hash_table_destroy(g.sent_at);
        rd_kafka_destroy(g.producer);
        cadence_config_free(&cfg);
        return flushed ? 0 : 1;
    }
    int64_t left = -1;
    while (now_us() - produced_at < o.wait_s * 1000000LL) {
        drain_alerts(consumer, &g, lat);
        left = backlog(g.producer, group_rk);
        if (left == 0)
            break;
        struct timespec pause = {0, 50000000};
        nanosleep(&pause, NULL); /* between two backlog queries */
    }
    int64_t done = now_us();
    /* Alerts of the last events may still be on their way to our consumer. */
    while ((long)lat->len < hot_next && now_us() - done < 10000000LL) {
        drain_alerts(consumer, &g, lat);
        struct timespec pause = {0, 20000000};
        nanosleep(&pause, NULL);
    }
    if (g_hash_table_size(g.sent_at) > 0) {
        GHashTableIter it;
        gpointer key;
        g_hash_table_iter_init(&it, g.sent_at);
        while (g_hash_table_iter_next(&it, &key, NULL))
            fprintf(stderr, "cadence-loadgen: no alert seen for hot visit %s\n", (char *)key);
    }
    g_array_sort(lat, cmp_i64);
    double secs = (double)(done - start) / 1e6;
    size_t i50 = lat->len / 2, i99 = (size_t)lat->len * 99 / 100, imax = lat->len - 1;
    double p50 = lat->len ? (double)g_array_index(lat, int64_t, i50) / 1000.0 : NAN;
    double p99 = lat->len ? (double)g_array_index(lat, int64_t, i99) / 1000.0 : NAN;
    double pmax = lat->len ? (double)g_array_index(lat, int64_t, imax) / 1000.0 : NAN;
    printf("{\"mix\":\"%s\",\"mode\":\"%s\",\"rate_target\":%ld,\"events\":%ld,\"prelude_events\":%"
           "lld,\"seconds\":%.3f,"
           "\"events_per_s\":%.0f,\"backlog_left\":%lld,\"hot_visits\":%ld,\"alerts_seen\":%u,"
           "\"latency_ms_p50\":%.2f,\"latency_ms_p99\":%.2f,\"latency_ms_max\":%.2f,"
           "\"produce_seconds\":%.3f,\"produced_per_s\":%.0f}\n",
           mix->name, npaused > 0 ? "backlog" : "live", o.rate, o.events, (long long)prelude_events,
           secs, (double)o.events / secs, (long long)left, hot_next, lat->len, p50, p99, pmax,
           produce_secs, (double)o.events / produce_secs);
    fflush(stdout);
    int rc = left == 0 && (long)lat->len == hot_next ? 0 : 1;
    g_array_free(lat, TRUE);
    g_hash_table_destroy(g.sent_at);
    rd_kafka_destroy(g.producer);
    /* The two consumers are not destroyed: with librdkafka 2.0.2 against the mock cluster their
     * destroy can wait forever on a broker thread (seen here), and the process ends anyway.
     * Kept in a static so they stay reachable to the end: LeakSanitizer reported them, at times,
     * as leaked once main's locals were gone. */
    kept_to_exit[0] = group_rk;
    kept_to_exit[1] = consumer;
    cadence_config_free(&cfg);
    return rc;
}
