/*
 * notifier — alerts, destinations, deliveries, offsets. See notifier.h.
 */
#include "base/id.h"
#include "base/clock.h"
#include "notifier.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/tzcache.h"
#include "core/log.h"
#include "kafka/redeliver.h"
#include "render.h"
#include "base/topics.h"

#define MAX_DESTS 32          /* destinations one alert can go to */
#define DLQ_RETRY_MS 1000     /* a dead letter refused or not acknowledged is sent again after */
#define ALERT_MAX_BYTES 65536 /* larger alerts.v1 messages are dead-lettered unread */

struct dest;
struct alert;

struct delivery {
    struct alert *alert;
    struct dest *dest;      /* NULL for a DLQ of the alert itself (unreadable) */
    struct delivery *qnext; /* in the destination's queue */
    int attempts;
    int64_t first_ms; /* monotonic time of the first attempt */
    char last_error[400];
    int index;
};

struct alert {
    struct alert *prev, *next;
    notifier *n;
    rd_kafka_message_t *msg;
    json_t *ev;
    char alert_id[65];
    long revision;
    char *slack_body; /* rendered on first use */
    int32_t partition;
    int64_t offset;
    uint64_t gen;
    int remaining; /* deliveries not finished */
    int dead;      /* deliveries dead-lettered */
    int n_deliveries;
    struct delivery deliveries[];
};

struct dest {
    struct dest *next_all;
    notifier *n;
    enum notifier_kind kind;
    char *url, *secret, *label;
    struct delivery *head, *tail;
    int inflight;
    size_t queued;
    int64_t next_at; /* monotonic ms: nothing is sent before */
    struct event *timer;
};

/* Offsets of one partition read and not yet stored, in order. */
struct part {
    uint64_t gen;
    int64_t *offs;
    unsigned char *done;
    size_t head, len, cap;
};

struct notifier {
    notifier_deps d;
    notifier_consumer *consumer;
    notifier_routes *routes;
    cadence_tzcache *tz;
    cadence_redeliver *dlq; /* produces dead letters until Kafka has them */
    struct dest *dests;
    struct alert *alerts;
    size_t pending;
    struct part *parts;
    size_t n_parts;
    uint64_t next_gen;
    int paused, draining, closing;
    void (*drain_done)(void *);
    void *drain_arg;
};

/* ------------------------------------------------------------------ metrics */

static const double seconds_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                         0.5,   1,      2.5,   5,    10,    30,   60};

static void declare_metrics(cadence_metrics *m)
{
    cadence_metrics_declare(m, "cadence_notifier_alerts_total", CADENCE_METRIC_COUNTER,
                            "Alerts read, by result (delivered, dead_lettered, unrouted)", NULL, 0);
    cadence_metrics_declare(m, "cadence_notifier_requests_total", CADENCE_METRIC_COUNTER,
                            "Delivery requests by destination kind and outcome (ok, retry, "
                            "rejected, gave_up)",
                            NULL, 0);
    cadence_metrics_declare(m, "cadence_notifier_dlq_total", CADENCE_METRIC_COUNTER,
                            "Deliveries dead-lettered to cadence-dlq.v1", NULL, 0);
    cadence_metrics_declare(m, "cadence_notifier_pending", CADENCE_METRIC_GAUGE,
                            "Alerts read and not yet finished", NULL, 0);
    cadence_metrics_declare(m, "cadence_notifier_queued", CADENCE_METRIC_GAUGE,
                            "Deliveries waiting in destination queues (rate limit, backoff)", NULL,
                            0);
    cadence_metrics_declare(m, "cadence_notifier_routes", CADENCE_METRIC_GAUGE, "Routes in use",
                            NULL, 0);
    cadence_metrics_declare(m, "cadence_notifier_route_reloads_total", CADENCE_METRIC_COUNTER,
                            "Routes file reloads (SIGHUP) by result (ok, refused)", NULL, 0);
    cadence_metrics_declare(m, "cadence_notifier_delivery_seconds", CADENCE_METRIC_HISTOGRAM,
                            "From the alert's Kafka timestamp to the destination's 2xx",
                            seconds_buckets, sizeof(seconds_buckets) / sizeof(seconds_buckets[0]));
}

