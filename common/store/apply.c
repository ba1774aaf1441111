/* apply — see apply.h; the script's contract is the header of lua/apply_event.lua. */
#include "store/apply.h"
#include "base/id.h"
#include "store/codec.h"
#include "store/keys.h"
#include "store/scripts.h"
#include "store/stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define APPLY_KEYS 5
#define APPLY_FIXED_ARGS 18
/* Where ARGV 7 (the state), ARGV 8 (the outbox), ARGV 13 (the task) and ARGV 14 (the timeline
 * entry) are in the command's arguments. */
#define APPLY_STATE_ARG (APPLY_KEYS + 6)
#define APPLY_OUTBOX_ARG (APPLY_KEYS + 7)
#define APPLY_TASK_ARG (APPLY_KEYS + 12)
#define APPLY_TIMELINE_ARG (APPLY_KEYS + 13)

/* A value the store keeps compressed, as sent: its frame (owned), or NULL for no value. */
struct frame {
    char *data;
    size_t len;
};

enum { FRAME_STATE, FRAME_OUTBOX, FRAME_TASK, FRAME_TIMELINE, N_FRAMES };

/* Encodes `text` (NULL or "": no value) into `f`. Returns 0, or -1 when the codec failed. */
static int frame_of(cadence_store_codec *codec, const char *text, struct frame *f)
{
    *f = (struct frame){NULL, 0};
    if (!text || !*text)
        return 0;
    char err[128];
    f->data = cadence_store_codec_encode(codec, text, strlen(text), &f->len, err, sizeof(err));
    return f->data ? 0 : -1;
}

static void frames_free(struct frame *fr)
{
    for (int i = 0; i < N_FRAMES; i++)
        free(fr[i].data);
}

struct apply_call {
    cadence_store_apply_cb cb;
    void *arg;
};

const cadence_redis_script *cadence_store_apply_script(cadence_redis *r, char *errstr,
                                                       size_t errstr_size)
{
    return cadence_redis_script_add(r, cadence_lua_apply_event, errstr, errstr_size);
}

static void on_reply(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    struct apply_call call = *(struct apply_call *)arg;
    free(arg);
    cadence_store_apply_result res = {.verdict = CADENCE_STORE_FAILED};
    if (error || !reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
        reply->element[0]->type != REDIS_REPLY_STRING) {
        res.script_error = reply != NULL;
        res.error = error ? error : "apply: unexpected reply";
        call.cb(&res, call.arg);
        return;
    }
    const char *verdict = reply->element[0]->str;
    const redisReply *val = reply->element[1];
    if (strcmp(verdict, "ok") == 0) {
        res.verdict = CADENCE_STORE_APPLIED;
        res.version = val->str ? strtol(val->str, NULL, 10) : 0;
        res.unqueued = reply->elements > 2 && reply->element[2]->type == REDIS_REPLY_INTEGER &&
                       reply->element[2]->integer == 1;
    } else if (strcmp(verdict, "dup") == 0) {
        /* the outbox is stored as a zstd frame (older ones as JSON): decoded for the callback */
        char *owned = NULL, why[160];
        if (cadence_redis_decode(r, val->str, val->str ? val->len : 0, "stored outbox", &res.outbox,
                                 &res.outbox_len, &owned, why, sizeof(why)) != 0) {
            res.script_error = 1;
            res.error = why;
            call.cb(&res, call.arg);
            return;
        }
        res.verdict = CADENCE_STORE_DUPLICATE;
        call.cb(&res, call.arg);
        free(owned);
        return;
    } else if (strcmp(verdict, "noop") == 0) {
        res.verdict = CADENCE_STORE_NOT_APPLIED;
    } else {
        res.verdict = CADENCE_STORE_CONFLICT;
        res.version = val->str ? strtol(val->str, NULL, 10) : 0;
    }
    call.cb(&res, call.arg);
}

