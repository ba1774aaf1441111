/*
 * json_text — writing JSON text directly, for the few hot paths where building a jansson
 * value only to dump it costs more than the work itself (the lead state, the worker's outbox).
 * Reading JSON stays with jansson.
 */
#ifndef CADENCE_JSON_TEXT_H
#define CADENCE_JSON_TEXT_H

#include <glib.h>

/*
 * Appends `s` to `out` as a JSON string: quoted, with '"', '\\' and control characters escaped
 * as RFC 8259 requires and as jansson writes them (UTF-8 kept as is, \u00XX in upper case).
 * Returns 0, or -1 without appending anything when `s` is not valid UTF-8 (jansson's
 * json_string() refuses such text too).
 */
int cadence_json_text_string(GString *out, const char *s);

/* Hands over the text of `out` in malloc'd memory (free() it) and frees `out`. NULL when out
 * of memory. */
char *cadence_json_text_steal(GString *out);

#endif
