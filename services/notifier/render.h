/*
 * render — the pure parts of a delivery: the Slack Block Kit message of an alert, the webhook
 * signature, the idempotency key, the retry delays. No I/O; unit-tested directly.
 */
#ifndef CADENCE_NOTIFIER_RENDER_H
#define CADENCE_NOTIFIER_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "engine/tzcache.h"

/* The alert's revision: its integer `revision` member when present and >= 1, else 1. */
long notifier_alert_revision(const json_t *alert);

/*
 * The Slack message (a JSON object: fallback `text` and `blocks`) for `alert`, a valid
 * alerts.v1 event: who (name, company, the prospect's local time at `now_ms`), why (the reason
 * in words, with the earlier no's date and reason), what to say (the opener), the phone as a
 * tel: link and a button to the lead in the console at `console_url`. A revision above 1 is
 * rendered as a marked update of the first message. `tz` (borrowed) resolves time zones.
 * Returns a new reference, or NULL when out of memory.
 */
json_t *notifier_slack_message(const json_t *alert, const char *console_url, int64_t now_ms,
                               cadence_tzcache *tz);

/* Escapes &, < and > for Slack mrkdwn into `out`; truncates (whole characters) to fit. */
void notifier_slack_escape(const char *in, char *out, size_t out_size);

/*
 * The X-Cadence-Signature value "t=<t>,v1=<hex HMAC-SHA256 of "<t>.<body>">" for `secret`.
 * Returns 0, or -1 when `out` is too small or HMAC failed.
 */
int notifier_sign(const char *secret, long long t, const void *body, size_t len, char *out,
                  size_t out_size);

/* The Idempotency-Key: "<alert_id>" for revision 1, "<alert_id>:<revision>" above. */
void notifier_idempotency_key(const char *alert_id, long revision, char *out, size_t out_size);

/*
 * Delay before retry number `attempt` (1 = the first retry): min(max_ms, base_ms * 2^(attempt-1))
 * with "equal jitter" — a value from half that delay to all of it, picked by `rnd`.
 */
int64_t notifier_backoff_ms(int attempt, long base_ms, long max_ms, uint32_t rnd);

/*
 * A Retry-After header value in ms from `now_s` (Unix seconds): delta seconds or an HTTP date.
 * Returns -1 when `value` is NULL or neither; a date in the past gives 0.
 */
int64_t notifier_retry_after_ms(const char *value, long long now_s);

#endif