enum cadence_redis_status cadence_store_apply(cadence_redis *r, const cadence_redis_script *script,
                                              const cadence_store_apply_args *a,
                                              cadence_store_apply_cb cb, void *arg)
{
    const char *action = a->touch == CADENCE_STORE_TOUCH_SET      ? "set"
                         : a->touch == CADENCE_STORE_TOUCH_CANCEL ? "cancel"
                         : a->touch == CADENCE_STORE_TOUCH_KEEP   ? "keep"
                                                                  : NULL;
    if (!action || !cb || !a->event_id || !*a->event_id ||
        (a->after_event_id && !cadence_id_valid(a->after_event_id)))
        return CADENCE_REDIS_INVALID;
    size_t n = a->check_only ? 0 : a->n_counters;
    int dated = a->stats_day && *a->stats_day;
    if (dated && !cadence_store_stats_day_valid(a->stats_day))
        return CADENCE_REDIS_INVALID;
    /* The state, the outbox, the task and the timeline entry are stored as zstd frames
     * (store/codec.h): binary, so every argument goes with its length. A check writes none. */
    cadence_store_codec *codec = cadence_redis_codec(r);
    const char *outbox =
        a->check_only || !a->outbox || strcmp(a->outbox, "[]") == 0 ? NULL : a->outbox;
    struct frame fr[N_FRAMES] = {{0}};
    int unencoded = !codec || frame_of(codec, a->state_json, &fr[FRAME_STATE]) ||
                    frame_of(codec, outbox, &fr[FRAME_OUTBOX]) ||
                    frame_of(codec, a->check_only ? NULL : a->task_json, &fr[FRAME_TASK]) ||
                    frame_of(codec, a->timeline_json, &fr[FRAME_TIMELINE]);
    size_t max_args = APPLY_KEYS + APPLY_FIXED_ARGS + 2 * n;
    const char **argv = malloc(max_args * sizeof(*argv));
    size_t *argvlen = malloc(max_args * sizeof(*argvlen));
    char(*deltas)[32] = n ? malloc(n * sizeof(*deltas)) : NULL;
    char(*fields)[CADENCE_STORE_STATS_FIELD_MAX] = n ? malloc(n * sizeof(*fields)) : NULL;
    struct apply_call *call = malloc(sizeof(*call));
    if (unencoded || !argv || !argvlen || (n && (!deltas || !fields)) || !call) {
        frames_free(fr);
        free(argv);
        free(argvlen);
        free(deltas);
        free(fields);
        free(call);
        return CADENCE_REDIS_INVALID;
    }
    call->cb = cb;
    call->arg = arg;

    char k_state[CADENCE_KEY_MAX], k_due[CADENCE_KEY_MAX], k_tasks[CADENCE_KEY_MAX],
        k_tl[CADENCE_KEY_MAX], k_stats[CADENCE_KEY_MAX];
    cadence_keys_lead_state(k_state, a->shard, a->lead_id);
    cadence_keys_due(k_due, a->shard);
    cadence_keys_tasks(k_tasks, a->shard);
    cadence_keys_timeline(k_tl, a->shard, a->lead_id);
    if (dated)
        cadence_keys_stats_day(k_stats, a->shard, a->stats_day);
    else
        cadence_keys_stats(k_stats, a->shard);

    char source[CADENCE_KEY_MAX] = "", offset[32] = "-1", floor_s[32] = "-1";
    if (a->source_topic) {
        snprintf(source, sizeof(source), "%s:%d", a->source_topic, (int)a->source_partition);
        snprintf(offset, sizeof(offset), "%lld", (long long)a->source_offset);
        snprintf(floor_s, sizeof(floor_s), "%lld", (long long)a->source_floor);
    }
    char version[32 + CADENCE_ID_SIZE], due[32], cap[32], outs[32], ncount[32], expire[32];
    if (a->after_event_id && a->after_event_id[0])
        snprintf(version, sizeof(version), "%ld %s", a->expected_version, a->after_event_id);
    else
        snprintf(version, sizeof(version), "%ld", a->expected_version);
    snprintf(outs, sizeof(outs), "%d", CADENCE_STORE_OUTBOXES);
    snprintf(due, sizeof(due), "%lld", (long long)a->task_due_ms);
    snprintf(cap, sizeof(cap), "%d", CADENCE_STORE_TIMELINE_CAP);
    snprintf(ncount, sizeof(ncount), "%zu", n);
    snprintf(expire, sizeof(expire), "%lld",
             dated ? (long long)cadence_store_stats_expire_at(a->stats_day, a->stats_retention_days)
                   : 0LL);

    int argc = 0;
    argv[argc++] = k_state;
    argv[argc++] = k_due;
    argv[argc++] = k_tasks;
    argv[argc++] = k_tl;
    argv[argc++] = k_stats;
    argv[argc++] = a->check_only ? "check" : "apply";
    argv[argc++] = a->event_id;
    argv[argc++] = source;
    argv[argc++] = offset;
    argv[argc++] = floor_s;
    argv[argc++] = version;
    argv[argc++] = fr[FRAME_STATE].data ? fr[FRAME_STATE].data : "";
    argv[argc++] = fr[FRAME_OUTBOX].data ? fr[FRAME_OUTBOX].data : "";
    argv[argc++] = action;
    argv[argc++] = a->drop_task_id ? a->drop_task_id : "";
    argv[argc++] = a->task_id ? a->task_id : "";
    argv[argc++] = due;
    argv[argc++] = fr[FRAME_TASK].data ? fr[FRAME_TASK].data : "";
    argv[argc++] = fr[FRAME_TIMELINE].data ? fr[FRAME_TIMELINE].data : "";
    argv[argc++] = cap;
    argv[argc++] = outs;
    argv[argc++] = expire;
    argv[argc++] = ncount;
    for (size_t i = 0; i < n; i++) {
        snprintf(deltas[i], sizeof(deltas[i]), "%lld", (long long)a->counters[i].delta);
        argv[argc++] = cadence_store_stats_field(fields[i], sizeof(fields[i]), a->counters[i].rep,
                                                 a->counters[i].name);
        argv[argc++] = deltas[i];
    }
    for (int i = 0; i < argc; i++) /* the frames are not NUL-terminated: never strlen them */
        argvlen[i] = i == APPLY_STATE_ARG      ? fr[FRAME_STATE].len
                     : i == APPLY_OUTBOX_ARG   ? fr[FRAME_OUTBOX].len
                     : i == APPLY_TASK_ARG     ? fr[FRAME_TASK].len
                     : i == APPLY_TIMELINE_ARG ? fr[FRAME_TIMELINE].len
                                               : strlen(argv[i]);
    enum cadence_redis_status st =
        cadence_redis_evalsha(r, script, APPLY_KEYS, argc, argv, argvlen, on_reply, call);
    if (st != CADENCE_REDIS_OK)
        free(call);
    frames_free(fr);
    free(argv);
    free(argvlen);
    free(deltas);
    free(fields);
    return st;
}

