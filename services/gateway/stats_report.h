/*
 * stats_report — the managers' numbers from the stored daily counters: a pure fold of
 * (day, rep, counter, value) cells into the GET /v1/stats answer. No I/O: the route
 * (stats.c) reads the cells (store/stats.h) and hands them here, the tests feed cells directly.
 *
 * Definitions (the counters are engine/engine.h's):
 *   connect_rate             connects / dials (every dial is an attempt, connects are dials)
 *   callbacks_per_voicemail  callbacks_received / voicemails_left
 *   attempts_before_first_contact  attempts_before_first_contact / first_contacts
 *   follow_ups_per_won_deal  follow_ups_to_close / won_deals
 *   by_step rows             attempts, connects, wins of (cadence, step, lead_type);
 *                            connect_rate = connects / attempts, win_rate = wins / attempts
 * A ratio with nothing to divide by is null (the console shows "—"). Each count is summed over
 * the days of the range, so a win counts in the range of the day it was won.
 */
#ifndef CADENCE_GATEWAY_STATS_REPORT_H
#define CADENCE_GATEWAY_STATS_REPORT_H

#include <stddef.h>

#include <jansson.h>

typedef struct gw_stats_report gw_stats_report;

/* A report over `n_days` ≥ 1 days starting `from` ("YYYY-MM-DD", valid; the day labels are
 * computed from it), for `rep` (NULL: the team). Never NULL (aborts on no memory). */
gw_stats_report *gw_stats_report_new(const char *from, size_t n_days, const char *rep);

/* Frees the report; NULL is a no-op. */
void gw_stats_report_free(gw_stats_report *r);

/* Adds one stored counter: `day` is its index in the range (ignored when out of it). */
void gw_stats_report_add(gw_stats_report *r, size_t day, const char *rep, size_t rep_len,
                         const char *counter, size_t counter_len, long long value);

/* The answer: {"from", "to", "rep", "days", "day_basis", "measures", "by_day", "by_step",
 * "by_lead_type", "by_rep", "totals"}. Returns a new reference. */
json_t *gw_stats_report_json(const gw_stats_report *r);

#endif
