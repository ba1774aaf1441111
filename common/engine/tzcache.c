/*
 * tzcache — GTimeZone per IANA name, and local-calendar helpers (see tzcache.h).
 *
 * All arithmetic goes through GLib (GDateTime, GDate), which knows DST transitions from the
 * system tz database. Local "day + minute" is turned into an instant by GDateTime, so a slot
 * at 09:00 lands at 09:00 local on both sides of a DST change.
 */
#include "engine/tzcache.h"

#include "base/rfc3339.h"

#include <stdio.h>
#include <string.h>

#define SPAN_WINDOW (7 * 86400LL) /* bisection window around a lookup, seconds */
#define SPAN_MARGIN 86400LL       /* local→UTC answers from the memo keep this far from edges */
#define SPANS 4

typedef struct span {
    int64_t start, end; /* UTC seconds, [start, end) */
    int32_t offset;     /* seconds east of UTC */
} span;

struct cadence_tz {
    GTimeZone *z;
    span spans[SPANS];
    int n_spans, next_span;
};

struct cadence_tzcache {
    GHashTable *zones; /* name (owned) → cadence_tz (owned) */
};

static void tz_free(gpointer p)
{
    cadence_tz *t = p;
    g_time_zone_unref(t->z);
    g_free(t);
}

cadence_tzcache *cadence_tzcache_new(void)
{
    cadence_tzcache *tz = g_new0(cadence_tzcache, 1);
    tz->zones = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, tz_free);
    return tz;
}

void cadence_tzcache_free(cadence_tzcache *tz)
{
    if (!tz)
        return;
    g_hash_table_destroy(tz->zones);
    g_free(tz);
}

cadence_tz *cadence_tzcache_get(cadence_tzcache *tz, const char *name)
{
    if (!name || !*name)
        return NULL;
    cadence_tz *t = g_hash_table_lookup(tz->zones, name);
    if (t)
        return t;
    GTimeZone *z = g_time_zone_new_identifier(name);
    if (!z)
        return NULL;
    t = g_new0(cadence_tz, 1);
    t->z = z;
    g_hash_table_insert(tz->zones, g_strdup(name), t);
    return t;
}

GTimeZone *cadence_tz_gtimezone(const cadence_tz *zone)
{
    return zone->z;
}

static int32_t glib_offset(GTimeZone *z, int64_t secs)
{
    gint iv = g_time_zone_find_interval(z, G_TIME_TYPE_UNIVERSAL, secs);
    return iv < 0 ? 0 : g_time_zone_get_offset(z, iv);
}

/* The UTC offset at UTC `secs`, from the memo or GLib (then memoised with its span). */
static int32_t offset_at(cadence_tz *tz, int64_t secs)
{
    for (int i = 0; i < tz->n_spans; i++)
        if (secs >= tz->spans[i].start && secs < tz->spans[i].end)
            return tz->spans[i].offset;
    int32_t off = glib_offset(tz->z, secs);
    int64_t start = secs - SPAN_WINDOW, end = secs + SPAN_WINDOW;
    if (glib_offset(tz->z, start) != off) {
        int64_t a = start, b = secs; /* a: other offset, b: ours */
        while (b - a > 1) {
            int64_t m = a + (b - a) / 2;
            if (glib_offset(tz->z, m) == off)
                b = m;
            else
                a = m;
        }
        start = b;
    }
    if (glib_offset(tz->z, end) != off) {
        int64_t a = secs, b = end; /* a: ours, b: other offset */
        while (b - a > 1) {
            int64_t m = a + (b - a) / 2;
            if (glib_offset(tz->z, m) == off)
                a = m;
            else
                b = m;
        }
        end = b;
    }
    tz->spans[tz->next_span] = (span){start, end, off};
    tz->next_span = (tz->next_span + 1) % SPANS;
    if (tz->n_spans < SPANS)
        tz->n_spans++;
    return off;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

/* GDate Julian day number of 1970-01-01 (day 1 = 0001-01-01). */
#define UNIX_EPOCH_JULIAN 719163

/* Local wall-clock seconds of UTC `secs` in `zone`, and the UTC offset used. */
static int64_t to_local(int64_t secs, cadence_tz *zone, int32_t *offset)
{
    int32_t off = offset_at(zone, secs);
    if (offset)
        *offset = off;
    return secs + off;
}

void cadence_time_format_local(int64_t ms, cadence_tz *zone, char *out, size_t out_size)
{
    if (!zone) {
        cadence_rfc3339_format(ms, out, out_size);
        return;
    }
    int32_t off;
    (void)to_local(floor_div(ms, 1000), zone, &off);
    cadence_rfc3339_format_offset(ms, off, out, out_size);
}

uint32_t cadence_time_local_day(int64_t ms, cadence_tz *zone, int *minute)
{
    int64_t local = to_local(floor_div(ms, 1000), zone, NULL);
    int64_t days = floor_div(local, 86400);
    if (minute)
        *minute = (int)((local - days * 86400) / 60);
    int64_t j = days + UNIX_EPOCH_JULIAN;
    return j < 1 ? 1 : (uint32_t)j;
}

int64_t cadence_time_at_local(uint32_t julian, int minute, cadence_tz *zone)
{
    gint64 local = ((gint64)julian - UNIX_EPOCH_JULIAN) * 86400 + (gint64)minute * 60;
    /* From the memo when the answer lies well inside a known span (no DST edge near). */
    for (int i = 0; i < zone->n_spans; i++) {
        const span *s = &zone->spans[i];
        int64_t u = local - s->offset;
        if (u >= s->start + SPAN_MARGIN && u < s->end - SPAN_MARGIN)
            return u * 1000;
    }
    /* As g_date_time_new does: find the interval of the local time (a time in a DST gap is
     * moved forward), then subtract that interval's offset. */
    gint64 t = local;
    gint iv = g_time_zone_adjust_time(zone->z, G_TIME_TYPE_STANDARD, &t);
    int32_t off = iv < 0 ? 0 : g_time_zone_get_offset(zone->z, iv);
    (void)offset_at(zone, t - off); /* warm the memo */
    return (t - off) * 1000;
}
