/*
 * metrics — families in declaration order, series in first-use order; linear lookups, since a
 * service has a few dozen series at most.
 */
#include "core/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct series {
    char *labels;
    double value;    /* counter/gauge value, histogram sum */
    double count;    /* histogram count */
    double *buckets; /* histogram cumulative counts, one per bound */
};

struct family {
    char *name, *help;
    enum cadence_metric_type type;
    double *bounds;
    size_t nbounds;
    struct series *series;
    size_t nseries, capseries;
};

struct cadence_metrics {
    struct family *fams;
    size_t nfams, capfams;
};

cadence_metrics *cadence_metrics_new(void)
{
    return calloc(1, sizeof(cadence_metrics));
}

void cadence_metrics_free(cadence_metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nfams; i++) {
        struct family *f = &m->fams[i];
        for (size_t j = 0; j < f->nseries; j++) {
            free(f->series[j].labels);
            free(f->series[j].buckets);
        }
        free(f->series);
        free(f->name);
        free(f->help);
        free(f->bounds);
    }
    free(m->fams);
    free(m);
}

static struct family *find_family(const cadence_metrics *m, const char *name)
{
    for (size_t i = 0; i < m->nfams; i++)
        if (strcmp(m->fams[i].name, name) == 0)
            return &m->fams[i];
    return NULL;
}

int cadence_metrics_declare(cadence_metrics *m, const char *name, enum cadence_metric_type type,
                            const char *help, const double *buckets, size_t nbuckets)
{
    struct family *f = find_family(m, name);
    if (f)
        return f->type == type ? 0 : -1;
    if (m->nfams == m->capfams) {
        size_t cap = m->capfams ? m->capfams * 2 : 16;
        struct family *n = realloc(m->fams, cap * sizeof(*n));
        if (!n)
            return -1;
        m->fams = n;
        m->capfams = cap;
    }
    f = &m->fams[m->nfams];
    memset(f, 0, sizeof(*f));
    f->name = strdup(name);
    f->help = strdup(help ? help : "");
    f->type = type;
    if (type == CADENCE_METRIC_HISTOGRAM && nbuckets > 0) {
        f->bounds = malloc(nbuckets * sizeof(double));
        if (f->bounds)
            memcpy(f->bounds, buckets, nbuckets * sizeof(double));
        f->nbounds = nbuckets;
    }
    if (!f->name || !f->help || (f->nbounds && !f->bounds)) {
        free(f->name);
        free(f->help);
        free(f->bounds);
        return -1;
    }
    m->nfams++;
    return 0;
}

static struct series *get_series(struct family *f, const char *labels)
{
    if (!labels)
        labels = "";
    for (size_t i = 0; i < f->nseries; i++)
        if (strcmp(f->series[i].labels, labels) == 0)
            return &f->series[i];
    if (f->nseries == f->capseries) {
        size_t cap = f->capseries ? f->capseries * 2 : 4;
        struct series *n = realloc(f->series, cap * sizeof(*n));
        if (!n)
            return NULL;
        f->series = n;
        f->capseries = cap;
    }
    struct series *s = &f->series[f->nseries];
    memset(s, 0, sizeof(*s));
    s->labels = strdup(labels);
    if (f->nbounds)
        s->buckets = calloc(f->nbounds, sizeof(double));
    if (!s->labels || (f->nbounds && !s->buckets)) {
        free(s->labels);
        free(s->buckets);
        return NULL;
    }
    f->nseries++;
    return s;
}

void cadence_metrics_add(cadence_metrics *m, const char *name, const char *labels, double v)
{
    struct family *f = find_family(m, name);
    struct series *s = f ? get_series(f, labels) : NULL;
    if (s)
        s->value += v;
}

void cadence_metrics_set(cadence_metrics *m, const char *name, const char *labels, double v)
{
    struct family *f = find_family(m, name);
    struct series *s = f ? get_series(f, labels) : NULL;
    if (s)
        s->value = v;
}

void cadence_metrics_observe(cadence_metrics *m, const char *name, const char *labels, double v)
{
    struct family *f = find_family(m, name);
    if (!f || f->type != CADENCE_METRIC_HISTOGRAM)
        return;
    struct series *s = get_series(f, labels);
    if (!s)
        return;
    s->value += v;
    s->count += 1;
    for (size_t i = 0; i < f->nbounds; i++)
        if (v <= f->bounds[i])
            s->buckets[i] += 1;
}

double cadence_metrics_value(const cadence_metrics *m, const char *name, const char *labels)
{
    struct family *f = find_family(m, name);
    if (!f)
        return 0;
    for (size_t i = 0; i < f->nseries; i++)
        if (strcmp(f->series[i].labels, labels ? labels : "") == 0)
            return f->type == CADENCE_METRIC_HISTOGRAM ? f->series[i].count : f->series[i].value;
    return 0;
}

/* A growable string; `ok` turns 0 once an allocation failed. */
struct buf {
    char *p;
    size_t len, cap;
    int ok;
};

static void bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void bprintf(struct buf *b, const char *fmt, ...)
{
    if (!b->ok)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->ok = 0;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap + (size_t)n + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->ok = 0;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

static const char *type_name(enum cadence_metric_type t)
{
    return t == CADENCE_METRIC_COUNTER ? "counter"
           : t == CADENCE_METRIC_GAUGE ? "gauge"
                                       : "histogram";
}

char *cadence_metrics_render(const cadence_metrics *m)
{
    struct buf b = {malloc(4096), 0, 4096, 1};
    if (!b.p)
        return NULL;
    b.p[0] = '\0';
    for (size_t i = 0; i < m->nfams; i++) {
        const struct family *f = &m->fams[i];
        bprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, type_name(f->type));
        for (size_t j = 0; j < f->nseries; j++) {
            const struct series *s = &f->series[j];
            const char *sep = s->labels[0] ? "," : "";
            if (f->type != CADENCE_METRIC_HISTOGRAM) {
                if (s->labels[0])
                    bprintf(&b, "%s{%s} %.17g\n", f->name, s->labels, s->value);
                else
                    bprintf(&b, "%s %.17g\n", f->name, s->value);
                continue;
            }
            for (size_t k = 0; k < f->nbounds; k++)
                bprintf(&b, "%s_bucket{%s%sle=\"%.17g\"} %.17g\n", f->name, s->labels, sep,
                        f->bounds[k], s->buckets[k]);
            bprintf(&b, "%s_bucket{%s%sle=\"+Inf\"} %.17g\n", f->name, s->labels, sep, s->count);
            if (s->labels[0]) {
                bprintf(&b, "%s_sum{%s} %.17g\n", f->name, s->labels, s->value);
                bprintf(&b, "%s_count{%s} %.17g\n", f->name, s->labels, s->count);
            } else {
                bprintf(&b, "%s_sum %.17g\n%s_count %.17g\n", f->name, s->value, f->name, s->count);
            }
        }
    }
    if (!b.ok) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
