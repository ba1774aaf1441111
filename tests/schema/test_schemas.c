/*
 * The cadence topic schemas (schemas/<topic>.json) against the fixtures in tests/fixtures: every
 * valid/<topic>/NAME.json passes and every invalid/<topic>/NAME.json fails with exactly the message
 * in its sibling .err file. Also: the contract rules of schemas/README.md that a fixture cannot
 * show (closed outputs, a description on every field), and the loader's refusals.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/schemas.h"
#include "base/topics.h"

#define MAX_BYTES (1024 * 1024)

static const char *source_dir(void)
{
    const char *d = getenv("CADENCE_SOURCE_DIR");
    return d && d[0] ? d : CADENCE_DATA_DIR;
}

static cadence_schemas *load_set(void)
{
    char dir[1024], err[512] = "";
    snprintf(dir, sizeof(dir), "%s/schemas", source_dir());
    cadence_schemas *set = cadence_schemas_new(dir, err, sizeof(err));
    cr_assert_not_null(set, "loading %s: %s", dir, err);
    return set;
}

/* Reads a whole file into a new NUL-terminated buffer (caller frees); *len gets its size. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    char *buf = malloc(MAX_BYTES + 1);
    cr_assert_not_null(buf);
    *len = fread(buf, 1, MAX_BYTES, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Checks every fixture of one kind ("valid"/"invalid") of one topic; returns how many. */
static size_t check_fixtures(const cadence_schemas *set, const char *kind, const char *topic)
{
    char dirpath[1024];
    snprintf(dirpath, sizeof(dirpath), "%s/tests/fixtures/%s/%s", source_dir(), kind, topic);
    DIR *dir = opendir(dirpath);
    cr_assert_not_null(dir, "no fixtures directory %s", dirpath);
    size_t count = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (!has_suffix(de->d_name, ".json"))
            continue;
        char path[2048], err[2048] = "";
        snprintf(path, sizeof(path), "%s/%s", dirpath, de->d_name);
        size_t len;
        char *bytes = slurp(path, &len);
        json_t *ev = NULL;
        enum cadence_schema_status st =
            cadence_schemas_check(set, topic, bytes, len, MAX_BYTES, &ev, err, sizeof(err));
        free(bytes);
        count++;
        if (strcmp(kind, "valid") == 0) {
            cr_expect_eq(st, CADENCE_SCHEMA_OK, "%s: %s", path, err);
            const char *type = json_string_value(json_object_get(ev, "type"));
            cr_expect_str_eq(type ? type : "", cadence_topic_find(topic)->event_type, "%s", path);
            json_decref(ev);
            continue;
        }
        cr_expect_null(ev);
        cr_expect_neq(st, CADENCE_SCHEMA_OK, "%s: accepted", path);
        path[strlen(path) - 5] = '\0';
        strcat(path, ".err");
        size_t elen;
        char *want = slurp(path, &elen);
        while (elen > 0 && want[elen - 1] == '\n')
            want[--elen] = '\0';
        cr_expect_str_eq(err, want, "%s", path);
        free(want);
    }
    closedir(dir);
    return count;
}

Test(schemas, every_valid_fixture_passes_and_every_invalid_one_fails_with_its_message)
{
    cadence_schemas *set = load_set();
    size_t n, valid = 0, invalid = 0;
    const cadence_topic *topics = cadence_topics_all(&n);
    for (size_t i = 0; i < n; i++) {
        size_t v = check_fixtures(set, "valid", topics[i].name);
        size_t bad = check_fixtures(set, "invalid", topics[i].name);
        cr_expect_geq(v, 2, "%s: fewer than 2 valid fixtures", topics[i].name);
        cr_expect_geq(bad, 4, "%s: fewer than 4 invalid fixtures", topics[i].name);
        valid += v;
        invalid += bad;
    }
    fprintf(stderr, "fixtures: %zu valid, %zu invalid\n", valid, invalid);
    cadence_schemas_free(set);
}