static void count(notifier *n, const char *name, const char *k1, const char *v1, const char *k2,
                  const char *v2)
{
    char labels[160] = "";
    if (k1 && k2)
        snprintf(labels, sizeof(labels), "%s=\"%s\",%s=\"%s\"", k1, v1, k2, v2);
    else if (k1)
        snprintf(labels, sizeof(labels), "%s=\"%s\"", k1, v1);
    cadence_metrics_add(n->d.metrics, name, labels[0] ? labels : NULL, 1);
}

static void update_gauges(notifier *n)
{
    size_t queued = 0;
    for (struct dest *d = n->dests; d; d = d->next_all)
        queued += d->queued;
    cadence_metrics_set(n->d.metrics, "cadence_notifier_pending", NULL, (double)n->pending);
    cadence_metrics_set(n->d.metrics, "cadence_notifier_queued", NULL, (double)queued);
}

/* ------------------------------------------------------------------ offsets */

static struct part *part_of(notifier *n, int32_t p)
{
    if (p < 0)
        return NULL;
    if ((size_t)p >= n->n_parts) {
        size_t cnt = (size_t)p + 1;
        struct part *v = realloc(n->parts, cnt * sizeof(*v));
        if (!v)
            abort();
        memset(v + n->n_parts, 0, (cnt - n->n_parts) * sizeof(*v));
        n->parts = v;
        n->n_parts = cnt;
    }
    return &n->parts[p];
}

static void part_reset(notifier *n, struct part *pt)
{
    pt->gen = ++n->next_gen;
    pt->head = pt->len = 0;
}

static void part_push(struct part *pt, int64_t off)
{
    if (pt->head + pt->len == pt->cap) {
        if (pt->head > 0) { /* compact */
            memmove(pt->offs, pt->offs + pt->head, pt->len * sizeof(*pt->offs));
            memmove(pt->done, pt->done + pt->head, pt->len);
            pt->head = 0;
        }
        if (pt->len == pt->cap) {
            size_t cap = pt->cap ? pt->cap * 2 : 256;
            int64_t *o = realloc(pt->offs, cap * sizeof(*o));
            if (!o)
                abort();
            pt->offs = o;
            unsigned char *d = realloc(pt->done, cap);
            if (!d)
                abort();
            pt->done = d;
            pt->cap = cap;
        }
    }
    pt->offs[pt->head + pt->len] = off;
    pt->done[pt->head + pt->len] = 0;
    pt->len++;
}

/* Marks `off` finished; returns the offset to store (next to read), or -1 when none moved. */
static int64_t part_finish(struct part *pt, int64_t off)
{
    size_t lo = pt->head, hi = pt->head + pt->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pt->offs[mid] < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo >= pt->head + pt->len || pt->offs[lo] != off)
        return -1;
    pt->done[lo] = 1;
    int64_t store = -1;
    while (pt->len > 0 && pt->done[pt->head]) {
        store = pt->offs[pt->head] + 1;
        pt->head++;
        pt->len--;
    }
    return store;
}

/* ------------------------------------------------------------------ alerts */

static void pump(struct dest *d);

static void set_paused(notifier *n)
{
    if (!n->consumer)
        return;
    size_t max = (size_t)n->d.cfg->notify_max_pending;
    if (!n->paused && n->pending >= max) {
        n->paused = 1;
        notifier_consumer_pause(n->consumer, 1);
    } else if (n->paused && n->pending <= max - max / 4 && !n->draining) {
        n->paused = 0;
        notifier_consumer_pause(n->consumer, 0);
    }
}

static void alert_free(struct alert *a)
{
    if (a->msg)
        rd_kafka_message_destroy(a->msg);
    json_decref(a->ev);
    free(a->slack_body);
    free(a);
}

static void alert_finished(struct alert *a, const char *result)
{
    notifier *n = a->n;
    count(n, "cadence_notifier_alerts_total", "result", result, NULL, NULL);
    struct part *pt = part_of(n, a->partition);
    if (pt && pt->gen == a->gen) {
        int64_t store = part_finish(pt, a->offset);
        if (store >= 0 && n->consumer)
            notifier_consumer_store(n->consumer, a->partition, store);
    }
    if (a->prev)
        a->prev->next = a->next;
    else
        n->alerts = a->next;
    if (a->next)
        a->next->prev = a->prev;
    n->pending--;
    alert_free(a);
    update_gauges(n);
    set_paused(n);
    if (n->draining && n->pending == 0 && n->drain_done) {
        void (*done)(void *) = n->drain_done;
        n->drain_done = NULL;
        done(n->drain_arg);
    }
}

