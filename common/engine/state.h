/*
 * state — one lead's cadence state: plain, fixed-size, bounded data.
 *
 * The worker keeps it in Redis as JSON text (cadence_lead_state_to_json / _from_json) with a
 * `format` field (CADENCE_STATE_FORMAT) so the layout can evolve: a reader refuses a newer
 * format rather than guess. Every history is capped (the *_MAX constants below), so a state is
 * a few KB at most whatever a lead does.
 *
 * The state is designed so that decisions are functions of facts keyed by `occurred_at`
 * (latest times, sorted attempt history, time-stamped status), which is what lets the engine
 * converge to the same state whatever order a lead's events arrive in (see engine.h).
 */
#ifndef CADENCE_ENGINE_STATE_H
#define CADENCE_ENGINE_STATE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "engine/event.h"

#define CADENCE_STATE_FORMAT 1
#define CADENCE_STATE_MAX_EVENT_IDS 32 /* recent event ids (replay detection) */
#define CADENCE_STATE_MAX_ATTEMPTS 24  /* attempts remembered (sorted by time) */
#define CADENCE_STATE_MAX_HOT_VIEWS 20 /* hot views in the alert context */
#define CADENCE_STATE_MAX_PENDING 8    /* events held before the lead event arrives */
#define CADENCE_STATE_MAX_ALERTS 8     /* open alerts remembered, one per reason */
#define CADENCE_STATE_MAX_ANSWERED 16  /* (task_id, disposition) pairs already applied */

typedef enum cadence_status {
    CADENCE_STATUS_NEW = 0,
    CADENCE_STATUS_ACTIVE,
    CADENCE_STATUS_FOLLOW_UP,
    CADENCE_STATUS_RE_EVALUATE,
    CADENCE_STATUS_NURTURE,
    CADENCE_STATUS_MEETING_BOOKED,
    CADENCE_STATUS_WON,
    CADENCE_STATUS_LOST,
    CADENCE_STATUS_DO_NOT_CALL,
    CADENCE_STATUS_COUNT
} cadence_status;

typedef struct cadence_attempt {
    int64_t at; /* occurred_at of the outcome, Unix ms */
    int voicemail;
    int follow_up; /* made after the first conversation */
    int call;      /* a call (else an email, LinkedIn, social or delivery step) */
    int talk;      /* a conversation (counts as no FTC attempt) */
} cadence_attempt;

/* The newest alert of one reason: later triggers in its window update it (revision + 1). */
typedef struct cadence_open_alert {
    char reason[32];
    char alert_id[CADENCE_ID_SIZE];
    int64_t window; /* start of the cooldown window (Unix ms, aligned to the cooldown) */
    int revision;
} cadence_open_alert;

typedef struct cadence_hot_view {
    int64_t at; /* occurred_at of the visit */
    int weight;
    char event_id[CADENCE_ID_SIZE]; /* the visit's event id (the alert's trigger) */
    char url[512];
} cadence_hot_view;

