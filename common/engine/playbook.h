/*
 * playbook — the sales team's rules, loaded once from a JSON file (schemas/playbook.json).
 *
 * A playbook holds the cadences (steps: gap in days after the previous attempt, local time
 * slot, channel, voicemail yes/no, follow-up email yes/no), the rules that pick a cadence from
 * lead type and potential, hot-page patterns with weights, the alert cooldown, business hours,
 * working days, holidays, the voicemail/email script pairs and the follow-up opener template.
 * The shipped default (examples/playbook.json) encodes the seeds' Zero-to-Ten system; every
 * knob is documented in schemas/playbook.json and examples/README.md.
 *
 * Loading runs semantic checks that stand on their own (no JSON Schema needed): at least three
 * voicemail and three email scripts, valid IANA time zone, non-empty step lists, well-formed
 * "HH:MM" times inside business hours, unique ids, rules naming existing cadences. Errors name
 * the field as a JSON pointer: "playbook: /cadences/0/steps/2/slot/start: not HH:MM".
 *
 * A loaded playbook is immutable and may be shared by any number of threads.
 */
#ifndef CADENCE_ENGINE_PLAYBOOK_H
#define CADENCE_ENGINE_PLAYBOOK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>
#include <jansson.h>

/* Bounds (the schema states the same ones). */
#define CADENCE_PLAYBOOK_MAX_CADENCES 16
#define CADENCE_PLAYBOOK_MAX_STEPS 32
#define CADENCE_PLAYBOOK_MAX_RULES 32
#define CADENCE_PLAYBOOK_MAX_HOT_PAGES 64
#define CADENCE_PLAYBOOK_MAX_HOLIDAYS 400
#define CADENCE_PLAYBOOK_MAX_SCRIPTS 32 /* per kind; pairs are tracked in a 32-bit set */
#define CADENCE_PLAYBOOK_MIN_SCRIPTS 3
#define CADENCE_PLAYBOOK_MAX_CALENDARS 32
#define CADENCE_PLAYBOOK_MAX_CALENDAR_MAP 256 /* country and zone entries, each */

typedef struct cadence_playbook cadence_playbook;

/* A time-of-day window in minutes after local midnight: [start, end). */
typedef struct cadence_playbook_slot {
    int start_min;
    int end_min;
} cadence_playbook_slot;

typedef struct cadence_playbook_step {
    int gap_days;               /* calendar days after the previous attempt's local date */
    cadence_playbook_slot slot; /* local time window */
    const char *channel;        /* "call", "email", "linkedin", "social", "delivery" */
    int voicemail;              /* leave a voicemail when the call reaches one */
    int email;                  /* send the matching email after the attempt */
} cadence_playbook_step;

typedef struct cadence_playbook_cadence {
    const char *name;
    size_t n_steps;
    const cadence_playbook_step *steps;
    const char *re_evaluate_suggestion; /* shown on the re_evaluate task after the last step */
} cadence_playbook_cadence;

/*
 * Checks the parsed playbook `doc` (the checks its JSON Schema cannot express) and builds it.
 * Borrows `doc` (copies what it keeps). Returns a new playbook (free with
 * cadence_playbook_free), or NULL with `errstr` naming the field and the problem. Reading the
 * file and validating it against schemas/playbook.json happen outside the engine:
 * cadence_playbook_load() in schema/playbook_file.h.
 */
cadence_playbook *cadence_playbook_load_json(const json_t *doc, char *errstr, size_t errstr_size);

/* Frees a playbook; NULL is a no-op. */
void cadence_playbook_free(cadence_playbook *pb);

/* --- read access (pointers borrowed from `pb`, valid until it is freed) --- */

size_t cadence_playbook_cadence_count(const cadence_playbook *pb);
const cadence_playbook_cadence *cadence_playbook_cadence_at(const cadence_playbook *pb, size_t i);
const cadence_playbook_cadence *cadence_playbook_cadence_find(const cadence_playbook *pb,
                                                              const char *name);

/*
 * The cadence for a lead of `lead_type` ("warm"/"cold") and `potential` (0–100; negative =
 * the playbook's default), or NULL when the lead goes straight to nurture (below the
 * playbook's potential threshold, or no rule matches).
 */
const cadence_playbook_cadence *
cadence_playbook_cadence_choose(const cadence_playbook *pb, const char *lead_type, int potential);

/*
 * The weight of the first hot-page pattern matching `url`, or 0 when the page is not hot.
 * Both sides are compared as marketers write them: the path only (scheme, host, query and
 * fragment dropped; "www.acme.com/pricing" without a scheme is a host and a path), case
 * folded, a leading locale segment dropped ("/en/", "/de-de/", "/pt_BR/"), and trailing
 * slashes ignored.
 */
