/*
 * simulate — `cadence simulate [--playbook FILE] [FILE]`: a preview for managers.
 *
 * Reads JSON events (one per line, any input topic, recognised by `type`; stdin by default),
 * runs them through the engine exactly as the worker does — state kept as JSON text between
 * events, visits carrying only an email resolved through the email index — in the given order,
 * from empty state, and prints, per event, one JSON line {"topic": ..., "value": {...}} for
 * everything it did (see usage() below for the list). The engine's "now" is the newest
 * occurred_at read so far, as if the history arrived in the order given.
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

static const char usage_text[] =
    "usage: cadence simulate [--playbook FILE] [FILE]\n"
    "\n"
    "Runs a history of events through the engine, in the order given, from empty state, and\n"
    "prints everything each event did. The playbook is FILE, else $CADENCE_PLAYBOOK, else the\n"
    "shipped examples/playbook.json.\n"
    "\n"
    "Input (FILE or stdin): one JSON event per line, as on the input topics, recognised by\n"
    "`type`: \"lead\" (leads.v1), \"site_visit\" (site-visits.v1; `email` instead of\n"
    "`lead_id` is resolved to the lead with that email), \"call_outcome\" (call-outcomes.v1).\n"
    "Blank lines are skipped; a bad line is reported on stderr with its number (exit 1) and\n"
    "the rest still runs. \"Now\" is the newest occurred_at read so far.\n"
    "\n"
    "Output: one JSON line {\"topic\": T, \"value\": V} per item, for each event in turn:\n"
    "  event            V = {at, event_id, event, status (after), notes[]}: what was decided\n"
    "  lead-status.v1   a status change (from, to, reason)\n"
    "  alerts.v1        a call-now alert, or an update of one (same alert_id, revision > 1)\n"
    "  touches-due.v1   a task issued (in production the scheduler publishes it when due)\n"
    "  touch-cancelled  V = {task_id, lead_id, event_id}: a task withdrawn or replaced\n"
    "  counters         V = {event_id, lead_id, day, deltas: {name: +n}}: the counters it moved\n"
    "                   (day: the lead's local date they count on)\n"
    "\n"
    "Example: cadence simulate examples/history.jsonl\n";

static int usage(FILE *out, int status)
{
    fputs(usage_text, out);
    return status;
}

int cadence_cli_simulate(int argc, char **argv)
{
    const char *pb_path = getenv("CADENCE_PLAYBOOK");
    const char *in_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return usage(stdout, 0);
        if (strcmp(argv[i], "--playbook") == 0 && i + 1 < argc)
            pb_path = argv[++i];
        else if (argv[i][0] != '-' && !in_path)
            in_path = argv[i];
        else
            return usage(stderr, 2); /* an unknown option, a second file */
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
    int64_t now = 0;
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
        if (ev->occurred_at > now)
            now = ev->occurred_at;
        ev->received_at = now;
        cadence_engine_status rc = cadence_engine_apply(text ? cur : NULL, ev, pb, tz, next, &outs);
        if (rc == CADENCE_ENGINE_ERROR) {
            fprintf(stderr, "cadence simulate: line %d: the engine refused the event\n", lineno);
            status = 1;
        } else if (rc == CADENCE_ENGINE_DUPLICATE) {
            json_t *dup = json_pack("{s:s,s:s,s:[s]}", "event_id", ev->event_id, "event",
                                    "duplicate", "notes",
                                    "already applied (same event_id, or the same task_id and "
                                    "disposition): nothing changed");
            print_line("event", dup);
            json_decref(dup);
        } else if (rc == CADENCE_ENGINE_OK) {
            print_line("event", outs.timeline);
            for (size_t i = 0; i < outs.n_messages; i++)
                print_line(outs.messages[i].topic, outs.messages[i].value);
            if (outs.cancelled_task_id[0]) {
                json_t *c = json_pack("{s:s,s:s,s:s}", "task_id", outs.cancelled_task_id, "lead_id",
                                      ev->lead_id, "event_id", ev->event_id);
                print_line("touch-cancelled", c);
                json_decref(c);
            }
            if (outs.touch_action == CADENCE_TOUCH_SET)
                print_line(CADENCE_TOPIC_TOUCHES_DUE, outs.touch);
            if (outs.n_counters) {
                json_t *d = json_object();
                for (size_t i = 0; i < outs.n_counters; i++) /* summed over reps */
                    json_object_set_new(
                        d, outs.counters[i].name,
                        json_integer(json_integer_value(json_object_get(d, outs.counters[i].name)) +
                                     outs.counters[i].delta));
                json_t *c = json_pack("{s:s,s:s,s:s,s:o}", "event_id", ev->event_id, "lead_id",
                                      ev->lead_id, "day", outs.stats_day, "deltas", d);
                print_line("counters", c);
                json_decref(c);
            }
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
