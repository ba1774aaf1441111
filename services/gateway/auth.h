/*
 * auth — who may call the gateway: bearer tokens (CADENCE_TOKENS_FILE) and the per-source
 * webhook secrets (CADENCE_WEBHOOK_SECRETS), both re-read on SIGHUP.
 *
 * Tokens file: one line per token, `<sha256 hex of the token> <role> <rep_id or *>
 * [tz=<IANA zone>]`; roles `rep`, `manager`, `ingest`; blank lines and `#` comments are
 * skipped. `tz=` is the rep's time zone: their "today" in the queue (UTC when absent); an
 * unknown zone refuses the file.
 *
 * This module is the one place that knows what a credential is: everything else sees a
 * gw_principal (role, rep, zone). A single sign-on (OIDC) login replaces the token lookup
 * here and fills the same principal. Only hashes are kept,
 * and a presented token's hash is compared with every line in constant time (CRYPTO_memcmp),
 * so neither the file nor the timing reveals a token.
 *
 * Secrets file: one line per source, `<source> <secret>` (the secret is the rest of the line).
 *
 * HMACs go through OpenSSL and are compared with CRYPTO_memcmp.
 */
#ifndef CADENCE_GATEWAY_AUTH_H
#define CADENCE_GATEWAY_AUTH_H

#include <openssl/evp.h>
#include <stddef.h>

typedef enum gw_role {
    GW_ROLE_NONE = 0,
    GW_ROLE_REP = 1,
    GW_ROLE_MANAGER = 2,
    GW_ROLE_INGEST = 3,
} gw_role;

#define GW_ROLE_BIT(r) (1u << (unsigned)(r))

/* The caller of a request, from its token. rep_id is "*" for a token of the whole team. */
typedef struct gw_principal {
    gw_role role;
    char rep_id[65];
    char token_id[17]; /* hex of the first 8 bytes of the token's hash: tells tokens apart */
    char timezone[65]; /* the rep's IANA time zone ("" = UTC) */
} gw_principal;

typedef struct gw_auth gw_auth;

/* "rep", "manager", "ingest" → role; NONE when unknown. */
gw_role gw_role_parse(const char *s);
const char *gw_role_name(gw_role r);

/*
 * Loads both files (either path may be NULL: no tokens / no secrets). Returns NULL with errstr
 * naming the file and line on a malformed file. Paths are copied.
 */
gw_auth *gw_auth_new(const char *tokens_file, const char *secrets_file, char *errstr,
                     size_t errstr_size);

/* Re-reads both files. On error the previous contents stay in force and -1 is returned. */
int gw_auth_reload(gw_auth *a, char *errstr, size_t errstr_size);

/* Frees; NULL is a no-op. Secrets are wiped. */
void gw_auth_free(gw_auth *a);

/* Number of tokens and secrets loaded (for the log). */
size_t gw_auth_token_count(const gw_auth *a);
size_t gw_auth_secret_count(const gw_auth *a);

/*
 * Checks an `Authorization` header value ("Bearer <token>"; may be NULL). Returns 0 and fills
 * *who when the token is known, else -1.
 */
int gw_auth_bearer(const gw_auth *a, const char *authorization, gw_principal *who);

/*
 * The time zone of rep `rep_id` (the `tz=` of one of their rep tokens), copied into `out`;
 * "" when none of their tokens names one (their day is then UTC).
 */
void gw_auth_rep_timezone(const gw_auth *a, const char *rep_id, char *out, size_t n);

/*
 * Verifies that `mac` (mac_len raw bytes) is HMAC-`md` of `data` under the secret of `source`.
 * Returns 0 when it matches, -1 otherwise (also when the source has no secret).
 */
int gw_auth_hmac_verify(const gw_auth *a, const char *source, const EVP_MD *md, const void *data,
                        size_t len, const unsigned char *mac, size_t mac_len);

/*
 * Verifies our own signature header `X-Cadence-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of
 * "<t>.<body>">` with the secret of `source`, and that |now - t| <= window_s. Returns 0 when
 * valid; otherwise -1 with a short reason ("malformed", "stale", "mismatch").
 */
int gw_auth_cadence_signature(const gw_auth *a, const char *source, const char *header,
                              const void *body, size_t len, long long now_s, long window_s,
                              const char **why);

/* Decodes hex (upper or lower case) into out; returns the byte count or -1. */
long gw_hex_decode(const char *hex, unsigned char *out, size_t out_size);

/* Decodes standard base64 (with padding) into out; returns the byte count or -1. */
long gw_base64_decode(const char *b64, unsigned char *out, size_t out_size);

/* Writes the lowercase hex of `len` bytes into out (2*len+1 bytes). */
void gw_hex_encode(const unsigned char *in, size_t len, char *out);

#endif
