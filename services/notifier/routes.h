/*
 * routes — which destinations receive which rep's alerts: the CADENCE_NOTIFY_ROUTES file.
 *
 * One route a line, fields separated by blanks; blank lines and lines starting with '#' are
 * skipped:
 *
 *     <rep_id or *> slack <incoming-webhook URL>
 *     <rep_id or *> webhook <URL> <secret>
 *
 * A rep's alert goes to every route naming the rep and every `*` route; a destination listed
 * twice for one alert (same kind and URL) receives it once. URLs must be http:// or https://.
 * Parsing is pure: the caller reads the file (notifier_routes_load does both).
 */
#ifndef CADENCE_NOTIFIER_ROUTES_H
#define CADENCE_NOTIFIER_ROUTES_H

#include <stddef.h>

enum notifier_kind { NOTIFIER_SLACK = 0, NOTIFIER_WEBHOOK = 1 };

typedef struct notifier_route {
    char *rep; /* a rep_id, or "*" for every rep */
    enum notifier_kind kind;
    char *url;
    char *secret; /* webhook only; NULL for Slack */
} notifier_route;

typedef struct notifier_routes {
    notifier_route *v;
    size_t n;
} notifier_routes;

/* The longest line accepted (URL and secret included). */
#define NOTIFIER_ROUTE_LINE_MAX 4096

/*
 * Parses `text` (NUL-terminated). `name` (the file name) only labels errors. Returns new routes
 * (free with notifier_routes_free; an empty file gives zero routes), or NULL with errstr as
 * "<name>:<line>: <what is wrong>".
 */
notifier_routes *notifier_routes_parse(const char *text, const char *name, char *errstr,
                                       size_t errstr_size);

/* Reads and parses the file at `path`; errors as notifier_routes_parse (or naming the file). */
notifier_routes *notifier_routes_load(const char *path, char *errstr, size_t errstr_size);

/* Frees; NULL is a no-op. */
void notifier_routes_free(notifier_routes *r);

/*
 * The routes an alert for `rep_id` goes to, at most `max`, without repeating a destination
 * (same kind and URL: the first route listed wins). Returns how many were written to `out`.
 */
size_t notifier_routes_match(const notifier_routes *r, const char *rep_id,
                             const notifier_route **out, size_t max);

/* "slack" or "webhook". */
const char *notifier_kind_name(enum notifier_kind kind);

#endif
