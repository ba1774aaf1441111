/*
 * cadence validate — check events or a playbook against the schemas, from a shell.
 *
 *   cadence validate <topic> [FILE]     one JSON event per line (stdin by default)
 *   cadence validate playbook [FILE]    one JSON document (pretty-printed over many lines)
 *
 * One verdict per event on stdout: `ok` or the validator's message, exactly what the worker
 * would dead-letter. Exit status 0 when everything is valid, 1 if anything is not, 2 on a usage
 * or configuration error. The schemas come from CADENCE_SCHEMAS_DIR (or the shipped ones), so
 * this is also how a producer checks its events before sending them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/config.h"
#include "schema/schemas.h"
#include "base/topics.h"

/* Largest whole document (playbook) read in document mode. */
#define DOCUMENT_MAX_BYTES ((size_t)16 * 1024 * 1024)
#define VERDICT_MAX 2048

/* Names validated as one whole document rather than one event per line. */
static const char *const documents[] = {"playbook"};

static void usage(FILE *out)
{
    size_t n;
    const cadence_topic *topics = cadence_topics_all(&n);
    fprintf(out, "usage: cadence validate <topic>|playbook [FILE]\n\n"
                 "Validates JSON events, one per line (stdin without FILE), against\n"
                 "$CADENCE_SCHEMAS_DIR/<topic>.json and prints `ok` or the error for each;\n"
                 "for `playbook`, FILE is one JSON document. Exit status: 0 all valid, 1 some\n"
                 "invalid, 2 usage error.\n\ntopics:");
    for (size_t i = 0; i < n; i++)
        fprintf(out, " %s", topics[i].name);
    fprintf(out, "\n");
}

static int is_document(const char *name)
{
    for (size_t i = 0; i < sizeof(documents) / sizeof(documents[0]); i++)
        if (strcmp(documents[i], name) == 0)
            return 1;
    return 0;
}

/* Prints the verdict on `len` bytes; returns 1 when they are invalid, 0 when valid. */
static int verdict(const cadence_json_schema *schema, const char *bytes, size_t len,
                   size_t max_bytes)
{
    char err[VERDICT_MAX];
    if (cadence_schema_check(schema, bytes, len, max_bytes, NULL, err, sizeof(err)) ==
        CADENCE_SCHEMA_OK) {
        puts("ok");
        return 0;
    }
    /* One verdict per line: a control character from the event (in a property name) is
     * shown escaped. */
    for (const char *c = err; *c; c++)
        if ((unsigned char)*c < 0x20)
            printf("\\x%02x", (unsigned char)*c);
        else
            putchar(*c);
    putchar('\n');
    return 1;
}

static int validate_lines(const cadence_json_schema *schema, FILE *in, size_t max_bytes)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int bad = 0;
    while ((n = getline(&line, &cap, in)) >= 0) {
        size_t len = (size_t)n;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        bad |= verdict(schema, line, len, max_bytes);
    }
    free(line);
    return bad;
}

static int validate_document(const cadence_json_schema *schema, FILE *in)
{
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - len, in);
        if (len < cap || cap > DOCUMENT_MAX_BYTES)
            break;
        char *bigger = realloc(buf, cap * 2);
        if (!bigger)
            free(buf);
        buf = bigger;
        cap *= 2;
    }
    if (!buf) {
        fprintf(stderr, "cadence validate: out of memory\n");
        return 2;
    }
    int bad = verdict(schema, buf, len, DOCUMENT_MAX_BYTES);
    free(buf);
    return bad;
}

static int run(const char *name, const char *file, const cadence_config *cfg)
{
    char err[1024], path[4096];
    snprintf(path, sizeof(path), "%s/%s.json", cfg->schemas_dir, name);
    cadence_json_schema *schema = cadence_schema_load_file(path, err, sizeof(err));
    if (!schema) {
        fprintf(stderr, "cadence validate: %s\n", err);
        return 2;
    }
    FILE *in = file ? fopen(file, "r") : stdin;
    int rc = 2;
    if (!in)
        fprintf(stderr, "cadence validate: cannot open %s: %s\n", file, strerror(errno));
    else if (is_document(name))
        rc = validate_document(schema, in);
    else
        rc = validate_lines(schema, in, (size_t)cfg->max_body_bytes);
    if (in && in != stdin)
        fclose(in);
    cadence_json_schema_free(schema);
    return rc;
}

int cadence_cli_validate(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc < 2 || argc > 3) {
        usage(stderr);
        return 2;
    }
    if (!cadence_topic_find(argv[1]) && !is_document(argv[1])) {
        fprintf(stderr, "cadence validate: unknown topic \"%s\"\n", argv[1]);
        usage(stderr);
        return 2;
    }
    cadence_config cfg = {0};
    char err[512];
    if (cadence_config_load(&cfg, "cli", err, sizeof(err)) != 0) {
        fprintf(stderr, "cadence validate: %s\n", err);
        return 2;
    }
    int rc = run(argv[1], argc == 3 ? argv[2] : NULL, &cfg);
    cadence_config_free(&cfg);
    return rc;
}
