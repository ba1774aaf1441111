/* codec — see codec.h. */
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_create[CD]Dict_advanced: a raw-content dictionary */
#include "store/codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

struct cadence_store_codec {
    ZSTD_CCtx *cctx; /* references cdict, with the frame parameters of the stored format */
    ZSTD_DCtx *dctx;
    ZSTD_CDict *cdict;
    ZSTD_DDict *ddict;
};

static const unsigned char zstd_magic[4] = {0x28, 0xB5, 0x2F, 0xFD};

static cadence_store_codec *codec_new(int level)
{
    cadence_store_codec *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    /* Parameters for small inputs next to the dictionary (what ZSTD_createCDict(level) would
     * choose for a source of unknown size), so the tables stay small. The dictionary is static
     * data: referenced, not copied. */
    ZSTD_compressionParameters cp = ZSTD_getCParams(level, 0, cadence_store_dict_v1_size);
    c->cdict = ZSTD_createCDict_advanced(cadence_store_dict_v1, cadence_store_dict_v1_size,
                                         ZSTD_dlm_byRef, ZSTD_dct_rawContent, cp, ZSTD_defaultCMem);
    c->ddict = ZSTD_createDDict_advanced(cadence_store_dict_v1, cadence_store_dict_v1_size,
                                         ZSTD_dlm_byRef, ZSTD_dct_rawContent, ZSTD_defaultCMem);
    c->cctx = ZSTD_createCCtx();
    c->dctx = ZSTD_createDCtx();
    if (!c->cdict || !c->ddict || !c->cctx || !c->dctx ||
        ZSTD_isError(ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_compressionLevel, level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_contentSizeFlag, 1)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_checksumFlag, 0)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_dictIDFlag, 0)) ||
        ZSTD_isError(ZSTD_CCtx_refCDict(c->cctx, c->cdict))) {
        cadence_store_codec_free(c);
        return NULL;
    }
    return c;
}

cadence_store_codec *cadence_store_codec_new(void)
{
    return codec_new(CADENCE_STORE_CODEC_LEVEL);
}

cadence_store_codec *cadence_store_codec_new_level(int level)
{
    return codec_new(level);
}

void cadence_store_codec_free(cadence_store_codec *c)
{
    if (!c)
        return;
    ZSTD_freeCCtx(c->cctx);
    ZSTD_freeDCtx(c->dctx);
    ZSTD_freeCDict(c->cdict);
    ZSTD_freeDDict(c->ddict);
    free(c);
}

char *cadence_store_codec_encode(cadence_store_codec *c, const char *json, size_t len,
                                 size_t *frame_len, char *errstr, size_t errstr_size)
{
    size_t cap = ZSTD_compressBound(len);
    char *out = malloc(cap);
    if (!out) {
        snprintf(errstr, errstr_size, "codec: out of memory");
        return NULL;
    }
    size_t n = ZSTD_compress2(c->cctx, out, cap, len ? json : "", len);
    if (ZSTD_isError(n)) {
        snprintf(errstr, errstr_size, "codec: %s", ZSTD_getErrorName(n));
        free(out);
        return NULL;
    }
    char *shrunk = realloc(out, n); /* keep no slack: the frame may be held for a while */
    *frame_len = n;
    return shrunk ? shrunk : out;
}

int cadence_store_codec_is_frame(const char *value, size_t len)
{
    return value && len >= sizeof(zstd_magic) && memcmp(value, zstd_magic, sizeof(zstd_magic)) == 0;
}

int cadence_store_codec_decode(cadence_store_codec *c, const char *value, size_t len,
                               const char **json, size_t *json_len, char **owned, char *errstr,
                               size_t errstr_size)
{
    *json = NULL;
    *owned = NULL;
    if (!cadence_store_codec_is_frame(value, len)) {
        *json = value ? value : "";
        *json_len = value ? len : 0;
        return 0;
    }
    unsigned long long size = ZSTD_getFrameContentSize(value, len);
    if (size == ZSTD_CONTENTSIZE_ERROR) {
        snprintf(errstr, errstr_size, "codec: corrupt frame header");
        return -1;
    }
    if (size == ZSTD_CONTENTSIZE_UNKNOWN) {
        snprintf(errstr, errstr_size, "codec: frame without a content size");
        return -1;
    }
    if (size > CADENCE_STORE_CODEC_MAX_TEXT) {
        snprintf(errstr, errstr_size, "codec: frame of %llu bytes, more than allowed", size);
        return -1;
    }
    unsigned dict = ZSTD_getDictID_fromFrame(value, len);
    if (dict != 0) {
        snprintf(errstr, errstr_size, "codec: frame of unknown dictionary %u", dict);
        return -1;
    }
    char *out = malloc((size_t)size + 1);
    if (!out) {
        snprintf(errstr, errstr_size, "codec: out of memory");
        return -1;
    }
    size_t n = ZSTD_decompress_usingDDict(c->dctx, out, (size_t)size, value, len, c->ddict);
    if (ZSTD_isError(n) || n != size) {
        snprintf(errstr, errstr_size, "codec: corrupt frame: %s",
                 ZSTD_isError(n) ? ZSTD_getErrorName(n) : "wrong content size");
        free(out);
        return -1;
    }
    out[n] = '\0';
    *json = out;
    *json_len = n;
    *owned = out;
    return 0;
}
