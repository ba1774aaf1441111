/*
 * dead_letter — what the worker sends to the dead-letter topic for an input it cannot apply:
 * the record of dead_letter.v1 (where it came from, why, and the payload as it was — as text
 * when it is UTF-8 without NULs, else base64) and its Kafka key. Producing it is the
 * pipeline's (with kafka/redeliver.h, like every output).
 */
#ifndef CADENCE_WORKER_DEAD_LETTER_H
#define CADENCE_WORKER_DEAD_LETTER_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

/* Longest reason a dead letter carries, in bytes (longer ones are cut). */
#define WORKER_DEAD_LETTER_ERROR_MAX 2000

/*
 * The dead-letter record of message `m` (borrowed) refused for `error` (NULL: "invalid"),
 * stamped `now_ms` (Unix ms), as compact JSON. Returns a new string the caller frees; aborts
 * on out of memory.
 */
char *worker_dead_letter_json(const rd_kafka_message_t *m, const char *error, int64_t now_ms);

/* The dead letter's Kafka key: the input's key when it has one (a new string the caller
 * frees), else NULL. */
char *worker_dead_letter_key(const rd_kafka_message_t *m);

#endif
