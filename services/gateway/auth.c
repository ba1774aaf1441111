/*
 * auth — tokens and webhook secrets. See auth.h.
 *
 * Both files are parsed into fresh tables and swapped in only when both parsed, so a SIGHUP
 * with a broken file keeps the gateway running on the previous contents.
 */
#include "auth.h"

#include <ctype.h>
#include <errno.h>
#include <glib.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_HASH_LEN SHA256_DIGEST_LENGTH
#define LINE_MAX_LEN 4096

struct token {
    unsigned char hash[TOKEN_HASH_LEN];
    gw_principal who;
};

struct secret {
    char source[65];
    unsigned char *key;
    size_t key_len;
};

struct tables {
    struct token *tokens;
    size_t n_tokens;
    struct secret *secrets;
    size_t n_secrets;
};

struct gw_auth {
    char *tokens_file;
    char *secrets_file;
    struct tables t;
};

static const struct {
    const char *name;
    gw_role role;
} roles[] = {
    {"rep", GW_ROLE_REP},
    {"manager", GW_ROLE_MANAGER},
    {"ingest", GW_ROLE_INGEST},
};

gw_role gw_role_parse(const char *s)
{
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
        if (strcmp(roles[i].name, s) == 0)
            return roles[i].role;
    return GW_ROLE_NONE;
}

const char *gw_role_name(gw_role r)
{
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
        if (roles[i].role == r)
            return roles[i].name;
    return "none";
}

static void tables_free(struct tables *t)
{
    for (size_t i = 0; i < t->n_secrets; i++) {
        OPENSSL_cleanse(t->secrets[i].key, t->secrets[i].key_len);
        free(t->secrets[i].key);
    }
    free(t->secrets);
    free(t->tokens);
    memset(t, 0, sizeof(*t));
}

long gw_hex_decode(const char *hex, unsigned char *out, size_t out_size)
{
    size_t n = strlen(hex);
    if (n % 2 || n / 2 > out_size)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            int c = (unsigned char)hex[2 * i + (size_t)k];
            int d;
            if (c >= '0' && c <= '9')
                d = c - '0';
            else if (c >= 'a' && c <= 'f')
                d = c - 'a' + 10;
            else if (c >= 'A' && c <= 'F')
                d = c - 'A' + 10;
            else
                return -1;
            v = v * 16 + d;
        }
        out[i] = (unsigned char)v;
    }
    return (long)(n / 2);
}

void gw_hex_encode(const unsigned char *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

long gw_base64_decode(const char *b64, unsigned char *out, size_t out_size)
{
    size_t n = strlen(b64);
    if (n == 0 || n % 4 || n > 4096 || (n / 4) * 3 > out_size + 2)
        return -1;
    unsigned char tmp[3 * 1024 + 3];
    int got = EVP_DecodeBlock(tmp, (const unsigned char *)b64, (int)n);
    if (got < 0)
        return -1;
    size_t pad = (b64[n - 1] == '=') + (b64[n - 2] == '=');
    size_t len = (size_t)got - pad;
    if (len > out_size)
        return -1;
    memcpy(out, tmp, len);
    return (long)len;
}

/* Splits a line into whitespace-separated fields in place; returns how many (at most max). */
static size_t split(char *line, char **fields, size_t max)
{
    size_t n = 0;
    char *p = line;
    while (*p && n < max) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        fields[n++] = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        if (*p)
            *p++ = '\0';
    }
    return n;
}

static void chomp(char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
}

static int skip_line(const char *line)
{
    while (*line && isspace((unsigned char)*line))
        line++;
    return !*line || *line == '#';
}

/* "tz=<IANA zone>" naming a zone of the system's tz database → 1 with the zone in `out`. */
static int zone_field(const char *field, char *out, size_t n)
{
    if (strncmp(field, "tz=", 3) != 0 || !field[3] || strlen(field + 3) >= n)
        return 0;
    GTimeZone *z = g_time_zone_new_identifier(field + 3);
    if (!z)
        return 0;
    g_time_zone_unref(z);
    snprintf(out, n, "%s", field + 3);
    return 1;
}

