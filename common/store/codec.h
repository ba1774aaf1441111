/*
 * codec — how a lead's state (field `s` of its hash) and its timeline entries are stored: a
 * JSON text compressed into one zstd frame with the cadence dictionary v1, so that Redis keeps
 * (and its scripts copy) about a fifth of the bytes.
 *
 * The stored format, forever:
 *  - A value that starts with the zstd magic 28 B5 2F FD is one zstd frame (content size in
 *    its header, no checksum, no dictionary id). A frame whose dictionary id is 0 was written
 *    with dictionary v1: the raw-content dictionary common/store/dict/v1.json, byte for byte
 *    (embedded at build time: cadence_store_dict_v1). That file can never change; a future
 *    dictionary v2 would be a real zstd dictionary with a non-zero dictionary id, which its
 *    frames carry, so a reader tells the two apart.
 *  - Any other value is plain JSON (what older versions and some tests wrote) and is read as is.
 *
 * A codec holds a compression context and the dictionary digested for compression and for
 * decompression (created once, then every call reuses them: no per-call dictionary cost). It
 * is not thread-safe: one per thread (the store keeps one per Redis client,
 * cadence_redis_codec(), as a client is used from one thread).
 */
#ifndef CADENCE_STORE_CODEC_H
#define CADENCE_STORE_CODEC_H

#include <stddef.h>

/* The zstd level the codec compresses with. Not part of the stored format: any level decodes
 * the same way. Measured on 300 states (1,138 B) and 2,111 timeline entries (254 B) of a
 * cadence-loadgen run, mean stored bytes and encode µs (-O2, noisy): level 1: 272 B / 79 B,
 * ~7 µs / ~2.5 µs; level 2: 287 B / 87 B; level 3: 262 B / 78 B, 7–10 µs / 2.7–3.7 µs;
 * level 5: 228 B / 68 B, 12–21 µs / 5.5–8 µs. Decoding: ~3 µs / ~0.4 µs at any level. */
#define CADENCE_STORE_CODEC_LEVEL 3

/* The largest JSON text a frame may decode to (a frame announcing more is refused). */
#define CADENCE_STORE_CODEC_MAX_TEXT ((size_t)16 << 20)

/* Dictionary v1 (common/store/dict/v1.json): its bytes, followed by a NUL not counted in
 * cadence_store_dict_v1_size. */
extern const char cadence_store_dict_v1[];
extern const size_t cadence_store_dict_v1_size;

typedef struct cadence_store_codec cadence_store_codec;

/* A new codec (level CADENCE_STORE_CODEC_LEVEL), or NULL when out of memory. */
cadence_store_codec *cadence_store_codec_new(void);

/* A new codec compressing at zstd level `level` (measurements), or NULL. */
cadence_store_codec *cadence_store_codec_new_level(int level);

/* Frees `c` (NULL: no-op). */
void cadence_store_codec_free(cadence_store_codec *c);

/*
 * Compresses the `len` bytes of `json` (any length, 0 included) into one frame with dictionary
 * v1. Returns the frame, malloc'd (the caller frees it), with its length in *frame_len; NULL
 * with a message in `errstr` on failure (out of memory). The frame is binary: pass its length
 * along (it may hold NUL bytes), never strlen it.
 */
char *cadence_store_codec_encode(cadence_store_codec *c, const char *json, size_t len,
                                 size_t *frame_len, char *errstr, size_t errstr_size);

/* 1 when the `len` bytes at `value` start with the zstd magic (a frame), else 0. */
int cadence_store_codec_is_frame(const char *value, size_t len);

/*
 * Reads a stored value of `len` bytes. Returns 0 and sets *json and *json_len:
 *  - a frame: to its text, decoded into a malloc'd buffer (NUL-terminated) that *owned also
 *    points to; the caller frees *owned;
 *  - anything else (plain JSON): to `value` itself (NUL-terminated when `value` is), *owned
 *    NULL.
 * Returns -1 with a message in `errstr` (*json NULL, *owned NULL) for a frame that does not
 * decode: corrupt or truncated, a dictionary this version does not know, no content size, or
 * more than CADENCE_STORE_CODEC_MAX_TEXT. No checksum is stored: a frame damaged in a way that
 * still decodes yields text the JSON parser then refuses.
 */
int cadence_store_codec_decode(cadence_store_codec *c, const char *value, size_t len,
                               const char **json, size_t *json_len, char **owned, char *errstr,
                               size_t errstr_size);

#endif
