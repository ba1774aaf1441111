/*
 * playbook — `cadence playbook check FILE`: validates a playbook (the engine's semantic
 * checks) and prints its rules and cadences in words, for the people who edit it, then its
 * warnings (e.g. a cadence that can leave more voicemails than there are scripts).
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "schema/playbook_file.h"

int cadence_cli_playbook(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "check") != 0) {
        fprintf(stderr, "usage: cadence playbook check FILE\n"
                        "  validates the playbook and prints its cadences in words\n");
        return 2;
    }
    char err[512];
    cadence_playbook *pb =
        cadence_playbook_load(argv[2], cadence_cli_schemas_dir(), err, sizeof err);
    if (!pb) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("%s: ok\n", argv[2]);
    cadence_playbook_describe(pb, stdout);
    GString *w = g_string_new("");
    cadence_playbook_warnings(pb, w); /* warnings do not fail the check */
    fputs(w->str, stdout);
    g_string_free(w, TRUE);
    cadence_playbook_free(pb);
    return 0;
}
