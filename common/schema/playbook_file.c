/*
 * playbook_file — reading and validating the playbook file (see playbook_file.h).
 */
#include "schema/playbook_file.h"
#include "schema/json_schema.h"
#include "schema/schemas.h"

#include <jansson.h>
#include <stdio.h>

cadence_playbook *cadence_playbook_load(const char *path, const char *schemas_dir, char *errstr,
                                        size_t errstr_size)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        snprintf(errstr, errstr_size, "playbook: %s:%d: %s", path, jerr.line, jerr.text);
        return NULL;
    }
    if (schemas_dir) {
        /* The schema first: its messages name the JSON path of whatever is malformed. */
        char schema_path[4096], why[1024];
        snprintf(schema_path, sizeof(schema_path), "%s/playbook.json", schemas_dir);
        cadence_json_schema *schema = cadence_schema_load_file(schema_path, why, sizeof(why));
        int bad = !schema || cadence_json_schema_validate(schema, doc, why, sizeof(why)) != 0;
        cadence_json_schema_free(schema);
        if (bad) {
            snprintf(errstr, errstr_size, "playbook: %s: %s", path, why);
            json_decref(doc);
            return NULL;
        }
    }
    cadence_playbook *pb = cadence_playbook_load_json(doc, errstr, errstr_size);
    json_decref(doc);
    return pb;
}