/* Recursively checks that every member of every `properties` has a description. */
static void expect_descriptions(const json_t *schema, const char *where)
{
    const char *key;
    json_t *sub;
    json_object_foreach(json_object_get(schema, "properties"), key, sub)
    {
        char here[512];
        snprintf(here, sizeof(here), "%s/%s", where, key);
        cr_expect(json_is_string(json_object_get(sub, "description")), "%s: no description", here);
        expect_descriptions(sub, here);
        expect_descriptions(json_object_get(sub, "items"), here);
    }
}

/* Outputs are closed at every level, inputs open (schemas/README.md). */
static void expect_closed(const json_t *schema, int closed, const char *where)
{
    if (json_is_object(json_object_get(schema, "properties")))
        cr_expect_eq(json_is_false(json_object_get(schema, "additionalProperties")), closed,
                     "%s: additionalProperties should be %s", where, closed ? "false" : "open");
    const char *key;
    json_t *sub;
    json_object_foreach(json_object_get(schema, "properties"), key, sub)
    {
        char here[512];
        snprintf(here, sizeof(here), "%s/%s", where, key);
        expect_closed(sub, closed, here);
        expect_closed(json_object_get(sub, "items"), closed, here);
    }
}

Test(schemas, every_field_is_described_and_outputs_are_closed_inputs_open)
{
    size_t n;
    const cadence_topic *topics = cadence_topics_all(&n);
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/schemas/%s.json", source_dir(), topics[i].name);
        json_t *doc = json_load_file(path, 0, NULL);
        cr_assert_not_null(doc, "%s", path);
        expect_descriptions(doc, topics[i].name);
        expect_closed(doc, !topics[i].is_input, topics[i].name);
        json_decref(doc);
    }
}

/* Compiles `text`; returns the error (static buffer) or NULL when it compiled. */
static const char *compile_error(const char *text)
{
    static char err[512];
    json_t *doc = json_loads(text, 0, NULL);
    cr_assert_not_null(doc, "bad test schema %s", text);
    err[0] = '\0';
    cadence_json_schema *s = cadence_json_schema_new(doc, NULL, 0, err, sizeof(err));
    json_decref(doc);
    if (s) {
        cadence_json_schema_free(s);
        return NULL;
    }
    return err;
}

Test(json_schema, refuses_an_unsupported_keyword_naming_it_and_where)
{
    const char *err = compile_error("{\"properties\": {\"a\": {\"not\": {\"type\": \"string\"}}}}");
    cr_assert_not_null(err);
    cr_expect_str_eq(err, "schema /properties/a: unsupported keyword \"not\"");
    err = compile_error("{\"type\": \"object\", \"maxProperties\": 3}");
    cr_assert_not_null(err);
    cr_expect_str_eq(err, "schema (root): unsupported keyword \"maxProperties\"");
}

