/* dead_letter — see dead_letter.h. */
#include "dead_letter.h"

#include <glib.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/id.h"
#include "base/rfc3339.h"
#include "core/log.h"

static void die_oom(void)
{
    cadence_log_json(CADENCE_LOG_ERROR, "out of memory building a dead letter", NULL);
    abort();
}

char *worker_dead_letter_json(const rd_kafka_message_t *m, const char *error, int64_t now_ms)
{
    const char *topic = rd_kafka_topic_name(m->rkt);
    char id[CADENCE_ID_SIZE], at[CADENCE_RFC3339_SIZE];
    snprintf(id, sizeof(id), "dlq:%s:%d:%lld", topic, (int)m->partition, (long long)m->offset);
    cadence_rfc3339_format_ms(now_ms, at, sizeof(at));
    const char *bytes = m->payload ? (const char *)m->payload : "";
    int utf8 = memchr(bytes, '\0', m->len) == NULL && g_utf8_validate(bytes, (gssize)m->len, NULL);
    char *payload =
        utf8 ? g_strndup(bytes, m->len) : g_base64_encode((const guchar *)bytes, m->len);
    char why[WORKER_DEAD_LETTER_ERROR_MAX + 1];
    snprintf(why, sizeof(why), "%s", error ? error : "invalid");
    json_t *key = m->key && g_utf8_validate(m->key, (gssize)m->key_len, NULL)
                      ? json_stringn(m->key, m->key_len)
                      : json_null();
    json_t *v = json_pack("{s:s,s:s,s:s,s:{s:s,s:i,s:I},s:s,s:o,s:s,s:s}", "event_id", id, "type",
                          "dead_letter", "occurred_at", at, "source", "topic", topic, "partition",
                          (int)m->partition, "offset", (json_int_t)m->offset, "error", why, "key",
                          key ? key : json_null(), "payload", payload, "payload_encoding",
                          utf8 ? "utf-8" : "base64");
    g_free(payload);
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (!text)
        die_oom();
    return text;
}

char *worker_dead_letter_key(const rd_kafka_message_t *m)
{
    if (!m->key)
        return NULL;
    char *k = strndup(m->key, m->key_len);
    if (!k)
        die_oom();
    return k;
}
