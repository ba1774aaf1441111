/*
 * httphead — the request-head checker (see httphead.h).
 */
#include "httphead.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* How many empty lines may precede a request line (RFC 9112 §2.2 allows ignoring some). */
#define HEAD_MAX_EMPTY_LINES 4
/* Longest Content-Length accepted (digits): 10^18 - 1 fits an unsigned long long. */
#define HEAD_MAX_LENGTH_DIGITS 18

void gw_head_init(gw_head *h, size_t max_request_line, size_t max_header_bytes)
{
    memset(h, 0, sizeof(*h));
    h->max_line = max_request_line;
    h->max_headers = max_header_bytes;
}

const char *gw_head_method(const gw_head *h)
{
    return h->method;
}

static int fail(gw_head *h, int status, const char *error)
{
    h->phase = 3;
    h->status = status;
    h->error = error;
    return GW_HEAD_ERROR;
}

/* RFC 9110 token characters. */
static int is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int end_request_line(gw_head *h)
{
    if (h->line_len == 0) {
        if (++h->empty_lines > HEAD_MAX_EMPTY_LINES)
            return fail(h, 400, "malformed request line");
        return GW_HEAD_MORE;
    }
    if (h->part != 2 || h->method_len == 0 || h->target_len == 0)
        return fail(h, 400, "malformed request line");
    if (strcmp(h->version, "HTTP/1.1") != 0 && strcmp(h->version, "HTTP/1.0") != 0)
        return fail(h, 400, "malformed request line (HTTP/1.0 or HTTP/1.1 expected)");
    static const char *const methods[] = {"GET", "HEAD", "POST", "OPTIONS"};
    int known = 0;
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        known |= strcmp(h->method, methods[i]) == 0;
    if (!known)
        return fail(h, 501, "method not implemented");
    h->phase = 1;
    return GW_HEAD_MORE;
}

/* The value of the current header line after the colon, trimmed; NULL when truncated. */
static const char *header_value(gw_head *h, const char *colon, size_t *len)
{
    if (h->cur_truncated)
        return NULL;
    const char *v = colon + 1, *end = h->cur + h->cur_len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *len = (size_t)(end - v);
    return v;
}

static int end_header_line(gw_head *h)
{
    if (h->line_len == 0) {
        h->phase = 2;
        if (h->have_transfer_encoding && h->have_content_length)
            return fail(h, 400, "both Content-Length and Transfer-Encoding");
        if (h->have_transfer_encoding)
            return fail(h, 411, "chunked request bodies are not accepted; send Content-Length");
        return GW_HEAD_DONE;
    }
    h->header_bytes += h->line_len;
    h->cur[h->cur_len] = '\0';
    const char *colon = memchr(h->cur, ':', h->cur_len);
    if (!colon || colon == h->cur)
        return fail(h, 400, "malformed header line");
    for (const char *p = h->cur; p < colon; p++)
        if (!is_tchar((unsigned char)*p))
            return fail(h, 400, "malformed header line");
    size_t name_len = (size_t)(colon - h->cur);
    size_t vlen = 0;
    if (name_len == 14 && strncasecmp(h->cur, "content-length", 14) == 0) {
        const char *v = header_value(h, colon, &vlen);
        if (!v || vlen == 0 || vlen > HEAD_MAX_LENGTH_DIGITS)
            return fail(h, 400, "Content-Length is not a decimal length");
        unsigned long long n = 0;
        for (size_t i = 0; i < vlen; i++) {
            if (v[i] < '0' || v[i] > '9')
                return fail(h, 400, "Content-Length is not a decimal length");
            n = n * 10 + (unsigned long long)(v[i] - '0');
        }
        /* libevent 2.1 drops a connection with two, even equal: refuse them all. */
        if (h->have_content_length)
            return fail(h, 400, "duplicate Content-Length headers");
        h->have_content_length = 1;
        h->content_length = n;
    } else if (name_len == 17 && strncasecmp(h->cur, "transfer-encoding", 17) == 0) {
        h->have_transfer_encoding = 1;
    }
    h->cur_len = 0;
    h->cur_truncated = 0;
    return GW_HEAD_MORE;
}

