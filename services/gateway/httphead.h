/*
 * httphead — a streaming checker of one HTTP/1.x request head, byte by byte, bounded in
 * memory whatever it is fed. The gateway's connection filter (conn.c) runs it before evhttp
 * sees a request; it is pure (no I/O), so it is unit-tested and fuzzed on its own.
 *
 * It enforces the limits (request line → 414, header lines together → 431), refuses what is
 * ambiguous or smuggles (NUL, bare CR, folded lines, malformed lines, non-decimal or
 * conflicting Content-Length, Content-Length with Transfer-Encoding → 400; chunked bodies →
 * 411; methods other than GET, HEAD, POST, OPTIONS → 501), and reports the body length.
 */
#ifndef CADENCE_GATEWAY_HTTPHEAD_H
#define CADENCE_GATEWAY_HTTPHEAD_H

#include <stddef.h>
#include <stdint.h>

enum { GW_HEAD_MORE = 0, GW_HEAD_DONE = 1, GW_HEAD_ERROR = 2 };

typedef struct gw_head {
    size_t max_line, max_headers; /* limits (bytes, without line ends) */
    size_t bytes;                 /* bytes of this head consumed so far */
    int phase;                    /* 0 request line, 1 header lines, 2 done, 3 error */
    int saw_cr;
    int empty_lines; /* empty lines before the request line */
    size_t line_len; /* bytes of the current line, without its end */
    /* request line */
    int part; /* 0 method, 1 target, 2 version */
    char method[16];
    size_t method_len, target_len;
    char version[16];
    size_t version_len;
    /* header lines */
    size_t header_bytes;
    char cur[256]; /* the current header line's first bytes */
    size_t cur_len;
    int cur_truncated;
    /* results */
    unsigned long long content_length;
    int have_content_length, have_transfer_encoding;
    int status;        /* on error: 400, 411, 414, 431 or 501 */
    const char *error; /* on error: a short message (static) */
} gw_head;

/* Starts a new head with these limits. */
void gw_head_init(gw_head *h, size_t max_request_line, size_t max_header_bytes);

/*
 * Feeds up to `n` bytes; *used is set to how many were consumed (up to the head's end).
 * Returns GW_HEAD_MORE (all consumed, head incomplete), GW_HEAD_DONE (the head ended after
 * *used bytes; content_length is the body's length) or GW_HEAD_ERROR (status and error set).
 */
int gw_head_feed(gw_head *h, const char *p, size_t n, size_t *used);

/*
 * Parses a Redis stream id as a client sends it back in Last-Event-ID: "<ms>" or
 * "<ms>-<seq>", each 1-20 decimal digits within 64 bits, nothing else (no sign, space or
 * garbage). 0 with the parts, or -1.
 */
int gw_stream_id_parse(const char *s, uint64_t *ms, uint64_t *seq);

/* "GET", "HEAD", ... as parsed (valid once the request line ended). */
const char *gw_head_method(const gw_head *h);

#endif