static int load_tokens(const char *path, struct tables *t, char *err, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, n, "CADENCE_TOKENS_FILE: cannot open \"%.200s\": %s", path, strerror(errno));
        return -1;
    }
    char line[LINE_MAX_LEN];
    size_t lineno = 0, cap = 0;
    int rc = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        chomp(line);
        if (skip_line(line))
            continue;
        char *fields[5];
        size_t nf = split(line, fields, 5);
        struct token tok;
        memset(&tok, 0, sizeof(tok));
        if ((nf != 3 &&
             (nf != 4 || !zone_field(fields[3], tok.who.timezone, sizeof(tok.who.timezone)))) ||
            strlen(fields[0]) != (size_t)2 * TOKEN_HASH_LEN ||
            gw_hex_decode(fields[0], tok.hash, sizeof(tok.hash)) != TOKEN_HASH_LEN ||
            (tok.who.role = gw_role_parse(fields[1])) == GW_ROLE_NONE ||
            strlen(fields[2]) >= sizeof(tok.who.rep_id)) {
            snprintf(err, n,
                     "CADENCE_TOKENS_FILE: %.200s line %zu: expected \"<sha256 hex> "
                     "<rep|manager|ingest> <rep_id or *> [tz=<IANA time zone>]\"",
                     path, lineno);
            rc = -1;
            break;
        }
        snprintf(tok.who.rep_id, sizeof(tok.who.rep_id), "%s", fields[2]);
        if (t->n_tokens == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct token *nt = realloc(t->tokens, ncap * sizeof(*nt));
            if (!nt) {
                snprintf(err, n, "out of memory");
                rc = -1;
                break;
            }
            t->tokens = nt;
            cap = ncap;
        }
        t->tokens[t->n_tokens++] = tok;
    }
    OPENSSL_cleanse(line, sizeof(line));
    fclose(f);
    return rc;
}

static int load_secrets(const char *path, struct tables *t, char *err, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, n, "CADENCE_WEBHOOK_SECRETS: cannot open \"%.200s\": %s", path,
                 strerror(errno));
        return -1;
    }
    char line[LINE_MAX_LEN];
    size_t lineno = 0, cap = 0;
    int rc = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        chomp(line);
        if (skip_line(line))
            continue;
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        char *src = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        size_t src_len = (size_t)(p - src);
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p || src_len >= sizeof(t->secrets[0].source)) {
            snprintf(err, n,
                     "CADENCE_WEBHOOK_SECRETS: %.200s line %zu: expected \"<source> <secret>\"",
                     path, lineno);
            rc = -1;
            break;
        }
        if (t->n_secrets == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            struct secret *ns = realloc(t->secrets, ncap * sizeof(*ns));
            if (!ns) {
                snprintf(err, n, "out of memory");
                rc = -1;
                break;
            }
            t->secrets = ns;
            cap = ncap;
        }
        struct secret *s = &t->secrets[t->n_secrets];
        memset(s, 0, sizeof(*s));
        memcpy(s->source, src, src_len);
        s->key_len = strlen(p);
        s->key = malloc(s->key_len);
        if (!s->key) {
            snprintf(err, n, "out of memory");
            rc = -1;
            break;
        }
        memcpy(s->key, p, s->key_len);
        t->n_secrets++;
    }
    OPENSSL_cleanse(line, sizeof(line));
    fclose(f);
    return rc;
}

static int load(const gw_auth *a, struct tables *t, char *err, size_t n)
{
    memset(t, 0, sizeof(*t));
    if ((a->tokens_file && load_tokens(a->tokens_file, t, err, n) != 0) ||
        (a->secrets_file && load_secrets(a->secrets_file, t, err, n) != 0)) {
        tables_free(t);
        return -1;
    }
    return 0;
}

gw_auth *gw_auth_new(const char *tokens_file, const char *secrets_file, char *errstr,
                     size_t errstr_size)
{
    gw_auth *a = calloc(1, sizeof(*a));
    if (!a) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    if ((tokens_file && !(a->tokens_file = strdup(tokens_file))) ||
        (secrets_file && !(a->secrets_file = strdup(secrets_file)))) {
        snprintf(errstr, errstr_size, "out of memory");
        gw_auth_free(a);
        return NULL;
    }
    if (load(a, &a->t, errstr, errstr_size) != 0) {
        gw_auth_free(a);
        return NULL;
    }
    return a;
}

int gw_auth_reload(gw_auth *a, char *errstr, size_t errstr_size)
{
    struct tables t;
    if (load(a, &t, errstr, errstr_size) != 0)
        return -1;
    tables_free(&a->t);
    a->t = t;
    return 0;
}

void gw_auth_free(gw_auth *a)
{
    if (!a)
        return;
    tables_free(&a->t);
    free(a->tokens_file);
    free(a->secrets_file);
    free(a);
}

size_t gw_auth_token_count(const gw_auth *a)
{
    return a->t.n_tokens;
}