/* One delivery finished (2xx or dead-lettered). */
static void delivery_finished(struct delivery *dv, int dead)
{
    struct alert *a = dv->alert;
    if (dead)
        a->dead++;
    a->remaining--;
    if (a->remaining == 0)
        alert_finished(a, a->dead ? "dead_lettered" : "delivered");
}

/* ------------------------------------------------------------------ DLQ */

/* The redeliverer sends a dead letter again (kafka/redeliver.h): refused by the producer at
 * once, or not acknowledged by Kafka. */
static void on_dlq_retry(void *arg, const char *topic, int refused, rd_kafka_resp_err_t err)
{
    struct delivery *dv = arg;
    if (dv->alert->n->closing)
        return;
    char why[256];
    snprintf(why, sizeof(why), "produce to %s: %s", topic, rd_kafka_err2str(err));
    cadence_log_json(CADENCE_LOG_WARN,
                     refused ? "dead letter not queued; trying again"
                             : "dead letter not acknowledged; trying again",
                     json_pack("{s:s,s:s}", "alert_id", dv->alert->alert_id, "error",
                               refused ? why : rd_kafka_err2str(err)));
}

/* Kafka acknowledged the dead letter: only now is the delivery finished (and the alert's offset
 * may be stored). A purge (the producer freed while the service tears down) leaves it
 * unfinished: the alert is read again on restart. */
static void on_dlq_done(void *arg, rd_kafka_resp_err_t err)
{
    struct delivery *dv = arg;
    notifier *n = dv->alert->n;
    if (n->closing)
        return;
    if (err) {
        cadence_log_json(CADENCE_LOG_WARN, "dead letter not produced; its alert is read again",
                         json_pack("{s:s,s:s}", "alert_id", dv->alert->alert_id, "error",
                                   rd_kafka_err2str(err)));
        return;
    }
    cadence_metrics_add(n->d.metrics, "cadence_notifier_dlq_total", NULL, 1);
    delivery_finished(dv, 1);
}

/* Dead-letters one delivery: the alert's bytes, its position, the destination, the error. */
static void dead_letter(struct delivery *dv, const char *error)
{
    notifier *n = dv->alert->n;
    const rd_kafka_message_t *m = dv->alert->msg;
    char id[65], at[40], text[2001];
    snprintf(id, sizeof(id), "ntf:%d:%lld:%d", (int)m->partition, (long long)m->offset, dv->index);
    int64_t now = cadence_clock_now_ms();
    cadence_rfc3339_format(now - now % 1000, at, sizeof(at));
    if (dv->dest)
        snprintf(text, sizeof(text), "notifier: %s %s: %s", notifier_kind_name(dv->dest->kind),
                 dv->dest->label, error);
    else
        snprintf(text, sizeof(text), "notifier: %s", error);
    const char *bytes = m->payload ? (const char *)m->payload : "";
    int utf8 = memchr(bytes, '\0', m->len) == NULL && g_utf8_validate(bytes, (gssize)m->len, NULL);
    char *payload =
        utf8 ? g_strndup(bytes, m->len) : g_base64_encode((const guchar *)bytes, m->len);
    json_t *key = m->key && g_utf8_validate(m->key, (gssize)m->key_len, NULL)
                      ? json_stringn(m->key, m->key_len)
                      : json_null();
    json_t *v = json_pack("{s:s,s:s,s:s,s:{s:s,s:i,s:I},s:s,s:o,s:s,s:s}", "event_id", id, "type",
                          "dead_letter", "occurred_at", at, "source", "topic", CADENCE_TOPIC_ALERTS,
                          "partition", (int)m->partition, "offset", (json_int_t)m->offset, "error",
                          text, "key", key ? key : json_null(), "payload", payload,
                          "payload_encoding", utf8 ? "utf-8" : "base64");
    g_free(payload);
    char *letter = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (!letter) {
        cadence_log_json(CADENCE_LOG_ERROR, "out of memory building a dead letter", NULL);
        abort();
    }
    cadence_log_json(CADENCE_LOG_WARN, "delivery dead-lettered",
                     json_pack("{s:s,s:s,s:i}", "alert_id", dv->alert->alert_id, "error", text,
                               "attempts", dv->attempts));
    char k[300] = "";
    if (m->key && m->key_len < sizeof(k)) {
        memcpy(k, m->key, m->key_len);
        k[m->key_len] = '\0';
    }
    cadence_redeliver_send(n->dlq, CADENCE_TOPIC_DLQ, k[0] ? k : NULL, letter, strlen(letter),
                           on_dlq_done, dv);
    free(letter);
}

