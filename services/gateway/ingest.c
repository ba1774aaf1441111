/*
 * ingest — events in over HTTP, out to Kafka: our own JSON (POST /v1/events/<topic>, one event
 * or an array), Segment `page` / `identify` calls and Mautic `mautic.page_on_hit` webhooks.
 *
 * Every event is validated against schemas/<topic>.json before anything is produced; one
 * invalid event refuses the whole request (400 with each event's field-level messages), so a
 * request is all or nothing from the caller's side. Accepted events are produced with the
 * idempotent producer (key = lead_id, or the email of an email-only visit) and the request is
 * answered 202 only from the last delivery callback, once Kafka acknowledged every one. A
 * failed delivery answers 503: the caller retries the whole request, which is safe because the
 * worker drops duplicates by event_id (webhooks keep their own message ids as event ids for the
 * same reason). The request context outlives a client that hung up: libevent keeps the request
 * until we answer it, and then frees it.
 *
 * Credentials: our routes take an `ingest` bearer token, or `X-Cadence-Signature: t=<unix
 * seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with the secret of the source named by
 * `X-Cadence-Source`, within a 5-minute window. Segment signs with `X-Signature` (hex
 * HMAC-SHA1, secret `segment`), Mautic with `Webhook-Signature` (base64 HMAC-SHA256, secret
 * `mautic`).
 */
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/id.h"
#include "base/clock.h"
#include "gateway.h"
#include "webhook_map.h"
#include "store/writes.h"
#include "core/log.h"
#include "base/topics.h"

/* The replay window of X-Cadence-Signature's timestamp. */
#define INGEST_SIGNATURE_WINDOW_S 300
/* Events in one request. */
#define INGEST_MAX_EVENTS 1000

static const struct {
    const char *path;
    const char *topic;
} event_routes[] = {
    {"/v1/events/leads", CADENCE_TOPIC_LEADS},
    {"/v1/events/site-visits", CADENCE_TOPIC_SITE_VISITS},
    {"/v1/events/call-outcomes", CADENCE_TOPIC_CALL_OUTCOMES},
};

/* One request being produced. */
struct ingest_ctx {
    gateway *g;
    struct evhttp_request *req;
    const char *route;
    const char *topic;
    json_t *accepted; /* event ids */
    json_t *extra;    /* extra members of the 202 body (webhooks), or NULL */
    size_t pending;   /* deliveries and Redis writes outstanding */
    int failed;
    long long started_ns;
};

static void ctx_finish(struct ingest_ctx *c)
{
    gateway *g = c->g;
    if (c->failed) {
        gw_reply_error(g, c->req, c->route, 503,
                       "Kafka did not acknowledge every event; retry the request (duplicates "
                       "are dropped by event_id)");
    } else {
        char labels[64];
        snprintf(labels, sizeof(labels), "topic=\"%s\"", c->topic);
        cadence_metrics_add(g->metrics, GW_M_EVENTS, labels, (double)json_array_size(c->accepted));
        json_t *body = json_pack("{s:O}", "accepted", c->accepted);
        if (c->extra)
            json_object_update(body, c->extra);
        gw_reply(g, c->req, c->route, 202, body);
    }
    char labels[64];
    snprintf(labels, sizeof(labels), "route=\"%s\"", c->route);
    cadence_metrics_observe(g->metrics, GW_M_INGEST_SECONDS, labels,
                            (double)(cadence_clock_mono_ns() - c->started_ns) / 1e9);
    json_decref(c->accepted);
    json_decref(c->extra);
    free(c);
}

static void on_delivery(void *opaque, rd_kafka_resp_err_t err, int32_t partition, int64_t offset)
{
    (void)partition;
    (void)offset;
    struct ingest_ctx *c = opaque;
    if (err) {
        c->failed = 1;
        cadence_log_json(CADENCE_LOG_WARN, "ingest delivery failed",
                         json_pack("{s:s,s:s}", "topic", c->topic, "error", rd_kafka_err2str(err)));
    }
    if (--c->pending == 0)
        ctx_finish(c);
}

static void on_linked(const char *error, void *arg)
{
    struct ingest_ctx *c = arg;
    if (error) {
        c->failed = 1;
        cadence_log_json(CADENCE_LOG_WARN, "email link write failed",
                         json_pack("{s:s}", "error", error));
    }
    if (--c->pending == 0)
        ctx_finish(c);
}

/*
 * An error object for event `index` (-1: the whole body). With `split`, `msg` is the
 * validator's "<json pointer>: <rule>" and becomes path and message.
 */
static json_t *field_error(long index, const char *msg, int split)
{
    const char *sep = split ? strstr(msg, ": ") : NULL;
    json_t *idx = index < 0 ? json_null() : json_integer(index);
    if (sep)
        return json_pack("{s:o,s:s%,s:s}", "index", idx, "path", msg, (size_t)(sep - msg),
                         "message", sep + 2);
    return json_pack("{s:o,s:s,s:s}", "index", idx, "path", "", "message", msg);
}

