/* stats — see stats.h. */
#include "store/stats.h"
#include "store/keys.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EPOCH_JULIAN 719163 /* GDate's Julian day of 1970-01-01 */
#define DAY_S 86400LL

/* The value of `n` decimal digits (already checked to be digits). */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

int64_t cadence_store_stats_day_number(const char *day)
{
    if (!day || strlen(day) != 10 || day[4] != '-' || day[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (day[i] < '0' || day[i] > '9'))
            return -1;
    int y = digits(day, 4), m = digits(day + 5, 2), d = digits(day + 8, 2);
    if (y < 1970 || !g_date_valid_dmy((GDateDay)d, (GDateMonth)m, (GDateYear)y))
        return -1;
    GDate date;
    g_date_clear(&date, 1);
    g_date_set_dmy(&date, (GDateDay)d, (GDateMonth)m, (GDateYear)y);
    return (int64_t)g_date_get_julian(&date) - EPOCH_JULIAN;
}

int cadence_store_stats_day_valid(const char *day)
{
    return cadence_store_stats_day_number(day) >= 0;
}

void cadence_store_stats_day_text(int64_t n, char out[11])
{
    GDate date;
    g_date_clear(&date, 1);
    g_date_set_julian(&date, (guint32)(n + EPOCH_JULIAN));
    snprintf(out, 11, "%04u-%02u-%02u", (unsigned)g_date_get_year(&date) % 10000,
             (unsigned)g_date_get_month(&date) % 100, (unsigned)g_date_get_day(&date) % 100);
}

const char *cadence_store_stats_field(char *buf, size_t size, const char *rep, const char *name)
{
    if (rep)
        snprintf(buf, size, "%s%c%s", rep, CADENCE_STORE_STATS_REP_SEP, name);
    else
        snprintf(buf, size, "%s", name);
    return buf;
}

int64_t cadence_store_stats_expire_at(const char *day, long retention_days)
{
    int64_t n = cadence_store_stats_day_number(day);
    if (n < 0 || retention_days <= 0)
        return 0;
    return (n + retention_days + 2) * DAY_S;
}

/* ------------------------------------------------------------------ reads */

struct read {
    cadence_redis *r;
    uint32_t shards;
    int64_t from;
    size_t n_days;
    size_t next; /* next (day × shards + shard) to read */
    char rep[72];
    int all;
    cadence_store_stats_cell_cb each;
    cadence_store_stats_done_cb done;
    void *arg;
};

static enum cadence_redis_status send_chunk(struct read *rd);

static void on_chunk(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    struct read *rd = arg;
    if (error || !reply || reply->type != REDIS_REPLY_ARRAY) {
        rd->done(error ? error : "stats read: unexpected reply", rd->arg);
        free(rd);
        return;
    }
    size_t base = rd->next - reply->elements;
    size_t rep_len = strlen(rd->rep);
    for (size_t i = 0; i < reply->elements; i++) {
        const redisReply *h = reply->element[i];
        if (h->type != REDIS_REPLY_ARRAY)
            continue;
        cadence_store_stats_cell c = {.day = (base + i) / rd->shards};
        for (size_t k = 0; k + 1 < h->elements; k += 2) {
            const redisReply *f = h->element[k], *v = h->element[k + 1];
            if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
                continue;
            const char *sep = memchr(f->str, CADENCE_STORE_STATS_REP_SEP, f->len);
            if (!sep)
                continue;
            c.rep = f->str;
            c.rep_len = (size_t)(sep - f->str);
            if (!rd->all && (c.rep_len != rep_len || memcmp(c.rep, rd->rep, rep_len) != 0))
                continue;
            c.counter = sep + 1;
            c.counter_len = f->len - c.rep_len - 1;
            c.value = strtoll(v->str, NULL, 10);
            rd->each(&c, rd->arg);
        }
    }
    if (rd->next >= rd->n_days * rd->shards) {
        rd->done(NULL, rd->arg);
        free(rd);
        return;
    }
    enum cadence_redis_status st = send_chunk(rd);
    if (st != CADENCE_REDIS_OK) {
        rd->done(cadence_redis_status_name(st), rd->arg);
        free(rd);
    }
}

static enum cadence_redis_status send_chunk(struct read *rd)
{
    cadence_redis_batch *b = cadence_redis_batch_new();
    if (!b)
        return CADENCE_REDIS_NOMEM;
    size_t total = rd->n_days * rd->shards, start = rd->next;
    for (size_t i = start; i < total && i - start < CADENCE_STORE_STATS_READ_CHUNK; i++) {
        char day[11], key[CADENCE_KEY_MAX];
        cadence_store_stats_day_text(rd->from + (int64_t)(i / rd->shards), day);
        cadence_keys_stats_day(key, (uint32_t)(i % rd->shards), day);
        const char *argv[] = {"HGETALL", key};
        if (cadence_redis_batch_add_argv(b, 2, argv, NULL) != 0) {
            cadence_redis_batch_free(b);
            return CADENCE_REDIS_NOMEM;
        }
        rd->next = i + 1;
    }
    enum cadence_redis_status st = cadence_redis_batch_send(rd->r, b, on_chunk, rd);
    cadence_redis_batch_free(b);
    if (st != CADENCE_REDIS_OK)
        rd->next = start;
    return st;
}

enum cadence_redis_status cadence_store_read_stats(cadence_redis *r, uint32_t shards,
                                                   const char *from_day, size_t n_days,
                                                   const char *rep,
                                                   cadence_store_stats_cell_cb each,
                                                   cadence_store_stats_done_cb done, void *arg)
{
    int64_t from = cadence_store_stats_day_number(from_day);
    if (from < 0 || n_days < 1 || shards < 1 || !each || !done || (rep && strlen(rep) > 64))
        return CADENCE_REDIS_INVALID;
    struct read *rd = calloc(1, sizeof(*rd));
    if (!rd)
        return CADENCE_REDIS_NOMEM;
    *rd = (struct read){.r = r,
                        .shards = shards,
                        .from = from,
                        .n_days = n_days,
                        .all = rep == NULL,
                        .each = each,
                        .done = done,
                        .arg = arg};
    if (rep)
        snprintf(rd->rep, sizeof rd->rep, "%s", rep);
    enum cadence_redis_status st = send_chunk(rd);
    if (st != CADENCE_REDIS_OK)
        free(rd);
    return st;
}
