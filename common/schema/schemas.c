/*
 * schemas — the set of topic schemas, one compiled schema per row of the topics table.
 *
 * The set is an array parallel to cadence_topics_all(): lookups compare the topic name against
 * that table (seven rows), which costs less than hashing and keeps the set immutable and so
 * shareable between threads.
 */
#include "schema/schemas.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/topics.h"

struct cadence_schemas {
    const cadence_topic *topics; /* borrowed: the static table */
    size_t count;
    cadence_json_schema **schemas; /* owned, parallel to topics */
};

static const char *const status_names[] = {"ok", "too_large", "not_json", "invalid", "unknown"};

const char *cadence_schema_status_name(enum cadence_schema_status status)
{
    size_t i = (size_t)status;
    return i < sizeof(status_names) / sizeof(status_names[0]) ? status_names[i] : "?";
}

cadence_json_schema *cadence_schema_load_file(const char *path, char *errstr, size_t errstr_size)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        snprintf(errstr, errstr_size, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    char why[512];
    cadence_json_schema *schema = cadence_json_schema_new(doc, NULL, 0, why, sizeof(why));
    json_decref(doc);
    if (!schema)
        snprintf(errstr, errstr_size, "%s: %s", path, why);
    return schema;
}

cadence_schemas *cadence_schemas_new(const char *dir, char *errstr, size_t errstr_size)
{
    cadence_schemas *set = calloc(1, sizeof(*set));
    if (!set) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    set->topics = cadence_topics_all(&set->count);
    set->schemas = calloc(set->count, sizeof(cadence_json_schema *));
    if (!set->schemas) {
        snprintf(errstr, errstr_size, "out of memory");
        cadence_schemas_free(set);
        return NULL;
    }
    char path[4096];
    for (size_t i = 0; i < set->count; i++) {
        int n = snprintf(path, sizeof(path), "%s/%s.json", dir, set->topics[i].name);
        if (n < 0 || (size_t)n >= sizeof(path)) {
            snprintf(errstr, errstr_size, "schemas directory path too long");
            cadence_schemas_free(set);
            return NULL;
        }
        if (!(set->schemas[i] = cadence_schema_load_file(path, errstr, errstr_size))) {
            cadence_schemas_free(set);
            return NULL;
        }
    }
    return set;
}

void cadence_schemas_free(cadence_schemas *set)
{
    if (!set)
        return;
    for (size_t i = 0; set->schemas && i < set->count; i++)
        cadence_json_schema_free(set->schemas[i]);
    free(set->schemas);
    free(set);
}

const cadence_json_schema *cadence_schemas_get(const cadence_schemas *set, const char *topic)
{
    for (size_t i = 0; topic && i < set->count; i++)
        if (strcmp(set->topics[i].name, topic) == 0)
            return set->schemas[i];
    return NULL;
}

enum cadence_schema_status cadence_schema_check(const cadence_json_schema *schema,
                                                const char *bytes, size_t len, size_t max_bytes,
                                                json_t **event, char *errstr, size_t errstr_size)
{
    if (event)
        *event = NULL;
    if (len > max_bytes) {
        snprintf(errstr, errstr_size, "event of %zu bytes is larger than the limit of %zu", len,
                 max_bytes);
        return CADENCE_SCHEMA_TOO_LARGE;
    }
    json_error_t jerr;
    json_t *v =
        json_loadb(bytes, len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
    if (!v) {
        snprintf(errstr, errstr_size, "not JSON: %s (at byte %d)", jerr.text, jerr.position);
        return CADENCE_SCHEMA_NOT_JSON;
    }
    if (cadence_json_schema_validate(schema, v, errstr, errstr_size) != 0) {
        json_decref(v);
        return CADENCE_SCHEMA_INVALID;
    }
    if (event)
        *event = v;
    else
        json_decref(v);
    return CADENCE_SCHEMA_OK;
}

enum cadence_schema_status cadence_schemas_check(const cadence_schemas *set, const char *topic,
                                                 const char *bytes, size_t len, size_t max_bytes,
                                                 json_t **event, char *errstr, size_t errstr_size)
{
    const cadence_json_schema *schema = cadence_schemas_get(set, topic);
    if (!schema) {
        if (event)
            *event = NULL;
        snprintf(errstr, errstr_size, "no schema for topic \"%.100s\"", topic ? topic : "(null)");
        return CADENCE_SCHEMA_UNKNOWN;
    }
    return cadence_schema_check(schema, bytes, len, max_bytes, event, errstr, errstr_size);
}