/*
 * Validates every event of `events` (a JSON array, borrowed) against `topic`, then produces
 * them all and answers from the delivery callbacks; answers 400 with every error instead when
 * any is invalid. `links` (n_links of them, borrowed; may be NULL) are email links to write as
 * part of the request (identify calls), `extra` (stolen, may be NULL) members added to the
 * 202 body.
 */
static void produce_all(gateway *g, struct evhttp_request *req, const char *route,
                        const char *topic, json_t *events, const cadence_store_email_lead *links,
                        size_t n_links, json_t *extra, long long started_ns)
{
    size_t n = json_array_size(events);
    json_t *errors = json_array();
    char **texts = calloc(n ? n : 1, sizeof(*texts));
    if (!texts || !errors) {
        free(texts);
        json_decref(errors);
        json_decref(extra);
        gw_reply_error(g, req, route, 500, "out of memory");
        return;
    }
    size_t max = (size_t)g->cfg.max_body_bytes;
    /* Decided before producing anything: an event Kafka would refuse (message.max.bytes) or
     * over the event limit refuses the whole request with 413, naming its index. */
    size_t kafka_max = g->kafka_max_event_bytes ? g->kafka_max_event_bytes : max;
    json_t *too_large = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *ev = json_array_get(events, i);
        texts[i] = json_dumps(ev, JSON_COMPACT | JSON_ENCODE_ANY);
        size_t tlen = texts[i] ? strlen(texts[i]) : 0;
        if (tlen > max || tlen > kafka_max) {
            char msg[200];
            snprintf(msg, sizeof(msg),
                     "event of %zu bytes is larger than %s (%zu bytes); nothing was produced", tlen,
                     tlen > kafka_max ? "Kafka accepts (message.max.bytes)" : "the event limit",
                     tlen > kafka_max ? kafka_max : max);
            json_array_append_new(too_large, field_error((long)i, msg, 0));
            continue;
        }
        char why[512];
        enum cadence_schema_status st =
            texts[i] ? cadence_schemas_check(g->schemas, topic, texts[i], strlen(texts[i]), max,
                                             NULL, why, sizeof(why))
                     : CADENCE_SCHEMA_NOT_JSON;
        if (st != CADENCE_SCHEMA_OK)
            json_array_append_new(errors,
                                  st == CADENCE_SCHEMA_INVALID
                                      ? field_error((long)i, why, 1)
                                      : field_error((long)i, cadence_schema_status_name(st), 0));
    }
    if (json_array_size(too_large) > 0) {
        for (size_t i = 0; i < n; i++)
            free(texts[i]);
        free(texts);
        json_decref(errors);
        json_decref(extra);
        gw_reply(g, req, route, 413, json_pack("{s:o}", "errors", too_large));
        return;
    }
    json_decref(too_large);
    if (json_array_size(errors) > 0) {
        for (size_t i = 0; i < n; i++)
            free(texts[i]);
        free(texts);
        json_decref(extra);
        gw_reply(g, req, route, 400, json_pack("{s:o}", "errors", errors));
        return;
    }
    json_decref(errors);

    struct ingest_ctx *c = calloc(1, sizeof(*c));
    if (!c) {
        for (size_t i = 0; i < n; i++)
            free(texts[i]);
        free(texts);
        json_decref(extra);
        gw_reply_error(g, req, route, 500, "out of memory");
        return;
    }
    c->g = g;
    c->req = req;
    c->route = route;
    c->topic = topic;
    c->accepted = json_array();
    c->extra = extra;
    c->started_ns = started_ns;
    c->pending = 1; /* held until every send below was queued */
    if (n_links > 0) {
        if (cadence_store_link_emails(g->redis, links, n_links, (uint32_t)g->cfg.shards, on_linked,
                                      c) == CADENCE_REDIS_OK)
            c->pending++;
        else
            c->failed = 1;
    }
    for (size_t i = 0; i < n && !c->failed; i++) {
        json_t *ev = json_array_get(events, i);
        const char *key = json_string_value(json_object_get(ev, "lead_id"));
        if (!key)
            key = json_string_value(json_object_get(ev, "email"));
        char err[256];
        if (cadence_producer_send(g->producer, topic, key, texts[i], strlen(texts[i]), on_delivery,
                                  c, err, sizeof(err)) != 0) {
            /* Refused at once (queue full): what was queued is still reported; answer 503. */
            c->failed = 1;
            cadence_log_json(CADENCE_LOG_WARN, "ingest produce refused",
                             json_pack("{s:s,s:s}", "topic", topic, "error", err));
            break;
        }
        c->pending++;
        json_array_append_new(c->accepted, json_incref(json_object_get(ev, "event_id")));
    }
    for (size_t i = 0; i < n; i++)
        free(texts[i]);
    free(texts);
    if (--c->pending == 0)
        ctx_finish(c);
}

