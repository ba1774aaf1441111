/*
 * repday — a rep's "today": the bounds of the local day in the rep's time zone (the `tz=` of
 * their token line, auth.h), so the queue's "today" and "overdue" follow the rep's clock, not
 * the server's. GLib reads the system's tz database.
 */
#include <glib.h>
#include <stdio.h>

#include "gateway.h"

int gw_rep_day(const char *tz, long long now_ms, long long *start_ms, long long *end_ms,
               char date[11])
{
    int rc = 0;
    GTimeZone *zone = tz && *tz ? g_time_zone_new_identifier(tz) : NULL;
    if (!zone) {
        rc = tz && *tz ? -1 : 0;
        zone = g_time_zone_new_utc();
    }
    GDateTime *now = g_date_time_new_from_unix_utc(now_ms / 1000);
    GDateTime *local = now ? g_date_time_to_timezone(now, zone) : NULL;
    GDateTime *midnight =
        local ? g_date_time_new(zone, g_date_time_get_year(local), g_date_time_get_month(local),
                                g_date_time_get_day_of_month(local), 0, 0, 0)
              : NULL;
    GDateTime *next = midnight ? g_date_time_add_days(midnight, 1) : NULL;
    if (!next) {
        rc = -1;
        long long day = 86400000LL;
        *start_ms = now_ms / day * day;
        *end_ms = *start_ms + day;
        snprintf(date, 11, "1970-01-01");
    } else {
        /* a day that starts in a DST gap starts at the first instant that exists */
        *start_ms = (long long)g_date_time_to_unix(midnight) * 1000;
        *end_ms = (long long)g_date_time_to_unix(next) * 1000;
        gchar *text = g_date_time_format(local, "%Y-%m-%d");
        snprintf(date, 11, "%s", text ? text : "1970-01-01");
        g_free(text);
    }
    if (next)
        g_date_time_unref(next);
    if (midnight)
        g_date_time_unref(midnight);
    if (local)
        g_date_time_unref(local);
    if (now)
        g_date_time_unref(now);
    g_time_zone_unref(zone);
    return rc;
}
