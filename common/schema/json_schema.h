/*
 * json_schema — a JSON Schema (draft-07) validator over jansson values.
 *
 * cadence validates every input event and tests every output against the schemas in schemas/
 * (schemas/README.md). Validation runs once per event on the hot path, so a schema is compiled
 * once: keywords are checked and turned into a tree of nodes, `pattern`s become PCRE2 codes (JIT
 * compiled when the library supports it), `enum`/`const` stay jansson values, `$ref`s are
 * resolved to nodes. Validating then only walks that tree.
 *
 * Supported keywords: type, enum, const, required, properties, patternProperties,
 * additionalProperties, propertyNames, items (schema and tuple form), additionalItems, minItems,
 * maxItems, uniqueItems, minLength, maxLength (in Unicode code points), pattern (ECMA-262 style,
 * unanchored, run with PCRE2 in UTF mode), minimum, maximum, exclusiveMinimum, exclusiveMaximum,
 * anyOf, oneOf, allOf, $ref (local JSON pointers with ~0/~1 and %-escapes, `$id`-based
 * resolution within the document, and other documents registered by their `$id`), and format
 * (`date-time` is checked strictly as RFC 3339; `uri`, `uri-reference` and `regex`, which the
 * draft-07 metaschema uses, are accepted as annotations). Annotations (description, title,
 * $schema, $id, $comment, default, examples, definitions) are accepted. Any other keyword makes
 * compilation fail naming it, so a typo in a schema cannot silently weaken a contract. (A member
 * that is not a keyword but is the target of a `$ref`, as in `{"$ref": "#/my~0defs"}`, is a
 * subschema location and is allowed.)
 *
 * Errors name the JSON pointer of the offending value and the rule it broke:
 *   /conversation/role: not one of decision_maker, influencer, info_gatherer, end_user
 *   (root): missing required property "lead_id"
 *   /potential: 140 is greater than the maximum 100
 * These texts go to the dead-letter topic and to HTTP 400 responses.
 */
#ifndef CADENCE_JSON_SCHEMA_H
#define CADENCE_JSON_SCHEMA_H

#include <stddef.h>

#include <jansson.h>

typedef struct cadence_json_schema cadence_json_schema;

/*
 * Compiles the schema `doc`. `extra` holds `n_extra` other schema documents (may be NULL when
 * n_extra is 0) that `$ref`s may name by their `$id` (e.g. the draft-07 metaschema). The schema
 * takes its own references to `doc` and `extra`; the caller keeps (and frees) its own.
 * Returns a new schema the caller frees with cadence_json_schema_free(), or NULL with `errstr`
 * saying what is wrong and where (an unsupported keyword is named with its location).
 */
cadence_json_schema *cadence_json_schema_new(json_t *doc, json_t *const *extra, size_t n_extra,
                                             char *errstr, size_t errstr_size);

/* Frees `schema`; NULL is a no-op. */
void cadence_json_schema_free(cadence_json_schema *schema);

/*
 * Validates `instance` (borrowed, not modified) against `schema`. Returns 0 when valid, -1 when
 * not, with `errstr` (may be NULL) receiving "<json pointer>: <rule broken>" for the first
 * error found. A compiled schema is immutable: many threads may validate with it at once.
 * Subschemas nest at most 256 deep during one validation (a guard against `$ref` loops);
 * deeper is reported as invalid. None of cadence's schemas recurses.
 */
int cadence_json_schema_validate(const cadence_json_schema *schema, const json_t *instance,
                                 char *errstr, size_t errstr_size);

/*
 * True (1) when the `len` bytes at `s` are an RFC 3339 date-time (section 5.6): `T`/`Z` in
 * either case, a real calendar day, hour ≤ 23, minute ≤ 59, offset hours ≤ 23, and second 60
 * only as a leap second (23:59:60 in UTC once the offset is applied). 0 otherwise. The `date-time`
 * format; the rule itself is cadence_rfc3339_valid (base/rfc3339.h).
 */
int cadence_json_schema_is_date_time(const char *s, size_t len);

#endif