static int end_line(gw_head *h)
{
    int st = h->phase == 0 ? end_request_line(h) : end_header_line(h);
    h->line_len = 0;
    return st;
}

/* One byte of a line (not CR or LF). */
static int line_byte(gw_head *h, unsigned char c)
{
    h->line_len++;
    if (h->phase == 0) {
        if (h->line_len > h->max_line)
            return fail(h, 414, "request line longer than CADENCE_HTTP_MAX_REQUEST_LINE");
        if (c == ' ') {
            if (h->part >= 2 || (h->part == 0 && h->method_len == 0) ||
                (h->part == 1 && h->target_len == 0))
                return fail(h, 400, "malformed request line");
            h->part++;
            return GW_HEAD_MORE;
        }
        if (h->part == 0) {
            if (!is_tchar(c) || h->method_len + 1 >= sizeof(h->method))
                return fail(h, 400, "malformed request line");
            h->method[h->method_len++] = (char)c;
        } else if (h->part == 1) {
            if (c < 0x21 || c == 0x7f)
                return fail(h, 400, "malformed request line");
            h->target_len++;
        } else {
            if (h->version_len + 1 >= sizeof(h->version))
                return fail(h, 400, "malformed request line");
            h->version[h->version_len++] = (char)c;
        }
        return GW_HEAD_MORE;
    }
    if (h->header_bytes + h->line_len > h->max_headers)
        return fail(h, 431, "request headers larger than CADENCE_HTTP_MAX_HEADER_BYTES");
    if (h->line_len == 1 && (c == ' ' || c == '\t'))
        return fail(h, 400, "folded header line");
    if ((c < 0x20 && c != '\t') || c == 0x7f)
        return fail(h, 400, "control character in a header");
    if (h->cur_len + 1 < sizeof(h->cur))
        h->cur[h->cur_len++] = (char)c;
    else
        h->cur_truncated = 1;
    return GW_HEAD_MORE;
}

int gw_head_feed(gw_head *h, const char *p, size_t n, size_t *used)
{
    *used = 0;
    if (h->phase == 3)
        return GW_HEAD_ERROR;
    if (h->phase == 2)
        return GW_HEAD_DONE;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        h->bytes++;
        *used = i + 1;
        int st;
        if (c == '\0') {
            st = fail(h, 400, "NUL byte in the request head");
        } else if (h->saw_cr) {
            h->saw_cr = 0;
            st = c == '\n' ? end_line(h) : fail(h, 400, "bare CR in the request head");
        } else if (c == '\r') {
            h->saw_cr = 1;
            st = GW_HEAD_MORE;
        } else if (c == '\n') {
            st = end_line(h);
        } else {
            st = line_byte(h, c);
        }
        if (st != GW_HEAD_MORE)
            return st;
    }
    return GW_HEAD_MORE;
}

/* One decimal part of a stream id: 1-20 digits within 64 bits. */
static const char *parse_u64(const char *p, uint64_t *out)
{
    uint64_t v = 0;
    const char *start = p;
    for (; *p >= '0' && *p <= '9'; p++) {
        uint64_t d = (uint64_t)(*p - '0');
        if (p - start >= 20 || v > (UINT64_MAX - d) / 10)
            return NULL;
        v = v * 10 + d;
    }
    if (p == start)
        return NULL;
    *out = v;
    return p;
}

int gw_stream_id_parse(const char *s, uint64_t *ms, uint64_t *seq)
{
    if (!s)
        return -1;
    const char *p = parse_u64(s, ms);
    if (!p)
        return -1;
    *seq = 0;
    if (*p == '-') {
        p = parse_u64(p + 1, seq);
        if (!p)
            return -1;
    }
    return *p ? -1 : 0;
}
