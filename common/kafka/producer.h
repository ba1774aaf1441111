/*
 * producer — the idempotent Kafka producer every service uses, driven by libevent.
 *
 * enable.idempotence=true and acks=all, so a message acknowledged is durable and never
 * duplicated by producer retries. Each message carries a delivery callback that runs on the
 * event-loop thread when Kafka acknowledged it (or finally failed); callers decide from it when
 * an input offset may be stored. librdkafka wakes the loop through a pipe (queue I/O events),
 * so delivery reports are served without polling.
 */
#ifndef CADENCE_PRODUCER_H
#define CADENCE_PRODUCER_H

#include <event2/event.h>
#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "core/config.h"

typedef struct cadence_producer cadence_producer;

/* Delivery result of one message: err is RD_KAFKA_RESP_ERR_NO_ERROR on success. */
typedef void (*cadence_producer_dr_fn)(void *opaque, rd_kafka_resp_err_t err, int32_t partition,
                                       int64_t offset);

/*
 * Creates the producer from the shared configuration (brokers, CADENCE_KAFKA_CONFIG) with
 * `client_id`. Borrows `base`. Returns NULL with errstr on failure.
 */
cadence_producer *cadence_producer_new(struct event_base *base, const cadence_config *cfg,
                                       const char *client_id, char *errstr, size_t errstr_size);

/*
 * Queues one message (key and value are copied). `cb` (may be NULL) runs once with the
 * delivery result. Returns 0, or -1 with errstr when librdkafka refused it immediately (e.g.
 * its queue is full: retry after some deliveries; unknown topic).
 */
int cadence_producer_send(cadence_producer *p, const char *topic, const char *key,
                          const void *value, size_t len, cadence_producer_dr_fn cb, void *opaque,
                          char *errstr, size_t errstr_size);

/* Messages queued or in flight, not yet reported. */
int cadence_producer_outstanding(const cadence_producer *p);

/* True once librdkafka raised a fatal error (the service must exit non-zero). */
int cadence_producer_fatal(const cadence_producer *p, char *why, size_t why_size);

/* Serves delivery reports now (normally the event loop does this by itself). */
void cadence_producer_poll(cadence_producer *p);

/* Waits up to `timeout_ms` for every outstanding message to be reported. 0 when all were. */
int cadence_producer_flush(cadence_producer *p, int timeout_ms);

/* The librdkafka handle (borrowed), e.g. for metadata queries. */
rd_kafka_t *cadence_producer_handle(cadence_producer *p);

/*
 * Frees the producer. Messages still outstanding are purged and their callbacks run with
 * RD_KAFKA_RESP_ERR__PURGE_QUEUE; flush first to deliver them. NULL is a no-op.
 */
void cadence_producer_free(cadence_producer *p);

#endif