/* ------------------------------------------------------------------ destinations */

static void dest_label(enum notifier_kind kind, const char *url, char *out, size_t n)
{
    if (kind == NOTIFIER_WEBHOOK) {
        snprintf(out, n, "%s", url);
        return;
    }
    /* A Slack webhook URL is itself a secret: keep the host and the last 4 characters. */
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    size_t hl = strcspn(host, "/");
    size_t len = strlen(url);
    snprintf(out, n, "%.*s/…%s", (int)(host - url + (long)hl), url, len > 4 ? url + len - 4 : "");
}

static void on_dest_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    pump(arg);
}

static struct dest *dest_get(notifier *n, const notifier_route *r)
{
    for (struct dest *d = n->dests; d; d = d->next_all)
        if (d->kind == r->kind && strcmp(d->url, r->url) == 0)
            return d;
    struct dest *d = calloc(1, sizeof(*d));
    if (!d)
        abort();
    d->n = n;
    d->kind = r->kind;
    d->url = strdup(r->url);
    d->secret = r->secret ? strdup(r->secret) : NULL;
    char label[600];
    dest_label(r->kind, r->url, label, sizeof(label));
    d->label = strdup(label);
    d->timer = evtimer_new(n->d.base, on_dest_timer, d);
    if (!d->url || !d->label || !d->timer || (r->secret && !d->secret))
        abort();
    d->next_all = n->dests;
    n->dests = d;
    return d;
}

static void dest_push(struct dest *d, struct delivery *dv, int front)
{
    dv->qnext = NULL;
    if (front) {
        dv->qnext = d->head;
        d->head = dv;
        if (!d->tail)
            d->tail = dv;
    } else {
        if (d->tail)
            d->tail->qnext = dv;
        else
            d->head = dv;
        d->tail = dv;
    }
    d->queued++;
}

static struct delivery *dest_pop(struct dest *d)
{
    struct delivery *dv = d->head;
    if (!dv)
        return NULL;
    d->head = dv->qnext;
    if (!d->head)
        d->tail = NULL;
    dv->qnext = NULL;
    d->queued--;
    return dv;
}

/* ------------------------------------------------------------------ requests */

static void on_response(void *arg, const notifier_http_result *r);

static long interval_of(const struct dest *d)
{
    return d->kind == NOTIFIER_SLACK ? d->n->d.cfg->notify_slack_interval_ms
                                     : d->n->d.cfg->notify_webhook_interval_ms;
}

static int send_one(struct delivery *dv)
{
    struct dest *d = dv->dest;
    struct alert *a = dv->alert;
    notifier *n = a->n;
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
    const char *body;
    size_t len;
    if (d->kind == NOTIFIER_SLACK) {
        if (!a->slack_body) {
            json_t *msg =
                notifier_slack_message(a->ev, n->d.cfg->console_url, cadence_clock_now_ms(), n->tz);
            a->slack_body = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
            json_decref(msg);
            if (!a->slack_body)
                abort();
        }
        body = a->slack_body;
        len = strlen(body);
    } else {
        body = a->msg->payload ? (const char *)a->msg->payload : "";
        len = a->msg->len;
        char key[100], line[400], sig[200];
        notifier_idempotency_key(a->alert_id, a->revision, key, sizeof(key));
        snprintf(line, sizeof(line), "Idempotency-Key: %s", key);
        h = curl_slist_append(h, line);
        if (notifier_sign(d->secret, (long long)(cadence_clock_now_ms() / 1000), body, len, sig,
                          sizeof(sig)) != 0)
            abort();
        snprintf(line, sizeof(line), "X-Cadence-Signature: %s", sig);
        h = curl_slist_append(h, line);
        snprintf(line, sizeof(line), "X-Cadence-Alert-Id: %s", a->alert_id);
        h = curl_slist_append(h, line);
        snprintf(line, sizeof(line), "X-Cadence-Alert-Revision: %ld", a->revision);
        h = curl_slist_append(h, line);
        snprintf(line, sizeof(line), "X-Cadence-Delivery-Attempt: %d", dv->attempts + 1);
        h = curl_slist_append(h, line);
    }
    if (!h)
        abort();
    if (dv->first_ms == 0)
        dv->first_ms = cadence_clock_mono_ms();
    return notifier_http_post(n->d.http, d->url, h, body, len, on_response, dv);
}

