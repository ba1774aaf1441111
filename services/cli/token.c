/*
 * token — `cadence token add --role R [--rep ID] [--timezone ZONE]`: makes a new random bearer
 * token for the gateway, prints it once on stdout, and appends `<sha256 hex> <role> <rep_id or
 * *> [tz=<ZONE>]` to CADENCE_TOKENS_FILE (created with mode 0600). Only the hash is stored: a lost
 * token is replaced, never recovered. Send the gateway SIGHUP to load the new line.
 *
 * The token is 32 bytes from OpenSSL's RAND_bytes, base64url without padding (43 characters).
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/id.h"
#include "cli.h"

#define TOKEN_BYTES 32

static const char *const token_roles[] = {"rep", "manager", "ingest"};

static int usage(FILE *out, int status)
{
    fprintf(out, "usage: cadence token add --role rep|manager|ingest [--rep REP_ID]\n"
                 "                         [--timezone IANA_ZONE]\n\n"
                 "Prints a new token and appends its SHA-256 line to CADENCE_TOKENS_FILE\n"
                 "(created with mode 0600). A rep token needs --rep; manager and ingest\n"
                 "tokens cover the team (*) unless --rep is given. --timezone is the rep's\n"
                 "zone (e.g. Europe/Berlin): the console's \"today\" (default UTC). Reload the\n"
                 "gateway with SIGHUP afterwards.\n");
    return status;
}

/* base64url without padding of `len` bytes into out (4 * ceil(len / 3) + 1 bytes). */
static void base64url(const unsigned char *in, size_t len, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, in, (int)len);
    size_t n = strlen(out);
    while (n && out[n - 1] == '=')
        out[--n] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
}

int cadence_cli_token(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0))
        return usage(stdout, 0);
    if (argc < 2 || strcmp(argv[1], "add") != 0)
        return usage(stderr, 2);
    const char *role = NULL, *rep = NULL, *zone = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
            role = argv[++i];
        else if (strcmp(argv[i], "--rep") == 0 && i + 1 < argc)
            rep = argv[++i];
        else if (strcmp(argv[i], "--timezone") == 0 && i + 1 < argc)
            zone = argv[++i];
        else
            return usage(stderr, 2);
    }
    int role_ok = 0;
    for (size_t i = 0; role && i < sizeof(token_roles) / sizeof(token_roles[0]); i++)
        role_ok |= strcmp(role, token_roles[i]) == 0;
    if (!role_ok) {
        fprintf(stderr, "cadence token: --role must be rep, manager or ingest\n");
        return 2;
    }
    if (rep && !cadence_id_valid(rep)) {
        fprintf(stderr, "cadence token: --rep must match [A-Za-z0-9._:-]{1,64}\n");
        return 2;
    }
    if (zone) {
        GTimeZone *z = strlen(zone) < 65 ? g_time_zone_new_identifier(zone) : NULL;
        if (!z) {
            fprintf(stderr, "cadence token: --timezone: unknown IANA time zone \"%.64s\"\n", zone);
            return 2;
        }
        g_time_zone_unref(z);
    }
    if (strcmp(role, "rep") == 0 && !rep) {
        fprintf(stderr, "cadence token: a rep token needs --rep REP_ID\n");
        return 2;
    }
    const char *path = getenv("CADENCE_TOKENS_FILE");
    if (!path || !*path) {
        fprintf(stderr, "cadence token: CADENCE_TOKENS_FILE is not set\n");
        return 2;
    }
    unsigned char raw[TOKEN_BYTES];
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        fprintf(stderr, "cadence token: RAND_bytes failed\n");
        return 1;
    }
    char token[4 * ((TOKEN_BYTES + 2) / 3) + 1];
    base64url(raw, sizeof(raw), token);
    OPENSSL_cleanse(raw, sizeof(raw));
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)token, strlen(token), md);
    char hex[2 * SHA256_DIGEST_LENGTH + 1];
    for (size_t i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);

    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "cadence token: cannot open %s: %s\n", path, strerror(errno));
        OPENSSL_cleanse(token, sizeof(token));
        return 1;
    }
    char line[256];
    int n = snprintf(line, sizeof(line), "%s %s %s%s%s\n", hex, role, rep ? rep : "*",
                     zone ? " tz=" : "", zone ? zone : "");
    ssize_t w = write(fd, line, (size_t)n);
    if (w != n || fsync(fd) != 0 || close(fd) != 0) {
        fprintf(stderr, "cadence token: cannot write %s: %s\n", path, strerror(errno));
        OPENSSL_cleanse(token, sizeof(token));
        return 1;
    }
    printf("%s\n", token);
    OPENSSL_cleanse(token, sizeof(token));
    return 0;
}