/* Reads the body, refusing an oversized one (413). Returns NULL after answering. */
static const char *read_body(gateway *g, struct evhttp_request *req, const char *route, size_t *len)
{
    const char *body = gw_body(req, len);
    if (*len > (size_t)g->cfg.max_body_bytes) {
        gw_reply_error(g, req, route, 413, "request body larger than CADENCE_MAX_BODY_BYTES");
        return NULL;
    }
    return body;
}

/* Parses the body as JSON; answers 400 and returns NULL when it is not. */
static json_t *parse_body(gateway *g, struct evhttp_request *req, const char *route,
                          const char *body, size_t len)
{
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        char msg[300];
        snprintf(msg, sizeof(msg), "not JSON: %s (line %d, column %d)", jerr.text, jerr.line,
                 jerr.column);
        gw_reply(g, req, route, 400, json_pack("{s:[o]}", "errors", field_error(-1, msg, 0)));
    }
    return doc;
}

/* The webhooks' sources: their secrets sign only their own routes. */
static int is_webhook_source(const char *source)
{
    return strcmp(source, "segment") == 0 || strcmp(source, "mautic") == 0;
}

/*
 * Replay cache of our signatures: a v1 MAC seen within the window is refused. Entries expire
 * with the window; expired ones are swept whenever the cache has doubled since the last sweep.
 * Returns 1 when `mac` was already seen (else records it).
 */
static int replayed(gateway *g, const char *mac, long long now_s)
{
    static guint sweep_at = 1024;
    if (g_hash_table_size(g->seen_signatures) >= sweep_at) {
        GHashTableIter it;
        gpointer key, value;
        g_hash_table_iter_init(&it, g->seen_signatures);
        while (g_hash_table_iter_next(&it, &key, &value))
            if ((long long)GPOINTER_TO_SIZE(value) < now_s)
                g_hash_table_iter_remove(&it);
        sweep_at = 2 * g_hash_table_size(g->seen_signatures) + 1024;
    }
    gpointer exp = g_hash_table_lookup(g->seen_signatures, mac);
    if (exp && (long long)GPOINTER_TO_SIZE(exp) >= now_s)
        return 1;
    g_hash_table_insert(g->seen_signatures, g_strdup(mac),
                        GSIZE_TO_POINTER((gsize)(now_s + 2LL * INGEST_SIGNATURE_WINDOW_S)));
    return 0;
}

/* Our own routes: an ingest bearer token, or our signature. 0 when allowed (else answered). */
static int ingest_auth(gateway *g, struct evhttp_request *req, const char *route, const char *body,
                       size_t len)
{
    struct evkeyvalq *h = evhttp_request_get_input_headers(req);
    const char *sig = evhttp_find_header(h, "X-Cadence-Signature");
    if (!evhttp_find_header(h, "Authorization") && sig) {
        const char *source = evhttp_find_header(h, "X-Cadence-Source");
        const char *why = "malformed";
        long long now_s = gw_now_ms() / 1000;
        if (source && is_webhook_source(source)) {
            why = "wrong_source"; /* a webhook's secret cannot post our events */
        } else if (source && gw_auth_cadence_signature(g->auth, source, sig, body, len, now_s,
                                                       INGEST_SIGNATURE_WINDOW_S, &why) == 0) {
            const char *v1 = strstr(sig, "v1=");
            if (!replayed(g, v1 ? v1 : sig, now_s))
                return 0;
            why = "replayed";
        }
        char kind[48];
        snprintf(kind, sizeof(kind), "signature_%s", source ? why : "no_source");
        gw_unauthorized(g, req, route, kind);
        return -1;
    }
    gw_principal who;
    return gw_require(g, req, route, GW_ROLE_BIT(GW_ROLE_INGEST), &who);
}

void gw_ingest_events(gateway *g, struct evhttp_request *req, const char *route)
{
    long long started = cadence_clock_mono_ns();
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    const char *topic = NULL;
    for (size_t i = 0; i < sizeof(event_routes) / sizeof(event_routes[0]); i++)
        if (strcmp(path, event_routes[i].path) == 0)
            topic = event_routes[i].topic;
    size_t len;
    const char *body = read_body(g, req, route, &len);
    if (!body || !topic || ingest_auth(g, req, route, body, len) != 0)
        return;
    json_t *doc = parse_body(g, req, route, body, len);
    if (!doc)
        return;
    json_t *events = json_is_array(doc) ? json_incref(doc) : json_pack("[O]", doc);
    json_decref(doc);
    size_t n = json_array_size(events);
    if (n == 0 || n > INGEST_MAX_EVENTS) {
        gw_reply(g, req, route, 400,
                 json_pack("{s:[o]}", "errors",
                           field_error(-1,
                                       n ? "more events than one request may carry (1000)"
                                         : "an empty array carries no event",
                                       0)));
        json_decref(events);
        return;
    }
    produce_all(g, req, route, topic, events, NULL, 0, NULL, started);
    json_decref(events);
}

