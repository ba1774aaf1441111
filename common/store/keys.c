/*
 * keys — Redis key names. See keys.h for the layout.
 */
#include "store/keys.h"

#include <ctype.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

uint32_t cadence_keys_shard(const char *lead_id, uint32_t shards)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)lead_id; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return shards ? h % shards : 0;
}

static char *fmt_lead(char *buf, uint32_t shard, const char *kind, const char *id)
{
    snprintf(buf, CADENCE_KEY_MAX, "cad:{s%u}:%s:%.64s", (unsigned)shard, kind, id);
    return buf;
}

char *cadence_keys_lead_state(char *buf, uint32_t shard, const char *lead_id)
{
    return fmt_lead(buf, shard, "lead", lead_id);
}

char *cadence_keys_timeline(char *buf, uint32_t shard, const char *lead_id)
{
    return fmt_lead(buf, shard, "timeline", lead_id);
}

static char *fmt_shard(char *buf, uint32_t shard, const char *kind)
{
    snprintf(buf, CADENCE_KEY_MAX, "cad:{s%u}:%s", (unsigned)shard, kind);
    return buf;
}

char *cadence_keys_due(char *buf, uint32_t shard)
{
    return fmt_shard(buf, shard, "due");
}

char *cadence_keys_tasks(char *buf, uint32_t shard)
{
    return fmt_shard(buf, shard, "tasks");
}

char *cadence_keys_inflight(char *buf, uint32_t shard)
{
    return fmt_shard(buf, shard, "inflight");
}

char *cadence_keys_stats(char *buf, uint32_t shard)
{
    return fmt_shard(buf, shard, "stats");
}

char *cadence_keys_stats_day(char *buf, uint32_t shard, const char *day)
{
    snprintf(buf, CADENCE_KEY_MAX, "cad:{s%u}:stats:%.10s", (unsigned)shard, day);
    return buf;
}

char *cadence_keys_email(char *buf, const char *email, uint32_t shards)
{
    char lower[256];
    size_t n = 0;
    for (; email[n] && n + 1 < sizeof(lower); n++)
        lower[n] = (char)tolower((unsigned char)email[n]);
    lower[n] = '\0';
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)lower, n, md);
    char hex[2 * SHA256_DIGEST_LENGTH + 1];
    for (size_t i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    snprintf(buf, CADENCE_KEY_MAX, "cad:{e%u}:email:%s", (unsigned)cadence_keys_shard(hex, shards),
             hex);
    return buf;
}

char *cadence_keys_rep_alerts(char *buf, const char *rep_id)
{
    snprintf(buf, CADENCE_KEY_MAX, "cad:{r:%.64s}:alerts", rep_id);
    return buf;
}

char *cadence_keys_rep_queue(char *buf, const char *rep_id)
{
    snprintf(buf, CADENCE_KEY_MAX, "cad:{r:%.64s}:queue", rep_id);
    return buf;
}

char *cadence_keys_rep_tasks(char *buf, const char *rep_id)
{
    snprintf(buf, CADENCE_KEY_MAX, "cad:{r:%.64s}:tasks", rep_id);
    return buf;
}

char *cadence_keys_rep_alert_ids(char *buf, const char *rep_id)
{
    snprintf(buf, CADENCE_KEY_MAX, "cad:{r:%.64s}:alert_ids", rep_id);
    return buf;
}

char *cadence_keys_rep_lead_index(char *buf, const char *rep_id)
{
    snprintf(buf, CADENCE_KEY_MAX, "cad:{r:%.64s}:lead_index", rep_id);
    return buf;
}

char *cadence_keys_rep_lead_cards(char *buf, const char *rep_id)
{
    snprintf(buf, CADENCE_KEY_MAX, "cad:{r:%.64s}:lead_cards", rep_id);
    return buf;
}

char *cadence_keys_rep_lead_terms(char *buf, const char *rep_id)
{
    snprintf(buf, CADENCE_KEY_MAX, "cad:{r:%.64s}:lead_terms", rep_id);
    return buf;
}
