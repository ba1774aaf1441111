/*
 * tzcache — GTimeZone per IANA name, and local-calendar helpers (see tzcache.h).
 *
 * All arithmetic goes through GLib (GDateTime, GDate), which knows DST transitions from the
 * system tz database. Local "day + minute" is turned into an instant by GDateTime, so a slot
 * at 09:00 lands at 09:00 local on both sides of a DST change.
 */
#include "engine/tzcache.h"

#include <stdio.h>
#include <string.h>

struct cadence_tzcache {
    GHashTable *zones; /* name (owned) → GTimeZone (owned) */
};

cadence_tzcache *cadence_tzcache_new(void)
{
    cadence_tzcache *tz = g_new0(cadence_tzcache, 1);
    tz->zones =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_time_zone_unref);
    return tz;
}

void cadence_tzcache_free(cadence_tzcache *tz)
{
    if (!tz)
        return;
    g_hash_table_destroy(tz->zones);
    g_free(tz);
}

GTimeZone *cadence_tzcache_get(cadence_tzcache *tz, const char *name)
{
    if (!name || !*name)
        return NULL;
    GTimeZone *z = g_hash_table_lookup(tz->zones, name);
    if (z)
        return z;
    z = g_time_zone_new_identifier(name);
    if (!z)
        return NULL;
    g_hash_table_insert(tz->zones, g_strdup(name), z);
    return z;
}

int cadence_time_parse(const char *text, int64_t *ms)
{
    if (!text || strlen(text) < 20 || strlen(text) > 40 || (text[10] != 'T' && text[10] != 't'))
        return -1;
    /* RFC 3339 needs an explicit offset: "Z" or ±hh:mm at the end. */
    size_t n = strlen(text);
    char last = text[n - 1];
    if (last != 'Z' && last != 'z' && !(n > 6 && (text[n - 6] == '+' || text[n - 6] == '-')))
        return -1;
    GDateTime *dt = g_date_time_new_from_iso8601(text, NULL);
    if (!dt)
        return -1;
    *ms = g_date_time_to_unix(dt) * 1000 + g_date_time_get_microsecond(dt) / 1000;
    g_date_time_unref(dt);
    return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

void cadence_time_format_utc(int64_t ms, char *out, size_t out_size)
{
    GDateTime *dt = g_date_time_new_from_unix_utc(floor_div(ms, 1000));
    int frac = (int)(ms - floor_div(ms, 1000) * 1000);
    if (!dt) {
        snprintf(out, out_size, "1970-01-01T00:00:00Z");
        return;
    }
    if (frac)
        snprintf(out, out_size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", g_date_time_get_year(dt),
                 g_date_time_get_month(dt), g_date_time_get_day_of_month(dt),
                 g_date_time_get_hour(dt), g_date_time_get_minute(dt), g_date_time_get_second(dt),
                 frac);
    else
        snprintf(out, out_size, "%04d-%02d-%02dT%02d:%02d:%02dZ", g_date_time_get_year(dt),
                 g_date_time_get_month(dt), g_date_time_get_day_of_month(dt),
                 g_date_time_get_hour(dt), g_date_time_get_minute(dt), g_date_time_get_second(dt));
    g_date_time_unref(dt);
}

static GDateTime *local_dt(int64_t ms, GTimeZone *zone)
{
    GDateTime *utc = g_date_time_new_from_unix_utc(floor_div(ms, 1000));
    if (!utc)
        return NULL;
    GDateTime *loc = g_date_time_to_timezone(utc, zone);
    g_date_time_unref(utc);
    return loc;
}

void cadence_time_format_local(int64_t ms, GTimeZone *zone, char *out, size_t out_size)
{
    GDateTime *dt = zone ? local_dt(ms, zone) : NULL;
    if (!dt) {
        cadence_time_format_utc(ms, out, out_size);
        return;
    }
    int64_t off = g_date_time_get_utc_offset(dt) / G_TIME_SPAN_MINUTE;
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    snprintf(out, out_size, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", g_date_time_get_year(dt),
             g_date_time_get_month(dt), g_date_time_get_day_of_month(dt), g_date_time_get_hour(dt),
             g_date_time_get_minute(dt), g_date_time_get_second(dt), sign, (int)(off / 60),
             (int)(off % 60));
    g_date_time_unref(dt);
}

uint32_t cadence_time_local_day(int64_t ms, GTimeZone *zone, int *minute)
{
    GDateTime *dt = local_dt(ms, zone);
    if (!dt) {
        if (minute)
            *minute = 0;
        return 1;
    }
    GDate d;
    g_date_clear(&d, 1);
    g_date_set_dmy(&d, (GDateDay)g_date_time_get_day_of_month(dt),
                   (GDateMonth)g_date_time_get_month(dt), (GDateYear)g_date_time_get_year(dt));
    if (minute)
        *minute = g_date_time_get_hour(dt) * 60 + g_date_time_get_minute(dt);
    g_date_time_unref(dt);
    return g_date_get_julian(&d);
}

int64_t cadence_time_at_local(uint32_t julian, int minute, GTimeZone *zone)
{
    GDate d;
    g_date_clear(&d, 1);
    g_date_set_julian(&d, julian);
    int h = minute / 60, m = minute % 60;
    int extra_day = 0;
    if (h >= 24) { /* "24:00" = next midnight */
        h = 0;
        extra_day = 1;
    }
    GDateTime *dt = g_date_time_new(zone, g_date_get_year(&d), g_date_get_month(&d),
                                    g_date_get_day(&d), h, m, 0);
    if (!dt)
        return 0;
    int64_t ms = (g_date_time_to_unix(dt) + extra_day * 86400LL) * 1000;
    g_date_time_unref(dt);
    return ms;
}