size_t gw_auth_secret_count(const gw_auth *a)
{
    return a->t.n_secrets;
}

void gw_auth_rep_timezone(const gw_auth *a, const char *rep_id, char *out, size_t n)
{
    if (n)
        out[0] = '\0';
    for (size_t i = 0; a && rep_id && i < a->t.n_tokens; i++) {
        const gw_principal *w = &a->t.tokens[i].who;
        if (w->role == GW_ROLE_REP && w->timezone[0] && strcmp(w->rep_id, rep_id) == 0) {
            snprintf(out, n, "%s", w->timezone);
            return;
        }
    }
}

int gw_auth_bearer(const gw_auth *a, const char *authorization, gw_principal *who)
{
    static const char prefix[] = "Bearer ";
    if (!authorization || strncasecmp(authorization, prefix, sizeof(prefix) - 1) != 0)
        return -1;
    const char *tok = authorization + sizeof(prefix) - 1;
    while (*tok == ' ')
        tok++;
    size_t len = strlen(tok);
    while (len && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
        len--;
    if (len == 0 || len > 512)
        return -1;
    unsigned char hash[TOKEN_HASH_LEN];
    SHA256((const unsigned char *)tok, len, hash);
    /* Every line is compared (no early exit), each in constant time. */
    const struct token *found = NULL;
    for (size_t i = 0; i < a->t.n_tokens; i++) {
        int same = CRYPTO_memcmp(hash, a->t.tokens[i].hash, TOKEN_HASH_LEN) == 0;
        if (same && !found)
            found = &a->t.tokens[i];
    }
    if (!found)
        return -1;
    *who = found->who;
    gw_hex_encode(found->hash, 8, who->token_id);
    return 0;
}

static const struct secret *find_secret(const gw_auth *a, const char *source)
{
    for (size_t i = 0; i < a->t.n_secrets; i++)
        if (strcmp(a->t.secrets[i].source, source) == 0)
            return &a->t.secrets[i];
    return NULL;
}

int gw_auth_hmac_verify(const gw_auth *a, const char *source, const EVP_MD *md, const void *data,
                        size_t len, const unsigned char *mac, size_t mac_len)
{
    const struct secret *s = find_secret(a, source);
    if (!s)
        return -1;
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int out_len = 0;
    if (!HMAC(md, s->key, (int)s->key_len, data, len, out, &out_len))
        return -1;
    if (out_len != mac_len)
        return -1;
    return CRYPTO_memcmp(out, mac, mac_len) == 0 ? 0 : -1;
}

int gw_auth_cadence_signature(const gw_auth *a, const char *source, const char *header,
                              const void *body, size_t len, long long now_s, long window_s,
                              const char **why)
{
    *why = "malformed";
    if (!header || !source)
        return -1;
    long long t = -1;
    char v1[2 * EVP_MAX_MD_SIZE + 1] = "";
    char buf[512];
    if (strlen(header) >= sizeof(buf))
        return -1;
    snprintf(buf, sizeof(buf), "%s", header);
    char *save = NULL;
    for (char *part = strtok_r(buf, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
        while (*part == ' ')
            part++;
        if (strncmp(part, "t=", 2) == 0) {
            char *end = NULL;
            errno = 0;
            t = strtoll(part + 2, &end, 10);
            if (errno || end == part + 2 || *end || t < 0)
                return -1;
        } else if (strncmp(part, "v1=", 3) == 0) {
            if (strlen(part + 3) >= sizeof(v1))
                return -1;
            snprintf(v1, sizeof(v1), "%s", part + 3);
        }
    }
    unsigned char mac[EVP_MAX_MD_SIZE];
    long mac_len = gw_hex_decode(v1, mac, sizeof(mac));
    if (t < 0 || mac_len <= 0)
        return -1;
    if (t > now_s + window_s || t < now_s - window_s) {
        *why = "stale";
        return -1;
    }
    /* The signed text is "<t>.<body>". */
    char prefix[32];
    int plen = snprintf(prefix, sizeof(prefix), "%lld.", t);
    size_t total = (size_t)plen + len;
    unsigned char *signed_text = malloc(total ? total : 1);
    if (!signed_text)
        return -1;
    memcpy(signed_text, prefix, (size_t)plen);
    if (len)
        memcpy(signed_text + plen, body, len);
    int rc = gw_auth_hmac_verify(a, source, EVP_sha256(), signed_text, total, mac, (size_t)mac_len);
    free(signed_text);
    *why = rc == 0 ? "" : "mismatch";
    return rc;
}
