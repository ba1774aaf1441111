/*
 * engine_harness — shared helpers for the engine tests: one lead, the worker's loop in
 * miniature (state round-tripped through its JSON text between events, as in Redis).
 */
#ifndef CADENCE_TEST_ENGINE_HARNESS_H
#define CADENCE_TEST_ENGINE_HARNESS_H

#include <criterion/criterion.h>
#include <glib.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "base/topics.h"

typedef struct harness {
    cadence_playbook *pb;
    cadence_tzcache *tz;
    char *state_text;      /* NULL: no state yet */
    json_t *touch;         /* the open touch (NULL none) */
    json_t *touches;       /* every touch scheduled, in order */
    json_t *messages;      /* every alerts/lead-status message: {"topic","value"} */
    json_t *counters;      /* name -> total */
    json_t *cells;         /* "<stats_day> <rep> <name>" -> total */
    cadence_lead_state st; /* the state after the last event */
    int last_rc;
} harness;

static inline cadence_playbook *harness_playbook(const char *patch_json)
{
    char err[512];
    json_t *doc = json_load_file(CADENCE_DATA_DIR "/examples/playbook.json", 0, NULL);
    cr_assert(doc);
    if (patch_json) {
        json_t *patch = json_loads(patch_json, 0, NULL);
        cr_assert(patch, "bad patch %s", patch_json);
        json_object_update(doc, patch);
        json_decref(patch);
    }
    cadence_playbook *pb = cadence_playbook_load_json(doc, err, sizeof err);
    json_decref(doc);
    cr_assert(pb, "%s", err);
    return pb;
}

static inline void harness_init(harness *h, const char *patch_json)
{
    memset(h, 0, sizeof *h);
    h->pb = harness_playbook(patch_json);
    h->tz = cadence_tzcache_new();
    h->touches = json_array();
    h->messages = json_array();
    h->counters = json_object();
    h->cells = json_object();
}

static inline void harness_fini(harness *h)
{
    free(h->state_text);
    json_decref(h->touch);
    json_decref(h->touches);
    json_decref(h->messages);
    json_decref(h->counters);
    json_decref(h->cells);
    cadence_tzcache_free(h->tz);
    cadence_playbook_free(h->pb);
}

/* Applies one event given as JSON text; returns the engine's status. */
static inline int harness_feed_json(harness *h, const char *text)
{
    char err[512];
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    cr_assert(doc, "bad test JSON: %s: %s", jerr.text, text);
    cadence_event *ev = g_new(cadence_event, 1);
    cr_assert_eq(cadence_event_from_json(doc, ev, err, sizeof err), 0, "%s", err);
    json_decref(doc);
    cadence_lead_state *in = g_new(cadence_lead_state, 1);
    if (h->state_text)
        cr_assert_eq(cadence_lead_state_from_json(h->state_text, in, err, sizeof err), 0, "%s",
                     err);
    cadence_outputs outs;
    cadence_outputs_init(&outs);
    int rc = cadence_engine_apply(h->state_text ? in : NULL, ev, h->pb, h->tz, &h->st, &outs);
    h->last_rc = rc;
    if (rc == CADENCE_ENGINE_OK) {
        for (size_t i = 0; i < outs.n_messages; i++)
            json_array_append_new(h->messages,
                                  json_pack("{s:s,s:O}", "topic", outs.messages[i].topic, "value",
                                            outs.messages[i].value));
        for (size_t i = 0; i < outs.n_counters; i++) {
            json_int_t v = json_integer_value(json_object_get(h->counters, outs.counters[i].name));
            json_object_set_new(h->counters, outs.counters[i].name,
                                json_integer(v + outs.counters[i].delta));
            char *cell = g_strdup_printf("%s %s %s", outs.stats_day, outs.counters[i].rep,
                                         outs.counters[i].name);
            v = json_integer_value(json_object_get(h->cells, cell));
            json_object_set_new(h->cells, cell, json_integer(v + outs.counters[i].delta));
            g_free(cell);
        }
        if (outs.touch_action == CADENCE_TOUCH_SET) {
            json_decref(h->touch);
            h->touch = json_incref(outs.touch);
            json_array_append(h->touches, outs.touch);
        } else if (outs.touch_action == CADENCE_TOUCH_CANCEL) {
            json_decref(h->touch);
            h->touch = NULL;
        }
        cr_assert(outs.timeline);
        free(h->state_text);
        h->state_text = cadence_lead_state_to_json(&h->st);
    }
    cadence_outputs_reset(&outs);
    g_free(in);
    g_free(ev);
    return rc;
}