static void pump(struct dest *d)
{
    notifier *n = d->n;
    if (n->closing)
        return;
    while (d->head && d->inflight < n->d.cfg->notify_concurrency) {
        int64_t now = cadence_clock_mono_ms();
        if (now < d->next_at) {
            int64_t wait = d->next_at - now;
            struct timeval tv = {(time_t)(wait / 1000), (suseconds_t)((wait % 1000) * 1000)};
            evtimer_add(d->timer, &tv);
            break;
        }
        struct delivery *dv = dest_pop(d);
        if (send_one(dv) != 0) {
            snprintf(dv->last_error, sizeof(dv->last_error), "could not start the request");
            dest_push(d, dv, 1);
            d->next_at = now + n->d.cfg->notify_retry_base_ms;
            continue;
        }
        d->inflight++;
        long interval = interval_of(d);
        if (interval > 0)
            d->next_at = now + interval;
    }
    update_gauges(n);
}

static void retry_or_give_up(struct delivery *dv, int64_t retry_after_ms)
{
    struct dest *d = dv->dest;
    notifier *n = d->n;
    int64_t now = cadence_clock_mono_ms();
    dv->attempts++;
    if (now - dv->first_ms >= n->d.cfg->notify_retry_budget_s * 1000) {
        count(n, "cadence_notifier_requests_total", "kind", notifier_kind_name(d->kind), "outcome",
              "gave_up");
        char why[600];
        snprintf(why, sizeof(why), "gave up after %d attempts over %llds: %s", dv->attempts,
                 (long long)((now - dv->first_ms) / 1000), dv->last_error);
        dead_letter(dv, why);
        return;
    }
    int64_t delay = retry_after_ms >= 0
                        ? retry_after_ms
                        : notifier_backoff_ms(dv->attempts, n->d.cfg->notify_retry_base_ms,
                                              n->d.cfg->notify_retry_max_ms, g_random_int());
    if (d->next_at < now + delay)
        d->next_at = now + delay;
    count(n, "cadence_notifier_requests_total", "kind", notifier_kind_name(d->kind), "outcome",
          "retry");
    cadence_log_json(CADENCE_LOG_WARN, "delivery failed; will retry",
                     json_pack("{s:s,s:s,s:s,s:s,s:i,s:I}", "alert_id", dv->alert->alert_id, "kind",
                               notifier_kind_name(d->kind), "destination", d->label, "error",
                               dv->last_error, "attempt", dv->attempts, "retry_in_ms",
                               (json_int_t)delay));
    dest_push(d, dv, 1);
}

static void on_response(void *arg, const notifier_http_result *r)
{
    struct delivery *dv = arg;
    struct dest *d = dv->dest;
    notifier *n = d->n;
    d->inflight--;
    if (n->closing)
        return;
    if (r->code == CURLE_OK && r->status >= 200 && r->status < 300) {
        count(n, "cadence_notifier_requests_total", "kind", notifier_kind_name(d->kind), "outcome",
              "ok");
        rd_kafka_timestamp_type_t tt;
        int64_t ts = rd_kafka_message_timestamp(dv->alert->msg, &tt);
        if (ts > 0)
            cadence_metrics_observe(n->d.metrics, "cadence_notifier_delivery_seconds", NULL,
                                    (double)(cadence_clock_now_ms() - ts) / 1000.0);
        cadence_log_json(CADENCE_LOG_DEBUG, "delivered",
                         json_pack("{s:s,s:s,s:i}", "alert_id", dv->alert->alert_id, "kind",
                                   notifier_kind_name(d->kind), "attempts", dv->attempts + 1));
        delivery_finished(dv, 0);
    } else {
        if (r->code != CURLE_OK)
            snprintf(dv->last_error, sizeof(dv->last_error), "%s", r->error);
        else
            snprintf(dv->last_error, sizeof(dv->last_error), "HTTP %ld: %.200s", r->status,
                     r->body);
        int retryable = r->code != CURLE_OK || r->status >= 500 || r->status == 429 ||
                        r->status == 408 || r->status < 200;
        if (retryable) {
            int64_t ra = -1;
            if (r->status == 429 || r->status == 503)
                ra = notifier_retry_after_ms(r->retry_after,
                                             (long long)(cadence_clock_now_ms() / 1000));
            retry_or_give_up(dv, ra);
        } else {
            dv->attempts++;
            count(n, "cadence_notifier_requests_total", "kind", notifier_kind_name(d->kind),
                  "outcome", "rejected");
            char why[600];
            snprintf(why, sizeof(why), "refused (not retried): %s", dv->last_error);
            dead_letter(dv, why);
        }
    }
    pump(d);
}

