/*
 * consumer — the notifier's Kafka consumer of alerts.v1: its own group (CADENCE_GROUP_ID,
 * default cadence-notifier), cooperative-sticky assignment, offsets stored only when the owner
 * says an alert is finished, auto-committed every second and synchronously on revoke and close.
 *
 * librdkafka wakes the loop (kafka_wake) when messages or rebalance events are queued; each
 * message is handed to the owner at once. The owner may pause consumption (too many alerts in
 * hand): owned partitions are paused and the group is still served, so a long receiver outage
 * does not make the consumer leave the group.
 */
#ifndef CADENCE_NOTIFIER_CONSUMER_H
#define CADENCE_NOTIFIER_CONSUMER_H

#include <event2/event.h>
#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "core/config.h"

typedef struct notifier_consumer notifier_consumer;

typedef struct notifier_consumer_ops {
    /* A message (owned by the callee: rd_kafka_message_destroy). */
    void (*message)(void *arg, rd_kafka_message_t *m);
    /* Partitions now owned (before any of their messages). */
    void (*assigned)(void *arg, const rd_kafka_topic_partition_list_t *parts);
    /* Partitions given up or lost; called after the stored offsets were committed. */
    void (*revoked)(void *arg, const rd_kafka_topic_partition_list_t *parts);
} notifier_consumer_ops;

notifier_consumer *notifier_consumer_new(struct event_base *base, const cadence_config *cfg,
                                         const char *topic, const notifier_consumer_ops *ops,
                                         void *arg, char *errstr, size_t errstr_size);

/* Stores `offset` (the next to read) of `partition` for the next commit. */
void notifier_consumer_store(notifier_consumer *c, int32_t partition, int64_t offset);

/* Pauses (1) or resumes (0) fetching. */
void notifier_consumer_pause(notifier_consumer *c, int pause);

/* Stops handing out messages (the drain): later ones are dropped unstored. */
void notifier_consumer_stop(notifier_consumer *c);

/* True when a broker answered recently; `why` says what is wrong otherwise. */
int notifier_consumer_healthy(const notifier_consumer *c, char *why, size_t why_size);

int notifier_consumer_fatal(const notifier_consumer *c);

/* Commits stored offsets and leaves the group, bounded by `timeout_ms`; then frees. */
void notifier_consumer_free(notifier_consumer *c, int timeout_ms);

#endif
