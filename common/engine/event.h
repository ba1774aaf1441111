/*
 * event — the three input events (leads.v1, site-visits.v1, call-outcomes.v1) as plain C data.
 *
 * cadence_event_from_json *copies* every field into fixed-size buffers inside the struct, so
 * the json_t can be freed right after; an event owns nothing and needs no free. The input is
 * expected to have passed the topic's JSON Schema already; this parser still checks what the
 * engine relies on (type, ids, times, enums, lengths) and refuses the rest with an error
 * naming the field ("/conversation/role: not one of ..."). Unknown fields are ignored.
 * A lead's `timezone` must name a zone of the system's tz database ("/timezone: unknown IANA
 * time zone"), so an unknown zone is dead-lettered rather than silently replaced.
 */
#ifndef CADENCE_ENGINE_EVENT_H
#define CADENCE_ENGINE_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/id.h" /* CADENCE_ID_SIZE */

#define CADENCE_EVENT_MAX_PROBLEMS 10

typedef enum cadence_event_type {
    CADENCE_EVENT_LEAD = 0,
    CADENCE_EVENT_SITE_VISIT,
    CADENCE_EVENT_CALL_OUTCOME,
} cadence_event_type;

typedef enum cadence_channel {
    CADENCE_CHANNEL_CALL = 0,
    CADENCE_CHANNEL_EMAIL,
    CADENCE_CHANNEL_LINKEDIN,
    CADENCE_CHANNEL_SOCIAL,
    CADENCE_CHANNEL_DELIVERY,
} cadence_channel;

typedef enum cadence_disposition {
    CADENCE_DISP_NO_ANSWER = 0,
    CADENCE_DISP_VOICEMAIL_LEFT,
    CADENCE_DISP_GATEKEEPER,
    CADENCE_DISP_CONNECTED,
    CADENCE_DISP_CALLBACK_RECEIVED,
    CADENCE_DISP_NOT_INTERESTED,
    CADENCE_DISP_MEETING_BOOKED,
    CADENCE_DISP_CLOSED_WON,
    CADENCE_DISP_CLOSED_LOST,
    CADENCE_DISP_WRONG_NUMBER,
    CADENCE_DISP_DO_NOT_CALL,
    CADENCE_DISP_SENT,
    CADENCE_DISP_REPLIED,
    CADENCE_DISP_BOUNCED,
    CADENCE_DISP_OUT_OF_OFFICE,
    CADENCE_DISP_SNOOZED, /* the rep put the task off until snooze_until (reason in notes) */
    CADENCE_DISP_SKIPPED, /* the rep passed the task over: the cadence moves to the next touch */
    CADENCE_DISP_COUNT
} cadence_disposition;

/* Qualification bits (cadence_event.qualification / .qualification_known). */
enum {
    CADENCE_QUAL_PROBLEM = 1,
    CADENCE_QUAL_DECISION_MAKERS = 2,
    CADENCE_QUAL_TIMELINE = 4,
    CADENCE_QUAL_PRICE = 8,
};

typedef struct cadence_event {
    cadence_event_type type;
    char event_id[CADENCE_ID_SIZE];
    int64_t occurred_at; /* Unix ms */
    char lead_id[CADENCE_ID_SIZE];
    char rep_id[CADENCE_ID_SIZE];
    char email[255];
    /* lead */
    char lead_type[8]; /* "warm" / "cold" */
    int potential;     /* 0–100, -1 when absent */
    char vertical[65];
    char first_name[101], last_name[101];
    char company[201];
    char phone[33];
    char timezone[65]; /* checked against the tz database: unknown = an invalid event */
    char country[3];   /* ISO 3166-1 alpha-2, upper case ("" when absent) */
    int do_not_call, reenroll;
    /* site_visit */
    char url[2049];
    char title[301];
    char source[65];
    /* call_outcome */
    cadence_channel channel;
    cadence_disposition disposition;
    char task_id[CADENCE_ID_SIZE];
    char message_id[CADENCE_ID_SIZE];
    int has_conversation;
    char problems[CADENCE_EVENT_MAX_PROBLEMS][201];
    int n_problems;
    char next_steps[501];
    char role[16]; /* "" when absent */
    int qualification, qualification_known;
    int64_t next_contact_at; /* 0 when absent */
    char no_reason[501];
    int64_t return_date;  /* 0 when absent */
    int64_t snooze_until; /* with snoozed: not before then (0 when absent) */
    char notes[501];      /* the rep's own words (a snooze's reason, call notes) */
    /* Not from the JSON: when the event reached the worker (Unix ms; 0 = unknown). The
     * engine's "now" is the newest of this and every occurred_at the lead has seen. */
    int64_t received_at;
} cadence_event;

/*
 * Fills `out` from a validated input event `doc` (borrowed). The type comes from the event's
 * `type` field ("lead", "site_visit", "call_outcome"). Returns 0, or -1 with `errstr` naming
 * the field (the caller dead-letters the event).
 */
int cadence_event_from_json(const json_t *doc, cadence_event *out, char *errstr,
                            size_t errstr_size);

/* The event as JSON (the fields the engine keeps; used to hold early events in the state).
 * Returns a new reference, caller frees. */
json_t *cadence_event_to_json(const cadence_event *ev);

/* Names of the enums ("call", "no_answer", "lead"); NULL when out of range. */
const char *cadence_channel_name(cadence_channel c);
const char *cadence_disposition_name(cadence_disposition d);
const char *cadence_event_type_name(cadence_event_type t);

#endif
