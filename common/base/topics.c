/*
 * topics — table of DESIGN.md §3.
 */
#include "base/topics.h"

#include <string.h>

static const cadence_topic topics[] = {
    {CADENCE_TOPIC_LEADS, "lead", 1},
    {CADENCE_TOPIC_SITE_VISITS, "site_visit", 1},
    {CADENCE_TOPIC_CALL_OUTCOMES, "call_outcome", 1},
    {CADENCE_TOPIC_ALERTS, "call_now", 0},
    {CADENCE_TOPIC_TOUCHES_DUE, "touch_due", 0},
    {CADENCE_TOPIC_LEAD_STATUS, "lead_status", 0},
    {CADENCE_TOPIC_DLQ, "dead_letter", 0},
};

const cadence_topic *cadence_topics_all(size_t *count)
{
    *count = sizeof(topics) / sizeof(topics[0]);
    return topics;
}

const cadence_topic *cadence_topic_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof(topics) / sizeof(topics[0]); i++)
        if (strcmp(topics[i].name, name) == 0)
            return &topics[i];
    return NULL;
}

const cadence_topic *cadence_topic_find_by_type(const char *event_type)
{
    for (size_t i = 0; event_type && i < sizeof(topics) / sizeof(topics[0]); i++)
        if (strcmp(topics[i].event_type, event_type) == 0)
            return &topics[i];
    return NULL;
}
