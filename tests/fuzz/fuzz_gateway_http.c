/*
 * libFuzzer target: the gateway's request handling before any route — the request-head
 * checker (services/gateway/httphead.c, fed in pieces as a socket would), the Last-Event-ID
 * stream id parser, the bearer header check and the webhook signature decoders
 * (services/gateway/auth.c), and the Segment / Mautic webhook mapping (webhook_map.c). The
 * first byte picks the part; the rest is the input. Run through
 * scripts/fuzz-gateway.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "httphead.h"
#include "webhook_map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_head(const uint8_t *data, size_t size)
{
    gw_head h;
    gw_head_init(&h, 512, 2048);
    size_t off = 0, step = 1;
    int st = GW_HEAD_MORE;
    while (off < size && st == GW_HEAD_MORE) {
        size_t n = size - off < step ? size - off : step;
        size_t used = 0;
        st = gw_head_feed(&h, (const char *)data + off, n, &used);
        if (used > n || (st == GW_HEAD_MORE && used != n))
            abort();
        off += used;
        step = step * 3 % 97 + 1; /* pieces of varying sizes */
    }
    if (st == GW_HEAD_ERROR && (!h.error || h.status < 400 || h.status > 501))
        abort();
    if (st == GW_HEAD_DONE && h.content_length >= 1000000000000000000ULL)
        abort();
    /* Limits hold whatever came: the request line and the headers never exceed them. */
    if (h.header_bytes > h.max_headers)
        abort();
}

static void fuzz_stream_id(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return;
    memcpy(s, data, size);
    s[size] = '\0';
    uint64_t ms, seq;
    if (gw_stream_id_parse(s, &ms, &seq) == 0) {
        /* A parsed id formats back to one that parses to the same parts. */
        char buf[64];
        snprintf(buf, sizeof(buf), "%" PRIu64 "-%" PRIu64, ms, seq);
        uint64_t ms2, seq2;
        if (gw_stream_id_parse(buf, &ms2, &seq2) != 0 || ms2 != ms || seq2 != seq)
            abort();
    }
    free(s);
}

static void fuzz_auth(const uint8_t *data, size_t size)
{
    static gw_auth *auth;
    if (!auth) {
        char err[256];
        auth = gw_auth_new(NULL, NULL, err, sizeof(err));
        if (!auth)
            abort();
    }
    char *s = malloc(size + 1);
    if (!s)
        return;
    memcpy(s, data, size);
    s[size] = '\0';
    gw_principal who;
    if (gw_auth_bearer(auth, s, &who) == 0) /* no tokens loaded: nothing may pass */
        abort();
    unsigned char out[64];
    long n = gw_hex_decode(s, out, sizeof(out));
    if (n > (long)sizeof(out))
        abort();
    n = gw_base64_decode(s, out, sizeof(out));
    if (n > (long)sizeof(out))
        abort();
    const char *why = NULL;
    if (gw_auth_cadence_signature(auth, "crm", s, data, size, 1700000000, 300, &why) == 0)
        abort();
    free(s);
}

/* A mapped visit is always a site_visit object whose fields are strings (or absent). */
static void check_visit(json_t *ev)
{
    if (!json_is_object(ev) || strcmp(json_string_value(json_object_get(ev, "type"))
                                          ? json_string_value(json_object_get(ev, "type"))
                                          : "",
                                      "site_visit") != 0)
        abort();
    const char *k;
    json_t *v;
    json_object_foreach(ev, k, v)
    {
        if (!json_is_string(v))
            abort();
    }
}

static void fuzz_webhook_map(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!doc)
        return;
    json_t *page = gw_webhook_segment_page(doc);
    check_visit(page);
    json_decref(page);
    json_t *hit = gw_webhook_mautic_hit(doc);
    if (hit) {
        check_visit(hit);
        if (!json_is_string(json_object_get(hit, "email")))
            abort(); /* a Mautic visit is only made when it names the lead's email */
    }
    json_decref(hit);
    json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 4) {
    case 0:
        fuzz_head(data + 1, size - 1);
        break;
    case 1:
        fuzz_stream_id(data + 1, size - 1);
        break;
    case 2:
        fuzz_auth(data + 1, size - 1);
        break;
    default:
        fuzz_webhook_map(data + 1, size - 1);
        break;
    }
    return 0;
}