int cadence_playbook_hot_weight(const cadence_playbook *pb, const char *url);

/* Writes the normalised path of `url` (as compared above) to `out`. */
void cadence_playbook_url_path(const char *url, char *out, size_t out_size);

/* 1 when `julian` (a GDate Julian day number) is one of the playbook's `holidays` (the ones
 * that hold for every lead). */
int cadence_playbook_is_holiday(const cadence_playbook *pb, uint32_t julian);

/*
 * The holiday calendar for a lead: the one `country_calendars` names for `country` (ISO
 * alpha-2; NULL/"" unknown), else the one `zone_calendars` names for the IANA zone `zone`,
 * else `default_calendar`; -1 when none applies.
 */
int cadence_playbook_calendar_for(const cadence_playbook *pb, const char *country,
                                  const char *zone);
const char *cadence_playbook_calendar_name(const cadence_playbook *pb, int cal);
/* 1 when `julian` is a holiday of `calendar` (-1: none) or one of the common `holidays`. */
int cadence_playbook_is_holiday_in(const cadence_playbook *pb, int calendar, uint32_t julian);

/* 1 when `weekday` (1 = Monday … 7 = Sunday) is a working day. */
int cadence_playbook_is_working_day(const cadence_playbook *pb, int weekday);

/* Script pairs: the i-th voicemail script goes with the i-th email script. */
size_t cadence_playbook_script_count(const cadence_playbook *pb);
const char *cadence_playbook_voicemail_id(const cadence_playbook *pb, size_t i);
const char *cadence_playbook_email_id(const cadence_playbook *pb, size_t i);
/*
 * The words of message `message_id` (a voicemail script's text or an email's body, with the
 * playbook's placeholders such as {first_name}, {company}, {rep} left in), borrowed from the
 * playbook; NULL when no script has that id. `subject` (may be NULL) gets an email's subject,
 * NULL for a voicemail.
 */
const char *cadence_playbook_message_text(const cadence_playbook *pb, const char *message_id,
                                          const char **subject);
/* The pair index whose voicemail or email id is `message_id`, or -1. */
int cadence_playbook_script_find(const cadence_playbook *pb, const char *message_id);

/* Scalar knobs. */
const char *cadence_playbook_default_timezone(const cadence_playbook *pb);
int cadence_playbook_default_potential(const cadence_playbook *pb);
cadence_playbook_slot cadence_playbook_business_hours(const cadence_playbook *pb);
int cadence_playbook_daily_touch_cap(const cadence_playbook *pb);
int64_t cadence_playbook_alert_cooldown_ms(const cadence_playbook *pb);
int64_t cadence_playbook_voicemail_min_gap_ms(const cadence_playbook *pb);
int64_t cadence_playbook_voicemail_pause_ms(const cadence_playbook *pb);
int cadence_playbook_voicemail_max_calls_without(const cadence_playbook *pb);
int cadence_playbook_follow_up_gap_days(const cadence_playbook *pb);
/* Follow-up calls leave voicemails (same rules and scripts as first-time calls). */
int cadence_playbook_follow_up_voicemail(const cadence_playbook *pb);
/* Unanswered follow-up attempts in a row before re-evaluate (0 = never). */
int cadence_playbook_follow_up_max_unanswered(const cadence_playbook *pb);
const char *cadence_playbook_follow_up_suggestion(const cadence_playbook *pb);
/* How long a hot view stays fresh enough to alert on when its trigger is found late. */
int64_t cadence_playbook_alert_freshness_ms(const cadence_playbook *pb);
cadence_playbook_slot cadence_playbook_follow_up_slot(const cadence_playbook *pb);
int64_t cadence_playbook_reenroll_cool_off_ms(const cadence_playbook *pb);
const char *cadence_playbook_opener_template(const cadence_playbook *pb);
/* Opener after a "no" when nothing else was discussed (optional key; a default otherwise). */
const char *cadence_playbook_reopen_opener_template(const cadence_playbook *pb);
/* Opener before any conversation, e.g. speed to lead (optional key; a default otherwise). */
const char *cadence_playbook_first_opener_template(const cadence_playbook *pb);
/* Opener when the prospect reached out before any conversation ({reply_to}: "call",
 * "email" or "meeting request"; optional key, a default otherwise). */
const char *cadence_playbook_callback_opener_template(const cadence_playbook *pb);

/*
 * The playbook's warnings (not errors): appends one line per problem to `out` and returns
 * how many, e.g. a cadence that can leave more voicemails than there are scripts.
 */
int cadence_playbook_warnings(const cadence_playbook *pb, GString *out);

/*
 * Prints the rules and cadences in words to `out` ("day 0 09:00–11:00 call + voicemail +
 * email"), one line per step.
 */
void cadence_playbook_describe(const cadence_playbook *pb, FILE *out);

#endif