struct forget_call {
    cadence_store_forget_cb cb;
    void *arg;
};

static void on_forgotten(cadence_redis *r, const redisReply *reply, const char *error, void *arg)
{
    (void)r;
    struct forget_call c = *(struct forget_call *)arg;
    free(arg);
    const char *why = error ? error : !reply ? "no reply" : NULL;
    for (size_t i = 0; !why && reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++)
        if (reply->element[i]->type == REDIS_REPLY_ERROR)
            why = reply->element[i]->str;
    c.cb(why, c.arg);
}

enum cadence_redis_status cadence_store_forget_outboxes(cadence_redis *r,
                                                        const cadence_store_outbox_ref *refs,
                                                        size_t n, cadence_store_forget_cb cb,
                                                        void *arg)
{
    if (n == 0 || !cb)
        return CADENCE_REDIS_INVALID;
    struct forget_call *c = malloc(sizeof(*c));
    cadence_redis_batch *b = cadence_redis_batch_new();
    enum cadence_redis_status st = c && b ? CADENCE_REDIS_OK : CADENCE_REDIS_INVALID;
    for (size_t i = 0; st == CADENCE_REDIS_OK && i < n; i++) {
        char key[CADENCE_KEY_MAX], field[CADENCE_KEY_MAX];
        cadence_keys_lead_state(key, refs[i].shard, refs[i].lead_id);
        snprintf(field, sizeof(field), "x:%s", refs[i].event_id);
        const char *hdel[] = {"HDEL", key, field};
        if (cadence_redis_batch_add_argv(b, 3, hdel, NULL) != 0)
            st = CADENCE_REDIS_INVALID;
    }
    if (st == CADENCE_REDIS_OK) {
        c->cb = cb;
        c->arg = arg;
        st = cadence_redis_batch_send(r, b, on_forgotten, c);
    }
    if (st != CADENCE_REDIS_OK)
        free(c);
    cadence_redis_batch_free(b);
    return st;
}