/* ------------------------------------------------------------------ consumer callbacks */

/* An id as alerts.v1 defines it: [A-Za-z0-9._:-]{1,64}. The alert_id goes into HTTP headers,
 * so nothing else (no CR/LF) may pass. */
static int valid_id(const json_t *v)
{
    const char *s = json_string_value(v);
    return s && cadence_id_valid(s);
}

static void on_message(void *arg, rd_kafka_message_t *m)
{
    notifier *n = arg;
    struct part *pt = part_of(n, m->partition);
    if (!pt) {
        rd_kafka_message_destroy(m);
        return;
    }
    part_push(pt, m->offset);

    /* The fields the notifier needs; the worker produced and validated the rest. */
    json_t *ev = NULL;
    const char *why = NULL;
    json_error_t je;
    if (m->len > ALERT_MAX_BYTES)
        why = "alert larger than 64 KiB";
    else if (!(ev = json_loadb(m->payload ? m->payload : "", m->len, JSON_REJECT_DUPLICATES, &je)))
        why = "not JSON";
    else if (!json_is_object(ev) || !valid_id(json_object_get(ev, "alert_id")) ||
             !valid_id(json_object_get(ev, "rep_id")) || !valid_id(json_object_get(ev, "lead_id")))
        why = "not an alert: alert_id, rep_id and lead_id must be ids ([A-Za-z0-9._:-], 1 to 64)";

    const notifier_route *routes[MAX_DESTS];
    size_t nd =
        why ? 1
            : notifier_routes_match(n->routes, json_string_value(json_object_get(ev, "rep_id")),
                                    routes, MAX_DESTS);
    struct alert *a = calloc(1, sizeof(*a) + (nd ? nd : 1) * sizeof(struct delivery));
    if (!a)
        abort();
    a->n = n;
    a->msg = m;
    a->ev = ev;
    a->partition = m->partition;
    a->offset = m->offset;
    a->gen = pt->gen;
    a->revision = ev ? notifier_alert_revision(ev) : 1;
    snprintf(a->alert_id, sizeof(a->alert_id), "%s",
             why ? "?" : json_string_value(json_object_get(ev, "alert_id")));
    a->n_deliveries = (int)nd;
    a->remaining = (int)nd;
    a->next = n->alerts;
    if (n->alerts)
        n->alerts->prev = a;
    n->alerts = a;
    n->pending++;
    set_paused(n);

    if (why) {
        a->deliveries[0].alert = a;
        cadence_log_json(CADENCE_LOG_WARN, "unreadable alert",
                         json_pack("{s:s,s:i,s:I}", "error", why, "partition", (int)m->partition,
                                   "offset", (json_int_t)m->offset));
        dead_letter(&a->deliveries[0], why);
        return;
    }
    if (nd == 0) {
        cadence_log_json(CADENCE_LOG_INFO, "no route for the alert's rep",
                         json_pack("{s:s,s:s}", "alert_id", a->alert_id, "rep_id",
                                   json_string_value(json_object_get(ev, "rep_id"))));
        alert_finished(a, "unrouted");
        return;
    }
    for (size_t i = 0; i < nd; i++) {
        struct delivery *dv = &a->deliveries[i];
        dv->alert = a;
        dv->index = (int)i;
        dv->dest = dest_get(n, routes[i]);
        dest_push(dv->dest, dv, 0);
    }
    for (size_t i = 0; i < nd; i++)
        pump(a->deliveries[i].dest);
}

