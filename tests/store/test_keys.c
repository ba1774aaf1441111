/* Tests for keys: hash tags keep a lead's keys in one slot; shards are stable and spread. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "store/keys.h"

/* The hash tag of a key: the text between the first '{' and the next '}'. */
static void tag_of(const char *key, char *out, size_t n)
{
    const char *a = strchr(key, '{'), *b = a ? strchr(a, '}') : NULL;
    cr_assert(a && b && b > a + 1, "no hash tag in %s", key);
    snprintf(out, n, "%.*s", (int)(b - a - 1), a + 1);
}

Test(keys, every_key_of_a_lead_shares_its_shards_hash_tag)
{
    uint32_t s = cadence_keys_shard("lead-42", 16);
    char k[5][CADENCE_KEY_MAX], tags[5][64];
    cadence_keys_lead_state(k[0], s, "lead-42");
    cadence_keys_timeline(k[1], s, "lead-42");
    cadence_keys_due(k[2], s);
    cadence_keys_tasks(k[3], s);
    cadence_keys_stats(k[4], s);
    for (int i = 0; i < 5; i++)
        tag_of(k[i], tags[i], sizeof(tags[i]));
    for (int i = 1; i < 5; i++)
        cr_assert_str_eq(tags[i], tags[0], "%s vs %s", k[i], k[0]);
    char want[CADENCE_KEY_MAX];
    snprintf(want, sizeof(want), "cad:{s%u}:lead:lead-42", (unsigned)s);
    cr_assert_str_eq(k[0], want);
}

Test(keys, shard_is_stable_and_spreads_leads)
{
    cr_assert_eq(cadence_keys_shard("lead-42", 16), cadence_keys_shard("lead-42", 16));
    cr_assert_eq(cadence_keys_shard("", 16), 2166136261u % 16);
    int hits[16] = {0};
    char id[32];
    for (int i = 0; i < 16000; i++) {
        snprintf(id, sizeof(id), "lead-%d", i);
        hits[cadence_keys_shard(id, 16)]++;
    }
    for (int i = 0; i < 16; i++)
        cr_assert(hits[i] > 800 && hits[i] < 1200, "shard %d got %d of 16000", i, hits[i]);
}

Test(keys, email_keys_ignore_case_and_hide_the_address)
{
    char a[CADENCE_KEY_MAX], b[CADENCE_KEY_MAX];
    cadence_keys_email(a, "Ann.Smith@Example.COM", 16);
    cadence_keys_email(b, "ann.smith@example.com", 16);
    cr_assert_str_eq(a, b);
    cr_assert_null(strstr(a, "example"), "%s", a);
    cr_assert_eq(strncmp(a, "cad:{e", 6), 0, "%s", a);
    cadence_keys_email(b, "bob@example.com", 16);
    cr_assert_str_neq(a, b);
}

Test(keys, rep_keys_are_tagged_by_rep)
{
    char a[CADENCE_KEY_MAX], q[CADENCE_KEY_MAX];
    cr_assert_str_eq(cadence_keys_rep_alerts(a, "rep-7"), "cad:{r:rep-7}:alerts");
    cr_assert_str_eq(cadence_keys_rep_queue(q, "rep-7"), "cad:{r:rep-7}:queue");
    cr_assert_str_eq(cadence_keys_rep_tasks(q, "rep-7"), "cad:{r:rep-7}:tasks");
    cr_assert_str_eq(cadence_keys_rep_alert_ids(q, "rep-7"), "cad:{r:rep-7}:alert_ids");
}
