/*
 * bench_engine — engine cost per event, with a same-run baseline.
 *
 * Runs a realistic lead history (lead, seven cadence outcomes with a voicemail and a
 * connection, a hot-page visit, a "no") through cadence_engine_apply for many leads and
 * reports ns per event, next to the cost of one json_loads of an event of the same size
 * (the baseline the worker pays anyway). Parsing events and state (de)serialisation are
 * outside the measured loop; building the output JSON and freeing it are inside.
 *
 * Reproduce (optimised build; the release preset has no tests/ so configure one):
 *   cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DCADENCE_WERROR=OFF &&
 *   cmake --build build/bench -j2 --target bench_engine && build/bench/tests/bench_engine
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/engine.h"
#include "schema/playbook_file.h"

static const char *const history[] = {
    "{\"type\":\"lead\",\"event_id\":\"e0\",\"occurred_at\":\"2026-10-29T12:00:00Z\",\"lead_id\":"
    "\"L\",\"rep_id\":\"r1\",\"lead_type\":\"cold\",\"potential\":60,\"first_name\":\"Ana\","
    "\"company\":\"Acme\",\"email\":\"ana@acme.test\",\"timezone\":\"America/New_York\"}",
    "{\"type\":\"call_outcome\",\"event_id\":\"e1\",\"occurred_at\":\"2026-10-29T13:10:00Z\","
    "\"lead_id\":\"L\",\"rep_id\":\"r1\",\"channel\":\"call\",\"disposition\":"
    "\"voicemail_left\",\"message_id\":\"vm-1\"}",
    "{\"type\":\"call_outcome\",\"event_id\":\"e2\",\"occurred_at\":\"2026-10-29T18:10:00Z\","
    "\"lead_id\":\"L\",\"rep_id\":\"r1\",\"channel\":\"call\",\"disposition\":\"no_answer\"}",
    "{\"type\":\"call_outcome\",\"event_id\":\"e3\",\"occurred_at\":\"2026-10-30T18:10:00Z\","
    "\"lead_id\":\"L\",\"rep_id\":\"r1\",\"channel\":\"call\",\"disposition\":"
    "\"voicemail_left\"}",
    "{\"type\":\"site_visit\",\"event_id\":\"e4\",\"occurred_at\":\"2026-10-31T18:10:00Z\","
    "\"lead_id\":\"L\",\"url\":\"https://x.test/pricing\"}",
    "{\"type\":\"call_outcome\",\"event_id\":\"e5\",\"occurred_at\":\"2026-11-02T14:10:00Z\","
    "\"lead_id\":\"L\",\"rep_id\":\"r1\",\"channel\":\"call\",\"disposition\":\"gatekeeper\"}",
    "{\"type\":\"call_outcome\",\"event_id\":\"e6\",\"occurred_at\":\"2026-11-09T19:10:00Z\","
    "\"lead_id\":\"L\",\"rep_id\":\"r1\",\"channel\":\"call\",\"disposition\":\"connected\","
    "\"conversation\":{\"problems\":[\"slow follow-up\",\"lost leads\"],\"next_steps\":\"talk "
    "to the CFO\",\"role\":\"influencer\",\"qualification\":{\"problem\":true}}}",
    "{\"type\":\"call_outcome\",\"event_id\":\"e7\",\"occurred_at\":\"2026-11-11T14:10:00Z\","
    "\"lead_id\":\"L\",\"rep_id\":\"r1\",\"channel\":\"call\",\"disposition\":\"no_answer\"}",
    "{\"type\":\"call_outcome\",\"event_id\":\"e8\",\"occurred_at\":\"2026-11-13T14:10:00Z\","
    "\"lead_id\":\"L\",\"rep_id\":\"r1\",\"channel\":\"call\",\"disposition\":"
    "\"not_interested\",\"no_reason\":\"budget\"}",
};
#define N_EVENTS (sizeof history / sizeof history[0])

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long leads = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
    if (leads <= 0)
        leads = 20000;
    char err[512];
    cadence_playbook *pb =
        cadence_playbook_load(CADENCE_DATA_DIR "/examples/playbook.json", NULL, err, sizeof err);
    if (!pb) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    cadence_tzcache *tz = cadence_tzcache_new();
    static cadence_event evs[N_EVENTS];
    for (size_t i = 0; i < N_EVENTS; i++) {
        json_t *doc = json_loads(history[i], 0, NULL);
        if (!doc || cadence_event_from_json(doc, &evs[i], err, sizeof err) != 0) {
            fprintf(stderr, "event %zu: %s\n", i, err);
            return 1;
        }
        json_decref(doc);
    }
    static cadence_lead_state a, b;
    cadence_outputs outs;
    cadence_outputs_init(&outs);
    size_t outputs = 0;

    /* warm-up (tz database read, caches) */
    for (size_t i = 0; i < N_EVENTS; i++) {
        cadence_engine_apply(i ? &a : NULL, &evs[i], pb, tz, &a, &outs);
        cadence_outputs_reset(&outs);
    }

    double t0 = now_ns();
    for (long l = 0; l < leads; l++) {
        for (size_t i = 0; i < N_EVENTS; i++) {
            const cadence_lead_state *in = i == 0 ? NULL : (i % 2 ? &a : &b);
            cadence_lead_state *out = i % 2 ? &b : &a;
            cadence_engine_apply(in, &evs[i], pb, tz, out, &outs);
            outputs += outs.n_messages + (outs.touch_action == CADENCE_TOUCH_SET);
            cadence_outputs_reset(&outs);
        }
    }
    double engine_ns = (now_ns() - t0) / (double)(leads * (long)N_EVENTS);

    t0 = now_ns();
    size_t sink = 0;
    for (long l = 0; l < leads; l++)
        for (size_t i = 0; i < N_EVENTS; i++) {
            json_t *doc = json_loads(history[i], 0, NULL);
            sink += json_object_size(doc);
            json_decref(doc);
        }
    double loads_ns = (now_ns() - t0) / (double)(leads * (long)N_EVENTS);

    printf("engine: %.0f ns/event (%ld leads x %zu events, %zu outputs)\n", engine_ns, leads,
           N_EVENTS, outputs);
    printf("baseline json_loads of the same events: %.0f ns/event (%zu fields)\n", loads_ns, sink);
    printf("ratio engine/json_loads: %.2f\n", engine_ns / loads_ns);
    printf("reproduce: cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DCADENCE_WERROR=OFF "
           "&& cmake --build "
           "build/bench -j2 --target bench_engine && build/bench/tests/bench_engine %ld\n",
           leads);
    cadence_tzcache_free(tz);
    cadence_playbook_free(pb);
    return 0;
}
