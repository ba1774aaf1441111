/*
 * engine — the cadence engine: a function from (state, event, playbook) to (state, outputs).
 *
 * No I/O, no clock reads, no globals: every time comes from the event's `occurred_at` and the
 * playbook, so a replay decides the same and every worker decides alike. The one read of
 * system data is the tz database, through the caller's cadence_tzcache.
 *
 * What the worker does per event:
 *
 *     cadence_event ev;           cadence_event_from_json(doc, &ev, err, sizeof err);
 *     cadence_lead_state in, out; cadence_lead_state_from_json(text, &in, ...)  (if any)
 *     cadence_outputs outs;       cadence_outputs_init(&outs);
 *     cadence_engine_apply(text ? &in : NULL, &ev, pb, tz, &out, &outs);
 *     ... write cadence_lead_state_to_json(&out), outs.messages (Kafka), outs.counters
 *         (HINCRBY), outs.timeline (the lead's history), outs.touch (due set) ...
 *     cadence_outputs_reset(&outs);
 *
 * Rules (the seeds' playbook; each has tests in tests/engine/test_engine_*.c):
 * - A new lead is enrolled in the cadence its lead type and potential choose, or goes straight
 *   to nurture (low potential). A warm new lead raises a `warm_inbound` alert. A repeated lead
 *   event updates fields, never restarts the cadence. `reenroll: true` re-enrols a nurture/lost
 *   lead once the playbook's cool-off after the "no" has passed.
 * - Each step's touch is due `gap_days` after the *actual* previous attempt's local date, in
 *   the step's slot, in the lead's zone (default: the playbook's), on a working day that is not
 *   a holiday, not sooner than the voicemail pause, past an out-of-office return date, under
 *   the daily cap (attempts already made that local day); every push is listed in `moved`
 *   with its reason.
 * - Attempts before the first conversation are FTC #1, #2, …; FTC tasks carry the next unused
 *   voicemail/email pair (never repeated; `scripts_exhausted` warning when none is left).
 * - After the last step: a `re_evaluate` task with the playbook's suggestion.
 * - After `connected`: follow-up mode (objective follow_up, `next_contact_at` honoured, the
 *   opener rendered from the conversation, warnings for non-decision-makers and missing
 *   qualification checks).
 * - Dispositions and alerts as in the README's playbook section and engine.c's disposition table.
 *
 * Order: decisions compare `occurred_at`, never arrival order. Events before the lead event are
 * held in the state (bounded) and folded in, in time order, when it arrives. The state keeps
 * time-stamped facts (sorted attempts, the latest status with its time, the time of the "no"),
 * and marks a status the engine derived itself (a reach-out bringing a resting lead back, the
 * cadence or the follow-ups running out) with the time of the status it came from: a status
 * event dated in between that arrives late is put in its place and the derivation judged
 * again. So any order of the same events converges to the same state and open task
 * (tests/engine/test_engine_property.c: 1000 generated histories × 3 shuffles per playbook).
 * Alerts are the exception, because they cannot be recalled: a trigger (hot view, reach-out)
 * is judged against the stage known when it arrives (a hot_page_active alert may have gone
 * out before an earlier-dated "no" arrives); when the "no" arrives, the remembered views and
 * reach-outs after it are judged again and raise former_no_revisit / former_no_callback —
 * the same alert id as the time-order run — while they are fresh: at most
 * alerts.revisit_freshness_hours older than the lead's newest occurred_at ("now" is the
 * lead's own clock, never the arrival time, so a lagging partition decides as time order
 * would). Touches already published by the scheduler cannot be recalled either; the open
 * touch is cancelled.
 *
 * Replays: the state remembers the last CADENCE_STATE_MAX_EVENT_IDS event ids (as digests,
 * cadence_engine_id_digest); a replayed one returns CADENCE_ENGINE_DUPLICATE with no outputs
 * and the state unchanged.
 */
#ifndef CADENCE_ENGINE_ENGINE_H
#define CADENCE_ENGINE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "engine/event.h"
#include "engine/playbook.h"
#include "engine/state.h"
#include "engine/tzcache.h"

#define CADENCE_OUTPUTS_MAX_MESSAGES 16
#define CADENCE_OUTPUTS_MAX_COUNTERS 48 /* an event and up to 8 held ones folded in */
#define CADENCE_COUNTER_NAME_SIZE 128
#define CADENCE_STATS_DAY_SIZE 11 /* "YYYY-MM-DD" + NUL */

typedef enum cadence_engine_status {
    CADENCE_ENGINE_OK = 0,
    CADENCE_ENGINE_DUPLICATE = 1, /* event_id already applied: nothing changed */
    CADENCE_ENGINE_ERROR = -1,    /* bad arguments (the event belongs to another lead, ...) */
} cadence_engine_status;

typedef struct cadence_output_message {
    const char *topic;         /* CADENCE_TOPIC_ALERTS or CADENCE_TOPIC_LEAD_STATUS */
    char key[CADENCE_ID_SIZE]; /* lead_id */
    json_t *value;             /* owned by the outputs */
} cadence_output_message;

