/*
 * rfc3339 — see rfc3339.h. Formatting is by hand (snprintf is most of the cost of formatting a
 * time, and the engine formats several per event); parsing goes through GLib's ISO 8601 parser
 * once the text has RFC 3339's shape.
 */
#include "base/rfc3339.h"

#include <glib.h>
#include <string.h>

/* ---------------------------------------------------------------- validity */

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* Parses the offset at s[0..len) ("Z" or "+HH:MM"); returns minutes east of UTC via *minutes. */
static int parse_offset(const char *s, size_t len, int *minutes)
{
    int oh, om;
    if (len == 1 && (s[0] == 'Z' || s[0] == 'z')) {
        *minutes = 0;
        return 1;
    }
    if (len != 6 || (s[0] != '+' && s[0] != '-') || !digits(s + 1, 2, &oh) || s[3] != ':' ||
        !digits(s + 4, 2, &om) || oh > 23 || om > 59)
        return 0;
    *minutes = (s[0] == '-' ? -1 : 1) * (oh * 60 + om);
    return 1;
}

int cadence_rfc3339_valid(const char *s, size_t len)
{
    int y, mo, d, h, mi, sec, off;
    if (!s || len < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
        !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
        !digits(s + 17, 2, &sec))
        return 0;
    size_t i = 19;
    if (s[i] == '.') {
        size_t start = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return 0;
    }
    if (!parse_offset(s + i, len - i, &off))
        return 0;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
        return 0;
    /* A leap second is always 23:59:60 in UTC. */
    return sec < 60 || ((h * 60 + mi - off) % 1440 + 1440) % 1440 == 23 * 60 + 59;
}

/* ---------------------------------------------------------------- parsing */

int cadence_rfc3339_parse(const char *text, int64_t *ms)
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

/* ---------------------------------------------------------------- formatting */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

/* Civil date of a day count since 1970-01-01 (H. Hinnant's algorithm; no allocation). */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static char *put2(char *p, int v)
{
    *p++ = (char)('0' + v / 10 % 10);
    *p++ = (char)('0' + v % 10);
    return p;
}

enum { ZULU = 1, ALWAYS_MS = 2 };

static void format(int64_t ms, int32_t offset, int flags, char *out, size_t out_size)
{
    int64_t local_secs = floor_div(ms, 1000) + ((flags & ZULU) ? 0 : offset);
    int y, mo, d;
    int64_t days = floor_div(local_secs, 86400);
    int64_t rem = local_secs - days * 86400;
    civil_from_days(days, &y, &mo, &d);
    int frac = (int)(ms - floor_div(ms, 1000) * 1000);
    char buf[CADENCE_RFC3339_SIZE], *p = buf;
    if (y < 0 || y > 9999)
        y = 0;
    p = put2(p, y / 100);
    p = put2(p, y % 100);
    *p++ = '-';
    p = put2(p, mo);
    *p++ = '-';
    p = put2(p, d);
    *p++ = 'T';
    p = put2(p, (int)(rem / 3600));
    *p++ = ':';
    p = put2(p, (int)(rem / 60 % 60));
    *p++ = ':';
    p = put2(p, (int)(rem % 60));
    if (frac || (flags & ALWAYS_MS)) {
        *p++ = '.';
        *p++ = (char)('0' + frac / 100);
        p = put2(p, frac % 100);
    }
    if (flags & ZULU) {
        *p++ = 'Z';
    } else {
        int a = offset < 0 ? -offset : offset;
        *p++ = offset < 0 ? '-' : '+';
        p = put2(p, a / 3600);
        *p++ = ':';
        p = put2(p, a / 60 % 60);
    }
    *p = '\0';
    g_strlcpy(out, buf, out_size);
}

void cadence_rfc3339_format(int64_t ms, char *out, size_t out_size)
{
    format(ms, 0, ZULU, out, out_size);
}

void cadence_rfc3339_format_ms(int64_t ms, char *out, size_t out_size)
{
    format(ms, 0, ZULU | ALWAYS_MS, out, out_size);
}

void cadence_rfc3339_format_offset(int64_t ms, int32_t offset_s, char *out, size_t out_size)
{
    format(ms, offset_s, 0, out, out_size);
}
