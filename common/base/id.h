/*
 * id — the one id rule of cadence: event, lead, rep, task, message and alert ids, and the
 * playbook's names, all match ^[A-Za-z0-9._:-]{1,64}$. Keys and queue entries are built only
 * from ids that passed this check, so no input can name a Redis key outside its namespace.
 */
#ifndef CADENCE_ID_H
#define CADENCE_ID_H

/* Longest id, in bytes. */
#define CADENCE_ID_MAX_LEN 64
/* Size of a buffer holding any id, terminator included. */
#define CADENCE_ID_SIZE (CADENCE_ID_MAX_LEN + 1)
/* The rule, as the error messages and schemas spell it. */
#define CADENCE_ID_PATTERN "^[A-Za-z0-9._:-]{1,64}$"

/* 1 when `s` is an id (NULL is not), else 0. */
int cadence_id_valid(const char *s);

#endif
