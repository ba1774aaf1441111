/* Tests for metrics: Prometheus text output of counters, gauges and histograms. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"

Test(metrics, renders_counters_gauges_and_histograms)
{
    cadence_metrics *m = cadence_metrics_new();
    static const double bounds[] = {0.01, 0.1, 1};
    cr_assert_eq(cadence_metrics_declare(m, "cadence_events_total", CADENCE_METRIC_COUNTER,
                                         "Events by topic and result", NULL, 0),
                 0);
    cr_assert_eq(cadence_metrics_declare(m, "cadence_lag", CADENCE_METRIC_GAUGE, "Lag", NULL, 0),
                 0);
    cr_assert_eq(cadence_metrics_declare(m, "cadence_batch_seconds", CADENCE_METRIC_HISTOGRAM,
                                         "Batch latency", bounds, 3),
                 0);
    cadence_metrics_add(m, "cadence_events_total", "topic=\"leads.v1\",result=\"ok\"", 2);
    cadence_metrics_add(m, "cadence_events_total", "topic=\"leads.v1\",result=\"ok\"", 1);
    cadence_metrics_set(m, "cadence_lag", NULL, 7);
    cadence_metrics_observe(m, "cadence_batch_seconds", NULL, 0.05);
    cadence_metrics_observe(m, "cadence_batch_seconds", NULL, 5);
    char *text = cadence_metrics_render(m);
    cr_assert_not_null(text);
    cr_assert_not_null(strstr(text, "# TYPE cadence_events_total counter\n"));
    cr_assert_not_null(strstr(text, "cadence_events_total{topic=\"leads.v1\",result=\"ok\"} 3\n"));
    cr_assert_not_null(strstr(text, "cadence_lag 7\n"));
    cr_assert_not_null(strstr(text, "cadence_batch_seconds_bucket{le=\"0.01\"} 0\n"));
    cr_assert_not_null(strstr(text, "cadence_batch_seconds_bucket{le=\"0.10000000000000001\"} 1\n"),
                       "%s", text);
    cr_assert_not_null(strstr(text, "cadence_batch_seconds_bucket{le=\"+Inf\"} 2\n"));
    cr_assert_not_null(strstr(text, "cadence_batch_seconds_count 2\n"));
    cr_assert_not_null(strstr(text, "cadence_batch_seconds_sum 5.0499999999999998\n"), "%s", text);
    cr_assert_eq(
        cadence_metrics_value(m, "cadence_events_total", "topic=\"leads.v1\",result=\"ok\""), 3);
    free(text);
    cadence_metrics_free(m);
}

Test(metrics, refuses_redeclaring_with_another_type_and_ignores_undeclared)
{
    cadence_metrics *m = cadence_metrics_new();
    cr_assert_eq(cadence_metrics_declare(m, "x", CADENCE_METRIC_COUNTER, "x", NULL, 0), 0);
    cr_assert_eq(cadence_metrics_declare(m, "x", CADENCE_METRIC_COUNTER, "x", NULL, 0), 0);
    cr_assert_eq(cadence_metrics_declare(m, "x", CADENCE_METRIC_GAUGE, "x", NULL, 0), -1);
    cadence_metrics_add(m, "undeclared", NULL, 1);
    char *text = cadence_metrics_render(m);
    cr_assert_null(strstr(text, "undeclared"));
    free(text);
    cadence_metrics_free(m);
    cadence_metrics_free(NULL);
}
