/*
 * metrics — a small Prometheus registry: counters, gauges and histograms with label sets,
 * rendered in the Prometheus text exposition format (version 0.0.4) for /metrics.
 *
 * Not thread-safe: each service updates and renders its registry on its event-loop thread.
 * Label sets are passed pre-rendered (`topic="leads.v1",result="ok"`); callers keep them to
 * a small fixed set, never per lead.
 */
#ifndef CADENCE_METRICS_H
#define CADENCE_METRICS_H

#include <stddef.h>

typedef struct cadence_metrics cadence_metrics;

enum cadence_metric_type {
    CADENCE_METRIC_COUNTER,
    CADENCE_METRIC_GAUGE,
    CADENCE_METRIC_HISTOGRAM,
};

/* Returns a new, empty registry; NULL on allocation failure. Free with cadence_metrics_free. */
cadence_metrics *cadence_metrics_new(void);
void cadence_metrics_free(cadence_metrics *m);

/*
 * Declares a family. `buckets` (ascending upper bounds, copied) is used for histograms only.
 * Returns 0, or -1 when the name is already declared with another type or memory ran out.
 */
int cadence_metrics_declare(cadence_metrics *m, const char *name, enum cadence_metric_type type,
                            const char *help, const double *buckets, size_t nbuckets);

/* Updates one series; the family must be declared (otherwise the call is ignored). */
void cadence_metrics_add(cadence_metrics *m, const char *name, const char *labels, double v);
void cadence_metrics_set(cadence_metrics *m, const char *name, const char *labels, double v);
void cadence_metrics_observe(cadence_metrics *m, const char *name, const char *labels, double v);

/* Current value of a counter or gauge series (0 if absent): for tests and health checks. */
double cadence_metrics_value(const cadence_metrics *m, const char *name, const char *labels);

/* Renders the registry; returns a new string the caller frees, or NULL. */
char *cadence_metrics_render(const cadence_metrics *m);

#endif