/*
 * Counter deltas: the worker adds `delta` to counter `name` of `rep` on the lead's local day
 * (cadence_outputs.stats_day). `rep` is the rep of the event that made the fact (an outcome's
 * rep_id: who dialled; a lead's rep_id), so a lead handed to another rep keeps its history
 * with the rep who did the work. Names:
 *   leads:<lead_type>                         new leads
 *   enrolled:<cadence>:<lead_type>            leads enrolled in a cadence
 *   nurture:low_potential                     leads sent straight to nurture
 *   dials, connects                           every dial, and the dials that reached the
 *                                             prospect (engine/measures.h: connected ones and
 *                                             a "no" are dials too)
 *   voicemails_left, meetings                 voicemails left; meetings booked
 *   attempts:<cadence>:<step>:<lead_type>     attempts at a cadence step: every dial (connects
 *                                             included) and every non-call step done
 *   connects:<cadence>:<step>:<lead_type>     the connects among them (so connects ≤ attempts
 *                                             in every row)
 *   wins:<cadence>:<step>:<lead_type>         won deals, by the step of the first conversation
 *   first_contacts / attempts_before_first_contact   (ratio = attempts before first contact)
 *   callbacks_received                               (÷ voicemails_left = callbacks per voicemail)
 *   won_deals / follow_ups_to_close                  (ratio = follow-ups per won deal)
 *   alerts:<reason>, alert_updates:<reason>, status:<to>, email_replies, emails_bounced
 * (<step> is the 0-based step index, "follow_up" after the first conversation; <cadence> is
 * "none" for a lead in no cadence.)
 */
typedef struct cadence_counter_delta {
    char name[CADENCE_COUNTER_NAME_SIZE];
    char rep[CADENCE_ID_SIZE]; /* the rep it counts for ("" when none is known) */
    int64_t delta;
} cadence_counter_delta;

typedef enum cadence_touch_action {
    CADENCE_TOUCH_UNCHANGED = 0, /* keep whatever touch is open */
    CADENCE_TOUCH_SET,           /* replace the open touch with `touch` */
    CADENCE_TOUCH_CANCEL,        /* drop the open touch (cancelled_task_id) */
} cadence_touch_action;

typedef struct cadence_outputs {
    cadence_output_message messages[CADENCE_OUTPUTS_MAX_MESSAGES];
    size_t n_messages;
    cadence_counter_delta counters[CADENCE_OUTPUTS_MAX_COUNTERS];
    size_t n_counters;
    /* The local day the counters belong to, "YYYY-MM-DD": the date of the event's occurred_at
     * in the lead's time zone (the playbook's default zone when the lead has none). Events held
     * until their lead arrived are counted on the day of the lead event that folds them in. */
    char stats_day[CADENCE_STATS_DAY_SIZE];
    /* The lead's history entry: {"at", "event_id", "event" ("call_outcome:no_answer"),
     * "status" (after), "notes" (what was decided and why, as short sentences)}. Owned;
     * NULL on a duplicate. */
    json_t *timeline;
    cadence_touch_action touch_action;
    char task_id[CADENCE_ID_SIZE];           /* SET: the new open touch's id */
    int64_t due_at;                          /* SET: Unix ms */
    json_t *touch;                           /* SET: the touches-due.v1 value; owned */
    char cancelled_task_id[CADENCE_ID_SIZE]; /* SET/CANCEL: the touch it replaces ("" none) */
} cadence_outputs;

/* Prepares empty outputs (no allocation). */
void cadence_outputs_init(cadence_outputs *outs);

/* Frees what the outputs own and empties them; they can be reused. */
void cadence_outputs_reset(cadence_outputs *outs);

/*
 * Applies `ev` to the lead whose state is `in` (NULL: the lead has no state yet) and writes
 * the new state to `out` (may alias `in`) and the outputs to `outs` (appended; call
 * cadence_outputs_reset between events). Borrows everything; `tz` caches zones (not
 * thread-safe: one per thread). Site visits must carry a lead_id (the worker resolves an
 * email to a lead first). Returns CADENCE_ENGINE_OK, CADENCE_ENGINE_DUPLICATE (replayed
 * event_id: `out` = `in`, no outputs), or CADENCE_ENGINE_ERROR (ev for another lead, a visit
 * without lead_id).
 */
cadence_engine_status cadence_engine_apply(const cadence_lead_state *in, const cadence_event *ev,
                                           const cadence_playbook *pb, cadence_tzcache *tz,
                                           cadence_lead_state *out, cadence_outputs *outs);

/*
 * A deterministic id for output `kind` ("task", "alert", "status") decided by `event_id` for
 * `lead_id`: "<kind>-<16 hex digits of a 64-bit FNV-1a hash>" (matches the id pattern).
 */
void cadence_engine_id(const char *lead_id, const char *event_id, const char *kind, char *out,
                       size_t out_size);

/*
 * 1 when `ev` is a visit to a page that is not hot: no fact of the cadence. The engine only
 * notes it in the timeline and it does not move the lead's clock (the freshness of triggers),
 * so a worker may acknowledge it without applying it and still decide as the engine does.
 */
int cadence_engine_visit_is_noise(const cadence_playbook *pb, const cadence_event *ev);

/* How the state's ring of recent event ids holds an id: "~" and the first 64 bits of its
 * SHA-256 in base64url (11 characters), NUL-terminated. */
#define CADENCE_ENGINE_ID_DIGEST_SIZE 13
void cadence_engine_id_digest(const char *event_id, char out[CADENCE_ENGINE_ID_DIGEST_SIZE]);

#endif
