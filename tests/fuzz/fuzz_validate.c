/*
 * libFuzzer target: raw bytes → parse → validate, as the worker and the gateway do with every
 * input. The first byte picks the topic (modulo the number of topics, in topics.h order); the
 * rest is the event. The schemas are loaded once from CADENCE_SCHEMAS_DIR (default: the source
 * tree's schemas/). Run it through scripts/fuzz, which builds it and seeds it with the valid
 * fixtures.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "schema/schemas.h"
#include "base/topics.h"

/* What the worker accepts per event by default (CADENCE_MAX_BODY_BYTES). */
#define FUZZ_MAX_BYTES (1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Loaded on the first input and kept for the process's life (reachable, so not a leak). */
static cadence_schemas *set;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!set) {
        const char *dir = getenv("CADENCE_SCHEMAS_DIR");
        char err[512];
        set = cadence_schemas_new(dir && dir[0] ? dir : CADENCE_DATA_DIR "/schemas", err,
                                  sizeof(err));
        if (!set) {
            fprintf(stderr, "fuzz_validate: %s\n", err);
            abort();
        }
    }
    if (size < 1)
        return 0;
    size_t count;
    const cadence_topic *topics = cadence_topics_all(&count);
    json_t *event = NULL;
    char err[2048];
    enum cadence_schema_status st =
        cadence_schemas_check(set, topics[data[0] % count].name, (const char *)data + 1, size - 1,
                              FUZZ_MAX_BYTES, &event, err, sizeof(err));
    /* The contract of cadence_schemas_check: an event exactly when OK, a message otherwise. */
    if ((st == CADENCE_SCHEMA_OK) != (event != NULL) || (st != CADENCE_SCHEMA_OK && !err[0]))
        abort();
    json_decref(event);
    return 0;
}
