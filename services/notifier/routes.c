/*
 * routes — the routes file parser. See routes.h.
 */
#include "routes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *notifier_kind_name(enum notifier_kind kind)
{
    return kind == NOTIFIER_SLACK ? "slack" : "webhook";
}

void notifier_routes_free(notifier_routes *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].rep);
        free(r->v[i].url);
        free(r->v[i].secret);
    }
    free(r->v);
    free(r);
}

static int valid_rep(const char *s)
{
    if (strcmp(s, "*") == 0)
        return 1;
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              strchr("._:-", *p)))
            return 0;
    return 1;
}

static int valid_url(const char *s)
{
    const char *rest = NULL;
    if (strncmp(s, "https://", 8) == 0)
        rest = s + 8;
    else if (strncmp(s, "http://", 7) == 0)
        rest = s + 7;
    if (!rest || !*rest || *rest == '/')
        return 0;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p == 0x7f)
            return 0;
    return 1;
}

/* Splits `line` in place on blanks into at most `max` fields; returns the count (max + 1 when
 * there are more). */
static size_t split(char *line, char **f, size_t max)
{
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
        if (n == max)
            return max + 1;
        f[n++] = t;
    }
    return n;
}

static int add(notifier_routes *r, const char *rep, enum notifier_kind kind, const char *url,
               const char *secret)
{
    notifier_route *v = realloc(r->v, (r->n + 1) * sizeof(*v));
    if (!v)
        return -1;
    r->v = v;
    notifier_route *x = &r->v[r->n];
    x->rep = strdup(rep);
    x->kind = kind;
    x->url = strdup(url);
    x->secret = secret ? strdup(secret) : NULL;
    r->n++;
    if (!x->rep || !x->url || (secret && !x->secret))
        return -1;
    return 0;
}

/* Checks one line's fields; returns NULL when good, else what is wrong. */
static const char *check(char **f, size_t n, enum notifier_kind *kind)
{
    if (n < 3)
        return "expected '<rep_id or *> slack <url>' or '<rep_id or *> webhook <url> <secret>'";
    if (!valid_rep(f[0]))
        return "the first field must be a rep_id ([A-Za-z0-9._:-], up to 64) or *";
    if (strcmp(f[1], "slack") == 0) {
        *kind = NOTIFIER_SLACK;
        if (n != 3)
            return "a slack route has exactly three fields: <rep_id or *> slack <url>";
    } else if (strcmp(f[1], "webhook") == 0) {
        *kind = NOTIFIER_WEBHOOK;
        if (n != 4)
            return "a webhook route has exactly four fields: <rep_id or *> webhook <url> <secret>";
    } else {
        return "the second field must be 'slack' or 'webhook'";
    }
    if (!valid_url(f[2]))
        return "the URL must start with https:// or http:// and name a host";
    return NULL;
}

notifier_routes *notifier_routes_parse(const char *text, const char *name, char *errstr,
                                       size_t errstr_size)
{
    notifier_routes *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(errstr, errstr_size, "%s: out of memory", name);
        return NULL;
    }
    const char *p = text;
    for (size_t lineno = 1; *p; lineno++) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len >= NOTIFIER_ROUTE_LINE_MAX) {
            snprintf(errstr, errstr_size, "%s:%zu: line longer than %d bytes", name, lineno,
                     NOTIFIER_ROUTE_LINE_MAX);
            notifier_routes_free(r);
            return NULL;
        }
        char line[NOTIFIER_ROUTE_LINE_MAX];
        memcpy(line, p, len);
        line[len] = '\0';
        p = eol ? eol + 1 : p + len;
        char *start = line;
        while (*start == ' ' || *start == '\t')
            start++;
        if (*start == '#')
            continue;
        char *f[5];
        size_t n = split(start, f, 4);
        if (n == 0)
            continue;
        enum notifier_kind kind = NOTIFIER_SLACK;
        const char *why = n > 4 ? "too many fields" : check(f, n, &kind);
        if (why) {
            snprintf(errstr, errstr_size, "%s:%zu: %s", name, lineno, why);
            notifier_routes_free(r);
            return NULL;
        }
        if (add(r, f[0], kind, f[2], kind == NOTIFIER_WEBHOOK ? f[3] : NULL) != 0) {
            snprintf(errstr, errstr_size, "%s: out of memory", name);
            notifier_routes_free(r);
            return NULL;
        }
    }
    return r;
}

notifier_routes *notifier_routes_load(const char *path, char *errstr, size_t errstr_size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(errstr, errstr_size, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof(buf), f)) > 0) {
        if (len + got + 1 > cap) {
            cap = (len + got + 1) * 2;
            char *t = realloc(text, cap);
            if (!t) {
                free(text);
                fclose(f);
                snprintf(errstr, errstr_size, "%s: out of memory", path);
                return NULL;
            }
            text = t;
        }
        memcpy(text + len, buf, got);
        len += got;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(text);
        snprintf(errstr, errstr_size, "%s: read error", path);
        return NULL;
    }
    if (!text)
        return notifier_routes_parse("", path, errstr, errstr_size);
    text[len] = '\0';
    if (strlen(text) != len) {
        free(text);
        snprintf(errstr, errstr_size, "%s: contains a NUL byte", path);
        return NULL;
    }
    notifier_routes *r = notifier_routes_parse(text, path, errstr, errstr_size);
    free(text);
    return r;
}

size_t notifier_routes_match(const notifier_routes *r, const char *rep_id,
                             const notifier_route **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; r && i < r->n && n < max; i++) {
        const notifier_route *x = &r->v[i];
        if (strcmp(x->rep, "*") != 0 && strcmp(x->rep, rep_id) != 0)
            continue;
        int seen = 0;
        for (size_t j = 0; j < n && !seen; j++)
            seen = out[j]->kind == x->kind && strcmp(out[j]->url, x->url) == 0;
        if (!seen)
            out[n++] = x;
    }
    return n;
}