static inline int harness_feed(harness *h, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static inline int harness_feed(harness *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    int rc = harness_feed_json(h, text);
    g_free(text);
    return rc;
}

/* A lead event for lead L1. */
static inline void harness_lead(harness *h, const char *id, const char *at, const char *type,
                                int potential, const char *tz)
{
    harness_feed(h,
                 "{\"type\":\"lead\",\"event_id\":\"%s\",\"occurred_at\":\"%s\",\"lead_id\":"
                 "\"L1\",\"rep_id\":\"r1\",\"lead_type\":\"%s\",\"potential\":%d,"
                 "\"first_name\":\"Ana\",\"company\":\"Acme\",\"email\":\"ana@acme.test\","
                 "\"timezone\":\"%s\"}",
                 id, at, type, potential, tz);
}

/* A call outcome for lead L1. */
static inline void harness_outcome(harness *h, const char *id, const char *at, const char *disp)
{
    harness_feed(h,
                 "{\"type\":\"call_outcome\",\"event_id\":\"%s\",\"occurred_at\":\"%s\","
                 "\"lead_id\":\"L1\",\"rep_id\":\"r1\",\"channel\":\"call\","
                 "\"disposition\":\"%s\"}",
                 id, at, disp);
}

static inline void harness_visit(harness *h, const char *id, const char *at, const char *url)
{
    harness_feed(h,
                 "{\"type\":\"site_visit\",\"event_id\":\"%s\",\"occurred_at\":\"%s\","
                 "\"lead_id\":\"L1\",\"url\":\"%s\"}",
                 id, at, url);
}

static inline const char *touch_str(const harness *h, const char *key)
{
    cr_assert(h->touch, "no open touch (wanted %s)", key);
    return json_string_value(json_object_get(h->touch, key));
}

static inline json_int_t counter(const harness *h, const char *name)
{
    return json_integer_value(json_object_get(h->counters, name));
}

/* A counter of one rep on one local day ("YYYY-MM-DD"). */
static inline json_int_t cell(const harness *h, const char *day, const char *rep, const char *name)
{
    char *key = g_strdup_printf("%s %s %s", day, rep, name);
    json_int_t v = json_integer_value(json_object_get(h->cells, key));
    g_free(key);
    return v;
}

/* Number of messages on `topic` whose value has `field` == `value` (NULL: any). */
static inline int messages_with(const harness *h, const char *topic, const char *field,
                                const char *value)
{
    int n = 0;
    size_t i;
    json_t *m;
    json_array_foreach(h->messages, i, m)
    {
        if (strcmp(json_string_value(json_object_get(m, "topic")), topic) != 0)
            continue;
        const char *v =
            field ? json_string_value(json_object_get(json_object_get(m, "value"), field)) : NULL;
        if (!field || (v && strcmp(v, value) == 0))
            n++;
    }
    return n;
}

/* 1 when the open touch has a `moved` entry with `reason`. */
static inline int touch_moved(const harness *h, const char *reason)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(h->touch, "moved"), i, m)
    {
        if (strcmp(json_string_value(json_object_get(m, "reason")), reason) == 0)
            return 1;
    }
    return 0;
}

static inline int touch_warned(const harness *h, const char *code)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(h->touch, "warnings"), i, m)
    {
        if (strcmp(json_string_value(json_object_get(m, "code")), code) == 0)
            return 1;
    }
    return 0;
}

#endif
