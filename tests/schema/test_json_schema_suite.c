/*
 * The official JSON-Schema-Test-Suite (Debian's json-schema-test-suite) against json_schema.c:
 * every case of the draft7 file of every keyword we support, whole files. The draft-07
 * metaschema, which some `$ref` cases name by URL, comes from python3-jsonschema's copy.
 */
#include <criterion/criterion.h>

#include <stdio.h>

#include "schema/json_schema.h"

#define SUITE_DIR "/usr/share/json-schema-test-suite/tests/draft7/"
#define METASCHEMA "/usr/lib/python3/dist-packages/jsonschema/schemas/draft7.json"

static const char *const files[] = {
    "type.json",
    "enum.json",
    "const.json",
    "required.json",
    "properties.json",
    "patternProperties.json",
    "additionalProperties.json",
    "propertyNames.json",
    "items.json",
    "additionalItems.json",
    "minItems.json",
    "maxItems.json",
    "uniqueItems.json",
    "minLength.json",
    "maxLength.json",
    "pattern.json",
    "minimum.json",
    "maximum.json",
    "exclusiveMinimum.json",
    "exclusiveMaximum.json",
    "anyOf.json",
    "oneOf.json",
    "allOf.json",
    "ref.json",
    "definitions.json",
    "boolean_schema.json",
    "default.json",
    "optional/format/date-time.json",
};

/* Runs every case of one file; returns how many ran. Failures are Criterion expectations. */
static size_t run_file(const char *file, json_t *meta)
{
    char path[512];
    snprintf(path, sizeof(path), SUITE_DIR "%s", file);
    json_error_t jerr;
    json_t *groups = json_load_file(path, 0, &jerr);
    cr_assert_not_null(groups, "%s: %s", path, jerr.text);
    size_t ran = 0, gi;
    json_t *group;
    json_array_foreach(groups, gi, group)
    {
        const char *gdesc = json_string_value(json_object_get(group, "description"));
        char err[1024] = "";
        cadence_json_schema *s =
            cadence_json_schema_new(json_object_get(group, "schema"), &meta, 1, err, sizeof(err));
        cr_expect_not_null(s, "%s / %s: schema refused: %s", file, gdesc, err);
        size_t ti;
        json_t *t;
        json_array_foreach(json_object_get(group, "tests"), ti, t)
        {
            ran++;
            if (!s)
                continue;
            int want = json_is_true(json_object_get(t, "valid"));
            err[0] = '\0';
            int got =
                cadence_json_schema_validate(s, json_object_get(t, "data"), err, sizeof(err)) == 0;
            cr_expect_eq(got, want, "%s / %s / %s: expected %s, got %s (%s)", file, gdesc,
                         json_string_value(json_object_get(t, "description")),
                         want ? "valid" : "invalid", got ? "valid" : "invalid", err);
            if (!got)
                cr_expect(err[0] != '\0', "%s / %s: an invalid verdict must say why", file, gdesc);
        }
        cadence_json_schema_free(s);
    }
    json_decref(groups);
    return ran;
}

Test(json_schema_suite, passes_every_case_of_every_supported_keyword_file)
{
    json_error_t jerr;
    json_t *meta = json_load_file(METASCHEMA, 0, &jerr);
    cr_assert_not_null(meta, "draft-07 metaschema %s: %s", METASCHEMA, jerr.text);
    size_t total = 0;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        size_t ran = run_file(files[i], meta);
        cr_expect_gt(ran, 0, "%s ran no case", files[i]);
        total += ran;
    }
    json_decref(meta);
    fprintf(stderr, "json-schema-test-suite draft7: %zu cases in %zu files\n", total,
            sizeof(files) / sizeof(files[0]));
    cr_expect_gt(total, 300);
}

Test(json_schema_suite, the_metaschema_itself_compiles_and_accepts_itself)
{
    json_error_t jerr;
    json_t *meta = json_load_file(METASCHEMA, 0, &jerr);
    cr_assert_not_null(meta);
    char err[512] = "";
    cadence_json_schema *s = cadence_json_schema_new(meta, NULL, 0, err, sizeof(err));
    cr_assert_not_null(s, "%s", err);
    cr_expect_eq(cadence_json_schema_validate(s, meta, err, sizeof(err)), 0, "%s", err);
    json_t *bad = json_pack("{s:i}", "minLength", -1);
    cr_expect_neq(cadence_json_schema_validate(s, bad, err, sizeof(err)), 0);
    json_decref(bad);
    cadence_json_schema_free(s);
    json_decref(meta);
}
