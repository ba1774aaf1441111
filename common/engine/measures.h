/*
 * measures — what an outcome counts as in the managers' numbers, in one table.
 *
 * The seeds measure a rep's work by dials, conversations ("connects"), voicemails left and
 * meetings booked, and a cadence by attempts and connects per step. The rules, so that the
 * rates are honest (a connect rate can never pass 100 %):
 *   - every call-channel outcome the rep's own dial produced is a *dial* — connected ones
 *     too; a callback (the prospect rang) and the email/social dispositions are not dials;
 *   - a dial that reached the prospect is a *connect*: connected, not_interested (a "no" is a
 *     conversation), meeting_booked, closed_won, closed_lost;
 *   - no_answer, voicemail_left, gatekeeper, wrong_number and do_not_call are dials that
 *     reached nobody who could buy.
 * Pure data: no I/O, no state.
 */
#ifndef CADENCE_ENGINE_MEASURES_H
#define CADENCE_ENGINE_MEASURES_H

#include "engine/event.h"

typedef enum cadence_dial_kind {
    CADENCE_DIAL_NONE = 0, /* not a dial (another channel, a callback, an email status) */
    CADENCE_DIAL_MISSED,   /* a dial that reached nobody who could buy */
    CADENCE_DIAL_CONNECT,  /* a dial that reached the prospect */
} cadence_dial_kind;

/* What an outcome of `disposition` on `channel` is as a dial. */
cadence_dial_kind cadence_measures_dial(cadence_disposition disposition, cadence_channel channel);

#endif