typedef struct cadence_lead_state {
    /* times (Unix ms, 0 = never) */
    int64_t lead_at;         /* occurred_at of the newest lead event applied */
    int64_t status_at;       /* occurred_at of the event that set the status */
    int64_t enrolled_at;     /* enrolment in the current cadence */
    int64_t cadence_start;   /* attempts before this time belong to an earlier enrolment */
    int64_t callback_at;     /* latest callback_received / replied needing a follow-up */
    int64_t ooo_until;       /* out of office until */
    int64_t snooze_until;    /* the rep snoozed the open touch until (0 none) */
    int64_t connected_at;    /* first conversation */
    int64_t conversation_at; /* newest conversation taken into the fields below */
    int64_t next_contact_at; /* agreed in the newest conversation */
    int64_t no_at;           /* when the prospect said no */
    int64_t alert_at;        /* occurred_at of the last alert's trigger */
    int64_t open_due_at;     /* the open touch's due time */
    int64_t talk_at;         /* newest conversation (connected), with or without notes */
    int64_t clock;           /* the lead's clock: the newest occurred_at seen */

    cadence_attempt attempts[CADENCE_STATE_MAX_ATTEMPTS]; /* sorted by `at` */

    cadence_status status;
    int has_lead;    /* a lead event has been applied */
    int potential;   /* effective potential (playbook default applied) */
    int reeval_done; /* the re_evaluate task was answered */
    int n_attempts;
    int ftc;                                /* first-time-call attempts so far (all, not capped) */
    int connected_step;                     /* cadence step at the first conversation (-1 none) */
    uint32_t scripts_used;                  /* bit i = script pair i given to this lead */
    int no_email;                           /* an email bounced */
    int follow_ups;                         /* follow-up attempts since the first conversation */
    int qualification, qualification_known; /* CADENCE_QUAL_* bits */
    int n_hot_views;
    int n_event_ids, event_ids_next;
    int n_pending;
    int open_script; /* script pair of the open touch + 1 (0 none) */
    int n_alerts;
    int callback_kind;    /* the newest reach-out: 0 callback, 1 email reply, 2 meeting */
    int reeval_follow_up; /* re_evaluate came from unanswered follow-ups (not the cadence) */
    /* The status was derived by the engine (a reach-out bringing a resting lead back, the
     * cadence or the follow-ups running out), not said by an outcome: a status event dated
     * between derived_from_at (the time of the status it was derived from) and status_at that
     * arrives late is put in its place and the derivation judged again against it. */
    int derived;
    int64_t derived_from_at;
    int n_answered, answered_next;

    char lead_id[CADENCE_ID_SIZE];
    char rep_id[CADENCE_ID_SIZE];
    char lead_type[8];
    char vertical[65], first_name[101], last_name[101], company[201], email[255], phone[33];
    char timezone[65];   /* as given ("" = the playbook's default) */
    char cadence[65];    /* the cadence the lead is enrolled in ("" = none) */
    char problems[1024]; /* rendered: "a, b and c" */
    char next_steps[501];
    char role[16];
    char no_reason[501];
    char alert_id[CADENCE_ID_SIZE];                               /* the last alert */
    char event_ids[CADENCE_STATE_MAX_EVENT_IDS][CADENCE_ID_SIZE]; /* ring of recent ids */
    char open_task_id[CADENCE_ID_SIZE];                           /* the open touch ("" none) */
    /* The touch the last cancel or replacement dropped ("" none): a replay of that event must
     * take it out of its rep's queue again, should the first removal have been lost. */
    char dropped_task_id[CADENCE_ID_SIZE];
    char open_key[160];    /* what the open touch is for and says (re-issued when it changes) */
    char open_channel[16]; /* the open touch's channel ("" none) */
    char country[3];       /* ISO 3166-1 alpha-2 ("" unknown) */
    cadence_open_alert alerts[CADENCE_STATE_MAX_ALERTS];
    char answered[CADENCE_STATE_MAX_ANSWERED][CADENCE_ID_SIZE + 4]; /* "task_id#disposition" */

    /* The two big arrays come last: cadence_lead_state_copy copies only their used part. */
    cadence_hot_view hot_views[CADENCE_STATE_MAX_HOT_VIEWS]; /* by time, newest last */
    cadence_event pending[CADENCE_STATE_MAX_PENDING];        /* before the lead event; by time */
} cadence_lead_state;

/* Resets `st` to the state of a lead nobody has heard of. */
void cadence_lead_state_init(cadence_lead_state *st, const char *lead_id);

/* Copies `src` to `dst` (only the used entries of the big arrays: cheap). */
void cadence_lead_state_copy(cadence_lead_state *dst, const cadence_lead_state *src);

/*
 * The packed form of a state, for keeping many in memory: the fixed part followed by only the
 * used entries of the big arrays (a few KB instead of sizeof(cadence_lead_state)).
 * cadence_lead_state_packed_size tells how many bytes cadence_lead_state_pack writes to `buf`;
 * cadence_lead_state_unpack restores the state from them. Plain bytes: valid in this process only.
 */
size_t cadence_lead_state_packed_size(const cadence_lead_state *st);
void cadence_lead_state_pack(const cadence_lead_state *st, void *buf);
void cadence_lead_state_unpack(const void *buf, cadence_lead_state *st);

/*
 * Parses the JSON text of a state (as written by cadence_lead_state_to_json) into `st`.
 * Returns 0, or -1 with `errstr` set (bad JSON, unknown `format`).
 */
int cadence_lead_state_from_json(const char *text, cadence_lead_state *st, char *errstr,
                                 size_t errstr_size);

/* The state as compact JSON text. Returns a new string, caller frees with free(). */
char *cadence_lead_state_to_json(const cadence_lead_state *st);

/* The state's owning rep and email for the worker's indexes ("" when unknown); borrowed. */
const char *cadence_lead_state_rep_id(const cadence_lead_state *st);
const char *cadence_lead_state_email(const cadence_lead_state *st);
/* The touch the lead's last cancel or replacement dropped ("" none); borrowed. */
const char *cadence_lead_state_dropped_task_id(const cadence_lead_state *st);

/* Status names as in lead-status.v1 ("nurture"); NULL when out of range. */
const char *cadence_status_name(cadence_status s);

#endif
