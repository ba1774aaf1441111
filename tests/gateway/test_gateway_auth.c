/*
 * The gateway's auth module (services/gateway/auth.c): tokens and secrets files, bearer
 * lookup, HMAC verification and our signature header with its replay window.
 */
#include <criterion/criterion.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"

static char *write_tmp(const char *text)
{
    char *path = strdup("/tmp/cadence-auth-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void token_line(char *buf, size_t n, const char *token, const char *role, const char *rep)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)token, strlen(token), md);
    char hex[2 * SHA256_DIGEST_LENGTH + 1];
    gw_hex_encode(md, sizeof(md), hex);
    snprintf(buf, n, "%s %s %s\n", hex, role, rep);
}

Test(gateway_auth, finds_a_token_by_its_hash_and_refuses_others)
{
    char a[200], b[200], text[512];
    token_line(a, sizeof(a), "tok-ana", "rep", "rep.ana");
    token_line(b, sizeof(b), "tok-boss", "manager", "*");
    snprintf(text, sizeof(text), "# team tokens\n\n%s%s", a, b);
    char *path = write_tmp(text);
    char err[256];
    gw_auth *auth = gw_auth_new(path, NULL, err, sizeof(err));
    cr_assert_not_null(auth, "%s", err);
    cr_assert_eq(gw_auth_token_count(auth), 2);
    gw_principal who;
    cr_assert_eq(gw_auth_bearer(auth, "Bearer tok-ana", &who), 0);
    cr_assert_eq(who.role, GW_ROLE_REP);
    cr_assert_str_eq(who.rep_id, "rep.ana");
    cr_assert_eq(gw_auth_bearer(auth, "bearer  tok-boss ", &who), 0);
    cr_assert_eq(who.role, GW_ROLE_MANAGER);
    cr_assert_str_eq(who.rep_id, "*");
    cr_assert_eq(gw_auth_bearer(auth, "Bearer tok-an", &who), -1);
    cr_assert_eq(gw_auth_bearer(auth, "Basic dG9rLWFuYQ==", &who), -1);
    cr_assert_eq(gw_auth_bearer(auth, "Bearer ", &who), -1);
    cr_assert_eq(gw_auth_bearer(auth, NULL, &who), -1);
    gw_auth_free(auth);
    unlink(path);
    free(path);
}

Test(gateway_auth, a_malformed_file_names_its_line_and_a_reload_keeps_the_old_tokens)
{
    char a[200];
    token_line(a, sizeof(a), "tok-ana", "rep", "rep.ana");
    char *path = write_tmp(a);
    char err[256];
    gw_auth *auth = gw_auth_new(path, NULL, err, sizeof(err));
    cr_assert_not_null(auth, "%s", err);
    FILE *f = fopen(path, "a");
    fputs("deadbeef admin *\n", f);
    fclose(f);
    cr_assert_eq(gw_auth_reload(auth, err, sizeof(err)), -1);
    cr_assert_not_null(strstr(err, "line 2"), "%s", err);
    gw_principal who;
    cr_assert_eq(gw_auth_bearer(auth, "Bearer tok-ana", &who), 0, "old tokens stay in force");
    cr_assert_null(gw_auth_new(path, NULL, err, sizeof(err)));
    gw_auth_free(auth);
    gw_auth_free(NULL);
    unlink(path);
    free(path);
}

Test(gateway_auth, a_reps_time_zone_comes_from_the_tz_field_and_an_unknown_zone_is_refused)
{
    char a[300], b[300], text[700];
    token_line(a, sizeof(a), "tok-ana", "rep", "rep.ana tz=Europe/Berlin");
    token_line(b, sizeof(b), "tok-bob", "rep", "rep.bob");
    snprintf(text, sizeof(text), "%s%s", a, b);
    char *path = write_tmp(text);
    char err[256];
    gw_auth *auth = gw_auth_new(path, NULL, err, sizeof(err));
    cr_assert_not_null(auth, "%s", err);
    gw_principal who;
    cr_assert_eq(gw_auth_bearer(auth, "Bearer tok-ana", &who), 0);
    cr_assert_str_eq(who.timezone, "Europe/Berlin");
    cr_assert_eq(gw_auth_bearer(auth, "Bearer tok-bob", &who), 0);
    cr_assert_str_eq(who.timezone, "", "no zone: the rep's day is UTC");
    char zone[65];
    gw_auth_rep_timezone(auth, "rep.ana", zone, sizeof(zone));
    cr_assert_str_eq(zone, "Europe/Berlin", "a manager reading rep.ana's queue gets her zone");
    gw_auth_rep_timezone(auth, "rep.nobody", zone, sizeof(zone));
    cr_assert_str_eq(zone, "");
    gw_auth_free(auth);
    unlink(path);
    free(path);

    static const char *const bad[] = {"rep.ana tz=Mars/Olympus", "rep.ana Europe/Berlin",
                                      "rep.ana tz="};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        token_line(a, sizeof(a), "tok-ana", "rep", bad[i]);
        path = write_tmp(a);
        cr_assert_null(gw_auth_new(path, NULL, err, sizeof(err)), "%s accepted", bad[i]);
        cr_assert_not_null(strstr(err, "line 1"), "%s", err);
        unlink(path);
        free(path);
    }
}