Test(json_schema, refuses_bad_values_of_supported_keywords)
{
    static const struct {
        const char *schema, *error;
    } cases[] = {
        {"{\"format\": \"email\"}", "schema /format: unsupported format \"email\""},
        {"{\"minLength\": -1}", "schema /minLength: must be a non-negative integer"},
        {"{\"type\": \"text\"}", "schema /type: unknown type name"},
        {"{\"$ref\": \"#/definitions/missing\"}",
         "schema (root): cannot resolve $ref \"#/definitions/missing\""},
        {"{\"anyOf\": []}", "schema /anyOf: must be a non-empty array of schemas"},
        {"{\"properties\": {\"a\": 3}}", "schema /properties/a: a schema must be an object or a "
                                         "boolean"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *err = compile_error(cases[i].schema);
        cr_expect_not_null(err, "%s compiled", cases[i].schema);
        if (err)
            cr_expect_str_eq(err, cases[i].error);
    }
    const char *err = compile_error("{\"pattern\": \"a(\"}");
    cr_assert_not_null(err);
    cr_expect(strstr(err, "schema /pattern: bad pattern at offset 2") == err, "%s", err);
}

Test(json_schema, a_member_named_by_a_ref_is_a_subschema_not_an_unknown_keyword)
{
    cr_expect_null(
        compile_error("{\"my~defs\": {\"type\": \"integer\"}, \"$ref\": \"#/my~0defs\"}"));
    cr_expect_not_null(compile_error("{\"my~defs\": {\"type\": \"integer\"}}"));
}

Test(schemas, check_tells_too_large_not_json_invalid_and_unknown_topic_apart)
{
    cadence_schemas *set = load_set();
    char err[512];
    json_t *ev = json_true();
    const char *ok = "{\"event_id\":\"e\",\"type\":\"lead_status\",\"occurred_at\":"
                     "\"2026-01-01T00:00:00Z\",\"lead_id\":\"l\",\"from\":\"new\",\"to\":"
                     "\"active\",\"reason\":\"enrolled\"}";
    cr_expect_eq(
        cadence_schemas_check(set, "lead-status.v1", ok, strlen(ok), 1024, &ev, err, sizeof(err)),
        CADENCE_SCHEMA_OK, "%s", err);
    cr_expect(json_is_object(ev));
    json_decref(ev);
    cr_expect_eq(
        cadence_schemas_check(set, "lead-status.v1", ok, strlen(ok), 10, &ev, err, sizeof(err)),
        CADENCE_SCHEMA_TOO_LARGE);
    cr_expect_null(ev);
    char want[128];
    snprintf(want, sizeof(want), "event of %zu bytes is larger than the limit of 10", strlen(ok));
    cr_expect_str_eq(err, want);
    const char *dup = "{\"event_id\":\"a\",\"event_id\":\"b\"}";
    cr_expect_eq(cadence_schemas_check(set, "lead-status.v1", dup, strlen(dup), 1024, NULL, err,
                                       sizeof(err)),
                 CADENCE_SCHEMA_NOT_JSON);
    cr_expect(strstr(err, "duplicate object key") != NULL, "%s", err);
    cr_expect_eq(
        cadence_schemas_check(set, "lead-status.v1", "{}", 2, 1024, NULL, err, sizeof(err)),
        CADENCE_SCHEMA_INVALID);
    cr_expect_str_eq(err, "(root): missing required property \"event_id\"");
    cr_expect_eq(cadence_schemas_check(set, "nope.v1", "{}", 2, 1024, NULL, err, sizeof(err)),
                 CADENCE_SCHEMA_UNKNOWN);
    cr_expect_str_eq(err, "no schema for topic \"nope.v1\"");
    cr_expect_str_eq(cadence_schema_status_name(CADENCE_SCHEMA_NOT_JSON), "not_json");
    cadence_schemas_free(set);
}

Test(schemas, loading_a_directory_without_the_schemas_fails_naming_the_file)
{
    char err[512] = "";
    cr_expect_null(cadence_schemas_new("/nonexistent", err, sizeof(err)));
    cr_expect(strstr(err, "/nonexistent/leads.v1.json") == err, "%s", err);
    cadence_schemas_free(NULL);
    cadence_json_schema_free(NULL);
}

Test(json_schema, date_time_follows_rfc3339_strictly)
{
    static const struct {
        const char *text;
        int valid;
    } cases[] = {
        {"2026-11-23T19:15:03Z", 1},      {"2026-11-23t19:15:03.123456z", 1},
        {"2024-02-29T00:00:00+14:00", 1}, {"2026-12-31T23:59:60Z", 1},
        {"2026-12-31T15:59:60-08:00", 1}, {"2026-02-29T00:00:00Z", 0},
        {"1900-02-29T00:00:00Z", 0},      {"2000-02-29T00:00:00Z", 1},
        {"2026-04-31T00:00:00Z", 0},      {"2026-00-10T00:00:00Z", 0},
        {"2026-11-23T24:00:00Z", 0},      {"2026-11-23T23:60:00Z", 0},
        {"2026-11-23T23:59:60+01:00", 0}, {"2026-11-23T12:00:00", 0},
        {"2026-11-23T12:00:00.Z", 0},     {"2026-11-23 12:00:00Z", 0},
        {"2026-11-23T12:00:00+0100", 0},  {"2026-11-23T12:00:00+01:60", 0},
        {"2026-11-23T12:00:00+24:00", 0}, {"２026-11-23T12:00:00Z", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cr_expect_eq(cadence_json_schema_is_date_time(cases[i].text, strlen(cases[i].text)),
                     cases[i].valid, "%s", cases[i].text);
}

Test(json_schema, max_length_counts_code_points_not_bytes)
{
    json_t *doc = json_pack("{s:i}", "maxLength", 2);
    char err[256];
    cadence_json_schema *s = cadence_json_schema_new(doc, NULL, 0, err, sizeof(err));
    cr_assert_not_null(s, "%s", err);
    json_t *two = json_string("é😀"), *three = json_string("éé😀");
    cr_expect_eq(cadence_json_schema_validate(s, two, err, sizeof(err)), 0, "%s", err);
    cr_expect_eq(cadence_json_schema_validate(s, three, err, sizeof(err)), -1);
    cr_expect_str_eq(err, "(root): is 3 characters long, longer than the maximum 2");
    json_decref(two);
    json_decref(three);
    json_decref(doc);
    cadence_json_schema_free(s);
}

Test(json_schema, one_of_says_how_many_alternatives_matched)
{
    json_t *doc = json_loads("{\"oneOf\": [{\"type\": \"integer\"}, {\"minimum\": 2}]}", 0, NULL);
    char err[512];
    cadence_json_schema *s = cadence_json_schema_new(doc, NULL, 0, err, sizeof(err));
    cr_assert_not_null(s, "%s", err);
    json_t *both = json_integer(3), *neither = json_real(1.5);
    cr_expect_eq(cadence_json_schema_validate(s, both, err, sizeof(err)), -1);
    cr_expect_str_eq(err, "(root): matches 2 alternatives, but exactly one is allowed (oneOf)");
    cr_expect_eq(cadence_json_schema_validate(s, neither, err, sizeof(err)), -1);
    cr_expect_str_eq(err, "(root): matches none of the alternatives (oneOf): [0] expected "
                          "integer, got number; [1] 1.5 is less than the minimum 2");
    json_decref(both);
    json_decref(neither);
    json_decref(doc);
    cadence_json_schema_free(s);
}

Test(json_schema, compares_integers_and_reals_exactly_near_int64_limits)
{
    json_t *doc = json_loads("{\"maximum\": 9223372036854775807, \"minimum\": 1}", 0, NULL);
    char err[256];
    cadence_json_schema *s = cadence_json_schema_new(doc, NULL, 0, err, sizeof(err));
    cr_assert_not_null(s, "%s", err);
    json_t *two63 = json_real(9223372036854775808.0), *max = json_integer(9223372036854775807LL);
    json_t *below = json_real(0.999999), *one = json_real(1.0);
    cr_expect_eq(cadence_json_schema_validate(s, two63, err, sizeof(err)), -1);
    cr_expect_str_eq(err, "(root): 9.223372036854776e+18 is greater than the maximum "
                          "9223372036854775807");
    cr_expect_eq(cadence_json_schema_validate(s, max, err, sizeof(err)), 0, "%s", err);
    cr_expect_eq(cadence_json_schema_validate(s, below, err, sizeof(err)), -1);
    cr_expect_eq(cadence_json_schema_validate(s, one, err, sizeof(err)), 0, "%s", err);
    json_decref(two63);
    json_decref(max);
    json_decref(below);
    json_decref(one);
    json_decref(doc);
    cadence_json_schema_free(s);
}