static void on_assigned(void *arg, const rd_kafka_topic_partition_list_t *parts)
{
    notifier *n = arg;
    for (int i = 0; i < parts->cnt; i++) {
        struct part *pt = part_of(n, parts->elems[i].partition);
        if (pt)
            part_reset(n, pt);
    }
}

static void on_revoked(void *arg, const rd_kafka_topic_partition_list_t *parts)
{
    /* Alerts of these partitions still in hand are finished but no longer stored: the new
     * owner reads them again from the committed offset (same Idempotency-Key). */
    on_assigned(arg, parts);
}

const notifier_consumer_ops notifier_consumer_callbacks = {on_message, on_assigned, on_revoked};

/* ------------------------------------------------------------------ lifecycle */

static void use_routes(notifier *n, notifier_routes *r)
{
    notifier_routes_free(n->routes);
    n->routes = r;
    /* A destination's secret follows the file (retries are signed with the new one). */
    for (size_t i = 0; i < r->n; i++) {
        struct dest *d = dest_get(n, &r->v[i]);
        if (r->v[i].secret && (!d->secret || strcmp(d->secret, r->v[i].secret) != 0)) {
            free(d->secret);
            d->secret = strdup(r->v[i].secret);
            if (!d->secret)
                abort();
        }
    }
    cadence_metrics_set(n->d.metrics, "cadence_notifier_routes", NULL, (double)r->n);
}

notifier *notifier_new(const notifier_deps *deps, notifier_routes *routes, char *errstr,
                       size_t errstr_size)
{
    notifier *n = calloc(1, sizeof(*n));
    if (!n) {
        snprintf(errstr, errstr_size, "out of memory");
        notifier_routes_free(routes);
        return NULL;
    }
    n->d = *deps;
    const cadence_redeliver_policy dlq = {DLQ_RETRY_MS, DLQ_RETRY_MS, on_dlq_retry};
    n->dlq = cadence_redeliver_new(deps->base, deps->producer, &dlq, errstr, errstr_size);
    if (!n->dlq) {
        free(n);
        notifier_routes_free(routes);
        return NULL;
    }
    n->tz = cadence_tzcache_new();
    declare_metrics(n->d.metrics);
    use_routes(n, routes);
    return n;
}

void notifier_set_consumer(notifier *n, notifier_consumer *c)
{
    n->consumer = c;
}

int notifier_reload(notifier *n, const char *path, char *errstr, size_t errstr_size)
{
    notifier_routes *r = notifier_routes_load(path, errstr, errstr_size);
    if (!r) {
        count(n, "cadence_notifier_route_reloads_total", "result", "refused", NULL, NULL);
        return -1;
    }
    use_routes(n, r);
    count(n, "cadence_notifier_route_reloads_total", "result", "ok", NULL, NULL);
    return 0;
}

size_t notifier_route_count(const notifier *n)
{
    return n->routes ? n->routes->n : 0;
}

size_t notifier_pending(const notifier *n)
{
    return n->pending;
}

void notifier_drain(notifier *n, void (*done)(void *), void *arg)
{
    n->draining = 1;
    if (n->consumer) {
        notifier_consumer_stop(n->consumer);
        notifier_consumer_pause(n->consumer, 1);
    }
    if (n->pending == 0) {
        done(arg);
        return;
    }
    n->drain_done = done;
    n->drain_arg = arg;
    cadence_log_json(CADENCE_LOG_INFO, "draining: finishing the alerts in hand",
                     json_pack("{s:I}", "pending", (json_int_t)n->pending));
}

void notifier_shutdown(notifier *n)
{
    if (n)
        n->closing = 1;
}

void notifier_free(notifier *n)
{
    if (!n)
        return;
    n->closing = 1;
    cadence_redeliver_free(n->dlq); /* drops dead letters waiting to be sent again */
    while (n->alerts) {
        struct alert *a = n->alerts;
        n->alerts = a->next;
        alert_free(a);
    }
    while (n->dests) {
        struct dest *d = n->dests;
        n->dests = d->next_all;
        event_free(d->timer);
        free(d->url);
        free(d->secret);
        free(d->label);
        free(d);
    }
    for (size_t i = 0; i < n->n_parts; i++) {
        free(n->parts[i].offs);
        free(n->parts[i].done);
    }
    free(n->parts);
    notifier_routes_free(n->routes);
    cadence_tzcache_free(n->tz);
    free(n);
}