Test(gateway_auth, verifies_hmacs_with_the_source_secret)
{
    char *path = write_tmp("segment s3cr3t with spaces\nmautic other\n");
    char err[256];
    gw_auth *auth = gw_auth_new(NULL, path, err, sizeof(err));
    cr_assert_not_null(auth, "%s", err);
    cr_assert_eq(gw_auth_secret_count(auth), 2);
    const char body[] = "{\"type\":\"page\"}";
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha1(), "s3cr3t with spaces", 18, (const unsigned char *)body, strlen(body), mac,
         &len);
    cr_assert_eq(gw_auth_hmac_verify(auth, "segment", EVP_sha1(), body, strlen(body), mac, len), 0);
    cr_assert_eq(gw_auth_hmac_verify(auth, "mautic", EVP_sha1(), body, strlen(body), mac, len), -1);
    cr_assert_eq(gw_auth_hmac_verify(auth, "nobody", EVP_sha1(), body, strlen(body), mac, len), -1);
    mac[0] ^= 1;
    cr_assert_eq(gw_auth_hmac_verify(auth, "segment", EVP_sha1(), body, strlen(body), mac, len),
                 -1);
    cr_assert_eq(gw_auth_hmac_verify(auth, "segment", EVP_sha1(), body, strlen(body), mac, 4), -1);
    gw_auth_free(auth);
    unlink(path);
    free(path);
}

static void sign(const char *secret, long long t, const char *body, char *header, size_t n)
{
    char text[512];
    int tl = snprintf(text, sizeof(text), "%lld.%s", t, body);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)text, (size_t)tl, mac,
         &len);
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    gw_hex_encode(mac, len, hex);
    snprintf(header, n, "t=%lld,v1=%s", t, hex);
}

Test(gateway_auth, our_signature_holds_only_inside_the_replay_window)
{
    char *path = write_tmp("crm k3y\n");
    char err[256];
    gw_auth *auth = gw_auth_new(NULL, path, err, sizeof(err));
    cr_assert_not_null(auth, "%s", err);
    const char *body = "{\"event_id\":\"e1\"}";
    const long long now = 1800000000;
    char h[256];
    const char *why;
    sign("k3y", now - 10, body, h, sizeof(h));
    cr_assert_eq(gw_auth_cadence_signature(auth, "crm", h, body, strlen(body), now, 300, &why), 0);
    sign("k3y", now - 301, body, h, sizeof(h));
    cr_assert_eq(gw_auth_cadence_signature(auth, "crm", h, body, strlen(body), now, 300, &why), -1);
    cr_assert_str_eq(why, "stale");
    sign("k3y", now + 301, body, h, sizeof(h));
    cr_assert_eq(gw_auth_cadence_signature(auth, "crm", h, body, strlen(body), now, 300, &why), -1);
    sign("other", now, body, h, sizeof(h));
    cr_assert_eq(gw_auth_cadence_signature(auth, "crm", h, body, strlen(body), now, 300, &why), -1);
    cr_assert_str_eq(why, "mismatch");
    static const char *const malformed[] = {"",    "t=,v1=00",  "t=12x,v1=00", "v1=00",
                                            "t=5", "t=5,v1=zz", "t=-5,v1=00"};
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        cr_assert_eq(gw_auth_cadence_signature(auth, "crm", malformed[i], body, strlen(body), now,
                                               300, &why),
                     -1, "%s", malformed[i]);
        cr_assert_str_eq(why, "malformed", "%s", malformed[i]);
    }
    gw_auth_free(auth);
    unlink(path);
    free(path);
}

Test(gateway_auth, decodes_hex_and_base64_strictly)
{
    unsigned char out[8];
    cr_assert_eq(gw_hex_decode("00fFa1", out, sizeof(out)), 3);
    cr_assert_eq(out[1], 0xff);
    cr_assert_eq(gw_hex_decode("abc", out, sizeof(out)), -1);
    cr_assert_eq(gw_hex_decode("0g", out, sizeof(out)), -1);
    cr_assert_eq(gw_hex_decode("000000000000000000", out, sizeof(out)), -1);
    cr_assert_eq(gw_base64_decode("aGk=", out, sizeof(out)), 2);
    cr_assert_eq(memcmp(out, "hi", 2), 0);
    cr_assert_eq(gw_base64_decode("aGk", out, sizeof(out)), -1);
    cr_assert_eq(gw_base64_decode("", out, sizeof(out)), -1);
    cr_assert_eq(gw_role_parse("ingest"), GW_ROLE_INGEST);
    cr_assert_eq(gw_role_parse("admin"), GW_ROLE_NONE);
}
