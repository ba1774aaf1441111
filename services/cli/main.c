/*
 * cadence — the command-line tool for people and scripts.
 *
 * Subcommands live in their own files (validate.c, simulate.c, ...) and are listed in the
 * table below; `cadence help` prints the table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand's name */
    const char *summary;
} commands[] = {
    /* subcommands: one row each, in alphabetical order */
    {"playbook", cadence_cli_playbook, "check a playbook and print its cadences in words"},
    {"simulate", cadence_cli_simulate, "run events through the engine, print its outputs"},
    {"token", cadence_cli_token, "make a gateway token and append its hash to CADENCE_TOKENS_FILE"},
    {"validate", cadence_cli_validate, "validate events or a playbook against the schemas"},
    {"version", cadence_cli_version, "print the version"},
};

const char *cadence_cli_schemas_dir(void)
{
    const char *dir = getenv("CADENCE_SCHEMAS_DIR");
    return dir && *dir ? dir : CADENCE_DATA_DIR "/schemas";
}

int cadence_cli_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("cadence %s\n", CADENCE_VERSION);
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: cadence <command> [args]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n`cadence <command> --help` describes a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "cadence: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
