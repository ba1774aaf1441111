/*
 * simulate — `cadence simulate [--playbook FILE] [FILE]`: a preview for managers.
 *
 * Reads JSON events (one per line, any input topic, recognised by `type`; stdin by default),
 * runs them through the engine exactly as the worker does — state kept as JSON text between
 * events, visits carrying only an email resolved through the email index — in the given order,
 * from empty state, and prints every output as one JSON line {"topic": ..., "value": {...}}:
 * alerts.v1 and lead-status.v1 messages, and touches-due.v1 for each touch the engine
 * schedules (in production the scheduler publishes it when due).
 */
#include <glib.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/config.h"
#include "engine/engine.h"
#include "schema/playbook_file.h"
#include "base/topics.h"

static void print_line(const char *topic, json_t *value)
{
    json_t *line = json_pack("{s:s,s:O}", "topic", topic, "value", value);
    char *text = json_dumps(line, JSON_COMPACT | JSON_ENSURE_ASCII);
    puts(text);
    free(text);
    json_decref(line);
}

static int usage(void)
{
    fprintf(stderr, "usage: cadence simulate [--playbook FILE] [FILE]\n"
                    "  runs events (JSON lines) through the engine and prints its outputs\n");
    return 2;
}

int cadence_cli_simulate(int argc, char **argv)
{
    const char *pb_path = getenv("CADENCE_PLAYBOOK");
    const char *in_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--playbook") == 0 && i + 1 < argc)
            pb_path = argv[++i];
        else if (argv[i][0] != '-' && !in_path)
            in_path = argv[i];
        else
            return usage(); /* --help, an unknown option, a second file */
    }
    if (!pb_path || !*pb_path)
        pb_path = CADENCE_DATA_DIR "/examples/playbook.json";
    char err[512];
    cadence_playbook *pb =
        cadence_playbook_load(pb_path, cadence_cli_schemas_dir(), err, sizeof err);
    if (!pb) {
        fprintf(stderr, "cadence simulate: %s\n", err);
        return 2;
    }
    FILE *in = in_path ? fopen(in_path, "r") : stdin;
    if (!in) {
        fprintf(stderr, "cadence simulate: cannot open %s\n", in_path);
        cadence_playbook_free(pb);
        return 2;
    }
    cadence_tzcache *tz = cadence_tzcache_new();
    GHashTable *states = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, free);
    GHashTable *emails = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    cadence_lead_state *cur = g_new(cadence_lead_state, 1);
    cadence_lead_state *next = g_new(cadence_lead_state, 1);
    cadence_event *ev = g_new(cadence_event, 1);
    cadence_outputs outs;
    cadence_outputs_init(&outs);
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, status = 0;
    while (getline(&line, &cap, in) > 0) {
        lineno++;
        if (strspn(line, " \t\r\n") == strlen(line))
            continue;
        json_error_t jerr;
        json_t *doc = json_loads(line, 0, &jerr);
        if (!doc || cadence_event_from_json(doc, ev, err, sizeof err) != 0) {
            fprintf(stderr, "cadence simulate: line %d: %s\n", lineno, doc ? err : jerr.text);
            json_decref(doc);
            status = 1;
            continue;
        }
        json_decref(doc);
        if (!ev->lead_id[0]) {
            const char *lead = g_hash_table_lookup(emails, ev->email);
            if (!lead) {
                fprintf(stderr, "cadence simulate: line %d: no lead has email %s\n", lineno,
                        ev->email);
                continue;
            }
            g_strlcpy(ev->lead_id, lead, sizeof ev->lead_id);
        }
        const char *text = g_hash_table_lookup(states, ev->lead_id);
        if (text && cadence_lead_state_from_json(text, cur, err, sizeof err) != 0) {
            fprintf(stderr, "cadence simulate: line %d: %s\n", lineno, err);
            status = 1;
            continue;
        }
        cadence_engine_status rc = cadence_engine_apply(text ? cur : NULL, ev, pb, tz, next, &outs);
        if (rc == CADENCE_ENGINE_ERROR) {
            fprintf(stderr, "cadence simulate: line %d: the engine refused the event\n", lineno);
            status = 1;
        } else if (rc == CADENCE_ENGINE_OK) {
            for (size_t i = 0; i < outs.n_messages; i++)
                print_line(outs.messages[i].topic, outs.messages[i].value);
            if (outs.touch_action == CADENCE_TOUCH_SET)
                print_line(CADENCE_TOPIC_TOUCHES_DUE, outs.touch);
            g_hash_table_replace(states, g_strdup(ev->lead_id), cadence_lead_state_to_json(next));
            if (next->email[0])
                g_hash_table_replace(emails, g_strdup(next->email), g_strdup(next->lead_id));
        }
        cadence_outputs_reset(&outs);
    }
    free(line);
    if (in != stdin)
        fclose(in);
    g_free(ev);
    g_free(next);
    g_free(cur);
    g_hash_table_destroy(emails);
    g_hash_table_destroy(states);
    cadence_tzcache_free(tz);
    cadence_playbook_free(pb);
    return status;
}