/* ------------------------------------------------------------------ webhooks */

void gw_ingest_segment(gateway *g, struct evhttp_request *req, const char *route)
{
    long long started = cadence_clock_mono_ns();
    size_t len;
    const char *body = read_body(g, req, route, &len);
    if (!body)
        return;
    const char *sig = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Signature");
    unsigned char mac[64];
    long mac_len = sig ? gw_hex_decode(sig, mac, sizeof(mac)) : -1;
    if (mac_len <= 0 ||
        gw_auth_hmac_verify(g->auth, "segment", EVP_sha1(), body, len, mac, (size_t)mac_len) != 0) {
        gw_unauthorized(g, req, route, "segment_signature");
        return;
    }
    json_t *doc = parse_body(g, req, route, body, len);
    if (!doc)
        return;
    json_t *calls = json_object_get(doc, "batch");
    calls = json_is_array(calls) ? json_incref(calls) : json_pack("[O]", doc);
    json_decref(doc);
    if (json_array_size(calls) > INGEST_MAX_EVENTS) {
        json_decref(calls);
        gw_reply(g, req, route, 400,
                 json_pack("{s:[o]}", "errors",
                           field_error(-1, "more calls than one request may carry (1000)", 0)));
        return;
    }
    json_t *events = json_array();
    /* the links borrow their strings from `calls`, kept until they are sent */
    cadence_store_email_lead *links = calloc(json_array_size(calls) + 1, sizeof(*links));
    size_t n_links = 0;
    int ignored = 0;
    size_t i;
    json_t *call;
    json_array_foreach(calls, i, call)
    {
        const char *type = json_string_value(json_object_get(call, "type"));
        if (type && strcmp(type, "page") == 0) {
            json_array_append_new(events, gw_webhook_segment_page(call));
            continue;
        }
        static const char *const email_p[] = {"traits.email", "context.traits.email", NULL};
        const char *email = gw_webhook_first_string(call, email_p);
        const char *user = json_string_value(json_object_get(call, "userId"));
        if (type && strcmp(type, "identify") == 0 && email && user && cadence_id_valid(user) &&
            strchr(email, '@') && strlen(email) <= 254 && links) {
            links[n_links++] = (cadence_store_email_lead){email, user};
            continue;
        }
        ignored++;
    }
    json_t *extra = json_pack("{s:i,s:i}", "linked", (int)n_links, "ignored", ignored);
    if (json_array_size(events) == 0 && n_links == 0) {
        json_object_set_new(extra, "accepted", json_array());
        gw_reply(g, req, route, 202, extra);
    } else {
        produce_all(g, req, route, CADENCE_TOPIC_SITE_VISITS, events, links, n_links, extra,
                    started);
    }
    free(links);
    json_decref(calls);
    json_decref(events);
}

void gw_ingest_mautic(gateway *g, struct evhttp_request *req, const char *route)
{
    long long started = cadence_clock_mono_ns();
    size_t len;
    const char *body = read_body(g, req, route, &len);
    if (!body)
        return;
    const char *sig =
        evhttp_find_header(evhttp_request_get_input_headers(req), "Webhook-Signature");
    unsigned char mac[64];
    long mac_len = sig ? gw_base64_decode(sig, mac, sizeof(mac)) : -1;
    if (mac_len <= 0 || gw_auth_hmac_verify(g->auth, "mautic", EVP_sha256(), body, len, mac,
                                            (size_t)mac_len) != 0) {
        gw_unauthorized(g, req, route, "mautic_signature");
        return;
    }
    json_t *doc = parse_body(g, req, route, body, len);
    if (!doc)
        return;
    json_t *hits = json_object_get(doc, "mautic.page_on_hit");
    json_t *events = json_array();
    int ignored = 0;
    size_t i;
    json_t *item;
    json_array_foreach(hits, i, item)
    {
        json_t *ev = gw_webhook_mautic_hit(item);
        if (ev)
            json_array_append_new(events, ev);
        else
            ignored++;
    }
    json_decref(doc);
    json_t *extra = json_pack("{s:i}", "ignored", ignored);
    if (json_array_size(events) == 0) {
        json_object_set_new(extra, "accepted", json_array());
        gw_reply(g, req, route, 202, extra);
    } else {
        produce_all(g, req, route, CADENCE_TOPIC_SITE_VISITS, events, NULL, 0, extra, started);
    }
    json_decref(events);
}
