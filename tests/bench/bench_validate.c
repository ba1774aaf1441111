/*
 * bench_validate — what schema validation costs per event, per topic.
 *
 * For each topic's typical event (a valid fixture), measures in the same run:
 *   parse     json_loadb() of the bytes: the baseline every consumer pays anyway
 *   validate  cadence_json_schema_validate() of the parsed event
 *   check     cadence_schemas_check(): parse + validate, what the worker calls
 * Each figure is the best of 7 rounds of at least 0.1 s, so it is stable to a few percent.
 * Build with optimisation (not the sanitizer build) before quoting figures; the command is
 * printed at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schema/schemas.h"

#define ROUNDS 7
#define MIN_ROUND_NS 100000000.0

static const struct {
    const char *topic, *fixture;
} typical[] = {
    {"leads.v1", "warm_full"},
    {"site-visits.v1", "pricing_by_lead"},
    {"call-outcomes.v1", "connected_with_conversation"},
    {"alerts.v1", "former_no_revisit"},
    {"touches-due.v1", "first_time_call"},
    {"lead-status.v1", "entered_nurture"},
    {"cadence-dlq.v1", "schema_violation"},
};

enum what { PARSE, VALIDATE, CHECK };

struct subject {
    const cadence_schemas *set;
    const char *topic;
    const char *bytes;
    size_t len;
    json_t *event;
};

static volatile size_t sink; /* keeps the measured work from being optimised away */

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void once(const struct subject *s, enum what w)
{
    char err[512];
    if (w == PARSE) {
        json_t *v = json_loadb(s->bytes, s->len, 0, NULL);
        sink += json_object_size(v);
        json_decref(v);
    } else if (w == VALIDATE) {
        sink += (size_t)cadence_json_schema_validate(cadence_schemas_get(s->set, s->topic),
                                                     s->event, err, sizeof(err));
    } else {
        sink += (size_t)cadence_schemas_check(s->set, s->topic, s->bytes, s->len, 1 << 20, NULL,
                                              err, sizeof(err));
    }
}

/* Best-of-ROUNDS nanoseconds per call. */
static double measure(const struct subject *s, enum what w)
{
    size_t n = 1000;
    double best = 1e18;
    for (int round = 0; round < ROUNDS; round++) {
        double t0, elapsed;
        for (;;) {
            t0 = now_ns();
            for (size_t i = 0; i < n; i++)
                once(s, w);
            elapsed = now_ns() - t0;
            if (elapsed >= MIN_ROUND_NS)
                break;
            n *= 2;
        }
        if (elapsed / (double)n < best)
            best = elapsed / (double)n;
    }
    return best;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 20);
    if (buf)
        *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    const char *src = argc > 1 ? argv[1] : CADENCE_DATA_DIR;
    char path[1024], err[512];
    snprintf(path, sizeof(path), "%s/schemas", src);
    cadence_schemas *set = cadence_schemas_new(path, err, sizeof(err));
    if (!set) {
        fprintf(stderr, "bench_validate: %s\n", err);
        return 2;
    }
    printf("%-18s %6s %10s %12s %10s %16s\n", "topic", "bytes", "parse ns", "validate ns",
           "check ns", "validate/parse");
    int rc = 0;
    for (size_t i = 0; i < sizeof(typical) / sizeof(typical[0]); i++) {
        snprintf(path, sizeof(path), "%s/tests/fixtures/valid/%s/%s.json", src, typical[i].topic,
                 typical[i].fixture);
        struct subject s = {set, typical[i].topic, NULL, 0, NULL};
        char *bytes = slurp(path, &s.len);
        s.bytes = bytes;
        s.event = bytes ? json_loadb(bytes, s.len, 0, NULL) : NULL;
        if (!s.event || cadence_json_schema_validate(cadence_schemas_get(set, s.topic), s.event,
                                                     err, sizeof(err)) != 0) {
            fprintf(stderr, "bench_validate: %s is not a valid event\n", path);
            rc = 2;
        } else {
            double parse = measure(&s, PARSE), validate = measure(&s, VALIDATE),
                   check = measure(&s, CHECK);
            printf("%-18s %6zu %10.0f %12.0f %10.0f %15.2fx\n", s.topic, s.len, parse, validate,
                   check, validate / parse);
        }
        json_decref(s.event);
        free(bytes);
    }
    cadence_schemas_free(set);
    printf("\nreproduce: cmake -S %s -B build/bench -DCMAKE_BUILD_TYPE=Release "
           "-DCADENCE_WERROR=OFF && cmake --build "
           "build/bench --target bench_validate && build/bench/tests/bench_validate %s\n",
           src, src);
    return rc;
}
