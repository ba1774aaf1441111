/*
 * cli — the subcommands of `cadence`. Each takes (argc, argv) with argv[0] the subcommand's
 * name and returns the process exit status (0 ok, 1 a negative verdict such as an invalid
 * event, 2 a usage or configuration error).
 */
#ifndef CADENCE_CLI_H
#define CADENCE_CLI_H

int cadence_cli_playbook(int argc, char **argv); /* playbook.c: `playbook check FILE` */
int cadence_cli_simulate(int argc, char **argv); /* simulate.c: events in, outputs out */
int cadence_cli_token(int argc, char **argv);    /* token.c: `token add --role R [--rep ID]` */
int cadence_cli_validate(int argc, char **argv);
int cadence_cli_version(int argc, char **argv);

/* CADENCE_SCHEMAS_DIR, or the shipped schemas/ (borrowed string). */
const char *cadence_cli_schemas_dir(void);

#endif
