/*
 * playbook_file — reading the sales playbook from its JSON file: parse, validate against
 * schemas/playbook.json, then hand the document to the pure engine's checks
 * (cadence_playbook_load_json). Kept out of common/engine/ so the engine does no I/O.
 */
#ifndef CADENCE_SCHEMA_PLAYBOOK_FILE_H
#define CADENCE_SCHEMA_PLAYBOOK_FILE_H

#include <stddef.h>

#include "engine/playbook.h"

/*
 * Loads and checks the playbook at `path`: first against `schemas_dir`/playbook.json (JSON
 * Schema; skipped when `schemas_dir` is NULL), then the checks the schema cannot express.
 * Returns a new playbook (free with cadence_playbook_free), or NULL with `errstr` naming the
 * field and the problem.
 */
cadence_playbook *cadence_playbook_load(const char *path, const char *schemas_dir, char *errstr,
                                        size_t errstr_size);

#endif
