/*
 * topics — the Kafka topics of DESIGN.md §3, in one table.
 */
#ifndef CADENCE_TOPICS_H
#define CADENCE_TOPICS_H

#include <stddef.h>

#define CADENCE_TOPIC_LEADS "leads.v1"
#define CADENCE_TOPIC_SITE_VISITS "site-visits.v1"
#define CADENCE_TOPIC_CALL_OUTCOMES "call-outcomes.v1"
#define CADENCE_TOPIC_ALERTS "alerts.v1"
#define CADENCE_TOPIC_TOUCHES_DUE "touches-due.v1"
#define CADENCE_TOPIC_LEAD_STATUS "lead-status.v1"
#define CADENCE_TOPIC_DLQ "cadence-dlq.v1"

typedef struct cadence_topic {
    const char *name;       /* "leads.v1" */
    const char *event_type; /* the `type` field of its events: "lead" */
    int is_input;           /* consumed by the worker */
} cadence_topic;

/* All topics, in DESIGN.md order; `*count` receives their number. */
const cadence_topic *cadence_topics_all(size_t *count);

/* The topic named `name`, or NULL. */
const cadence_topic *cadence_topic_find(const char *name);

/* The topic whose events have type `event_type`, or NULL. */
const cadence_topic *cadence_topic_find_by_type(const char *event_type);

#endif
