/*
 * schemas — cadence's event contracts, loaded once at start-up and looked up by topic.
 *
 * schemas/<topic>.json (DESIGN.md §3) is the single source of truth for every event; services
 * load the whole set from CADENCE_SCHEMAS_DIR when they start (a missing or broken schema stops
 * start-up) and validate each input with cadence_schemas_check(): raw bytes in, a parsed event or
 * a distinct reason out, so the worker can dead-letter and the gateway can answer 413 / 400 with
 * the validator's message.
 */
#ifndef CADENCE_SCHEMAS_H
#define CADENCE_SCHEMAS_H

#include <stddef.h>

#include <jansson.h>

#include "schema/json_schema.h"

typedef struct cadence_schemas cadence_schemas;

/* The outcome of checking raw bytes against a schema. */
enum cadence_schema_status {
    CADENCE_SCHEMA_OK = 0,        /* parsed and valid */
    CADENCE_SCHEMA_TOO_LARGE = 1, /* more bytes than allowed; not parsed */
    CADENCE_SCHEMA_NOT_JSON = 2,  /* not one JSON value (or a duplicate member name) */
    CADENCE_SCHEMA_INVALID = 3,   /* JSON, but breaks the schema */
    CADENCE_SCHEMA_UNKNOWN = 4,   /* no schema for that topic */
};

/* A short name for a status ("ok", "too_large", "not_json", "invalid", "unknown"). */
const char *cadence_schema_status_name(enum cadence_schema_status status);

/*
 * Loads and compiles the schema file at `path`. Returns a new schema the caller frees with
 * cadence_json_schema_free(), or NULL with `errstr` naming the file and the problem.
 */
cadence_json_schema *cadence_schema_load_file(const char *path, char *errstr, size_t errstr_size);

/*
 * Loads <dir>/<topic>.json for every topic of topics.h. Returns a new set the caller frees with
 * cadence_schemas_free(), or NULL with `errstr` naming the file and the problem.
 */
cadence_schemas *cadence_schemas_new(const char *dir, char *errstr, size_t errstr_size);

/* Frees `set`; NULL is a no-op. */
void cadence_schemas_free(cadence_schemas *set);

/* The schema of `topic`, borrowed from `set` (valid until it is freed), or NULL if unknown. */
const cadence_json_schema *cadence_schemas_get(const cadence_schemas *set, const char *topic);

/*
 * Parses the `len` bytes at `bytes` (borrowed; need not be NUL-terminated) as one JSON value
 * and validates it against `schema`. More than `max_bytes` bytes is TOO_LARGE without parsing.
 * Duplicate member names are refused (NOT_JSON): the validator and a consumer must never see
 * different values for one field. On OK, *event (may be NULL) receives a new reference the
 * caller decrefs; otherwise it is set to NULL and `errstr` receives the reason (for INVALID,
 * the validator's "<json pointer>: <rule>" message).
 */
enum cadence_schema_status cadence_schema_check(const cadence_json_schema *schema,
                                                const char *bytes, size_t len, size_t max_bytes,
                                                json_t **event, char *errstr, size_t errstr_size);

/* As cadence_schema_check() with the schema of `topic`; UNKNOWN when `set` has none. */
enum cadence_schema_status cadence_schemas_check(const cadence_schemas *set, const char *topic,
                                                 const char *bytes, size_t len, size_t max_bytes,
                                                 json_t **event, char *errstr, size_t errstr_size);

#endif
