/*
 * The codec of the stored values (store/codec.h): a lead's state and timeline entries become
 * zstd frames with dictionary v1 and decode back byte for byte; plain JSON (older versions,
 * tests) reads as is; a damaged frame is an error, never a crash. Redis-backed reads and
 * writes through it are in test_store_ops.c.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/codec.h"

/* A state and a timeline entry as the worker wrote them in a run of cadence-loadgen (ids of
 * that run, not those of the dictionary). */
static const char state_json[] =
    "{\"format\":1,\"status\":\"active\",\"lead_id\":\"raec-L1714\",\"rep_id\":\"rep-14\""
    ",\"lead_type\":\"cold\",\"first_name\":\"Lee1714\",\"last_name\":\"Doe\",\"company\""
    ":\"Acme 1714\",\"email\":\"lee1714@raec.example\",\"phone\":\"+1 555 0100\",\"timezo"
    "ne\":\"America/New_York\",\"cadence\":\"zero_to_ten\",\"alert_id\":\"alert-20083c8c1"
    "27d315e\",\"open_task_id\":\"task-ce5bcb9d76e93d9a\",\"open_key\":\"ftc:zero_to_ten:"
    "4:1793619771000|00-100call5f\",\"open_channel\":\"call\",\"has_lead\":1,\"potential"
    "\":74,\"lead_at\":1793619771000,\"status_at\":1793619771000,\"enrolled_at\":17936197"
    "71000,\"cadence_start\":1793619771000,\"ftc\":4,\"connected_step\":-1,\"alert_at\":1"
    "796211776000,\"open_due_at\":1796670000000,\"clock\":1796211776000,\"scripts_used\":"
    "1,\"attempts\":[[1793706171000,0,0,1,0],[1796208176000,0,0,1,0],[1796208176000,0,0,1"
    ",0],[1796208176000,1,0,1,0]],\"alerts\":[[\"hot_page_active\",\"alert-20083c8c127d31"
    "5e\",739952,1]],\"hot_views\":[[1796211776000,10,\"https://www.example.com/pricing\""
    ",\"raec-visit-1714-8335\"]],\"event_ids\":[\"raec-lead-1714\",\"raec-out-1714-0\",\""
    "raec-visit-1714-8335\",\"raec-out-1714-8220\",\"raec-out-1714-8667\",\"raec-out-1714"
    "-17221\"],\"event_ids_next\":6,\"pending\":[]}";

static const char timeline_json[] =
    "{\"at\":\"2026-12-02T10:42:56Z\",\"event_id\":\"raec-out-1714-17221\",\"event\":\"ca"
    "ll_outcome:voicemail_left\",\"status\":\"active\",\"notes\":[\"touch task-ce5bcb9d76"
    "e93d9a (first_time_call) due 2026-12-07T14:00:00-05:00\"],\"detail\":{\"type\":\"cal"
    "l_outcome\",\"event_id\":\"raec-out-1714-17221\",\"occurred_at\":\"2026-12-02T10:42:"
    "56Z\",\"lead_id\":\"raec-L1714\",\"rep_id\":\"rep-14\",\"channel\":\"call\",\"dispos"
    "ition\":\"voicemail_left\"}}";

static cadence_store_codec *C;

static void setup(void)
{
    C = cadence_store_codec_new();
    cr_assert_not_null(C);
}

static void teardown(void)
{
    cadence_store_codec_free(C);
}

TestSuite(codec, .init = setup, .fini = teardown, .timeout = 60);

/* Encodes `json`, checks it is a frame of at most `max_ratio` of its size, decodes it back. */
static size_t round_trip(const char *json, double max_ratio)
{
    size_t len = strlen(json), flen = 0;
    char err[128] = "";
    char *frame = cadence_store_codec_encode(C, json, len, &flen, err, sizeof err);
    cr_assert_not_null(frame, "%s", err);
    cr_assert(cadence_store_codec_is_frame(frame, flen));
    cr_assert_leq((double)flen, max_ratio * (double)len, "%zu of %zu bytes", flen, len);
    const char *text = NULL;
    size_t tlen = 0;
    char *owned = NULL;
    cr_assert_eq(cadence_store_codec_decode(C, frame, flen, &text, &tlen, &owned, err, sizeof err),
                 0, "%s", err);
    cr_assert_not_null(owned);
    cr_assert_eq(text, owned);
    cr_assert_eq(tlen, len);
    cr_assert_eq(text[tlen], '\0', "NUL-terminated");
    cr_assert_str_eq(text, json);
    free(owned);
    free(frame);
    return flen;
}

Test(codec, a_state_round_trips_at_under_a_third_of_its_size)
{
    round_trip(state_json, 0.30);
}

Test(codec, a_timeline_entry_round_trips_at_under_a_third_of_its_size)
{
    round_trip(timeline_json, 0.33);
}

Test(codec, every_level_from_1_to_6_round_trips_and_one_codec_serves_many_calls)
{
    for (int level = 1; level <= 6; level++) {
        cadence_store_codec *c = cadence_store_codec_new_level(level);
        cr_assert_not_null(c);
        for (int i = 0; i < 3; i++) {
            size_t flen = 0, tlen = 0;
            char err[128] = "", *owned = NULL;
            const char *json = i % 2 ? timeline_json : state_json, *text = NULL;
            char *frame = cadence_store_codec_encode(c, json, strlen(json), &flen, err, sizeof err);
            cr_assert_not_null(frame, "%s", err);
            /* any level decodes with any codec: the level is not part of the format */
            cr_assert_eq(
                cadence_store_codec_decode(C, frame, flen, &text, &tlen, &owned, err, sizeof err),
                0, "level %d: %s", level, err);
            cr_assert_str_eq(text, json);
            free(owned);
            free(frame);
        }
        cadence_store_codec_free(c);
    }
}

Test(codec, plain_json_is_read_as_it_is)
{
    const char *plain = "{\"status\":\"active\"}", *text = NULL;
    size_t tlen = 0;
    char err[128] = "", *owned = (char *)"unset";
    cr_assert_eq(
        cadence_store_codec_decode(C, plain, strlen(plain), &text, &tlen, &owned, err, sizeof err),
        0);
    cr_assert_eq(text, plain, "the value itself, not a copy");
    cr_assert_eq(tlen, strlen(plain));
    cr_assert_null(owned);
    /* three bytes of the magic are not a frame either */
    cr_assert_eq(
        cadence_store_codec_decode(C, "\x28\xb5\x2f", 3, &text, &tlen, &owned, err, sizeof err), 0);
    cr_assert_eq(tlen, 3);
}

Test(codec, empty_input_encodes_to_a_frame_and_an_empty_value_reads_as_empty)
{
    size_t flen = 0, tlen = 99;
    char err[128] = "", *owned = NULL;
    const char *text = NULL;
    char *frame = cadence_store_codec_encode(C, "", 0, &flen, err, sizeof err);
    cr_assert_not_null(frame, "%s", err);
    cr_assert(cadence_store_codec_is_frame(frame, flen));
    cr_assert_eq(cadence_store_codec_decode(C, frame, flen, &text, &tlen, &owned, err, sizeof err),
                 0, "%s", err);
    cr_assert_eq(tlen, 0);
    cr_assert_str_eq(text, "");
    free(owned);
    free(frame);
    cr_assert_eq(cadence_store_codec_decode(C, "", 0, &text, &tlen, &owned, err, sizeof err), 0);
    cr_assert_eq(tlen, 0);
    cr_assert_null(owned);
}

/* Decoding must fail with a message and leave nothing to free. */
static void assert_refused(const char *value, size_t len, const char *why)
{
    const char *text = (const char *)"unset";
    size_t tlen = 0;
    char err[128] = "", *owned = (char *)"unset";
    cr_assert_eq(cadence_store_codec_decode(C, value, len, &text, &tlen, &owned, err, sizeof err),
                 -1, "%s: %zu bytes decoded", why, len);
    cr_assert_null(text);
    cr_assert_null(owned);
    cr_assert(strncmp(err, "codec: ", 7) == 0 && strlen(err) > 7, "%s: message \"%s\"", why, err);
}

Test(codec, a_truncated_or_corrupt_frame_is_an_error_not_a_crash)
{
    size_t flen = 0;
    char err[128] = "";
    char *frame =
        cadence_store_codec_encode(C, state_json, strlen(state_json), &flen, err, sizeof err);
    cr_assert_not_null(frame, "%s", err);
    /* every truncation, the bare magic included */
    for (size_t n = 4; n < flen; n++)
        assert_refused(frame, n, "truncated");
    /* garbage after the magic */
    assert_refused("\x28\xb5\x2f\xfdgarbage, not a frame", 25, "garbage");
    /* a valid frame followed by more bytes */
    char *longer = malloc(flen + 8);
    cr_assert_not_null(longer);
    memcpy(longer, frame, flen);
    memcpy(longer + flen, "trailing", 8);
    assert_refused(longer, flen + 8, "trailing bytes");
    free(longer);
    /* damaged blocks: refused, or (no checksum is stored) decoded to text of the announced
     * size that the JSON parser then refuses; never a crash (the sanitizers watch) */
    for (size_t i = 6; i < flen; i++) {
        frame[i] ^= 0x5a;
        const char *text = NULL;
        size_t tlen = 0;
        char *owned = NULL;
        if (cadence_store_codec_decode(C, frame, flen, &text, &tlen, &owned, err, sizeof err) == 0)
            cr_assert_eq(tlen, strlen(state_json));
        free(owned);
        frame[i] ^= 0x5a;
    }
    free(frame);
}

Test(codec, a_frame_of_another_dictionary_is_refused)
{
    /* magic, header (single segment, a 1-byte dictionary id 7, content size 2), one raw
     * block "{}" */
    static const char v2[] = "\x28\xb5\x2f\xfd\x21\x07\x02\x11\x00\x00{}";
    assert_refused(v2, sizeof v2 - 1, "dictionary 7");
    const char *text = NULL;
    size_t tlen = 0;
    char err[128] = "", *owned = NULL;
    cadence_store_codec_decode(C, v2, sizeof v2 - 1, &text, &tlen, &owned, err, sizeof err);
    cr_assert(strstr(err, "dictionary 7") != NULL, "%s", err);
}

Test(codec, a_frame_announcing_too_much_text_is_refused)
{
    /* header: content size field of 4 bytes (flag 2), single segment: 0x80 | 0x20; 1 GiB */
    static const char big[] = "\x28\xb5\x2f\xfd\xa0\x00\x00\x00\x40\x01\x00\x00";
    assert_refused(big, sizeof big - 1, "1 GiB");
}

/* Dictionary v1 is part of the stored format: these bytes, forever. */
Test(codec, dictionary_v1_is_the_shipped_file_unchanged)
{
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a 64 */
    for (size_t i = 0; i < cadence_store_dict_v1_size; i++)
        h = (h ^ (unsigned char)cadence_store_dict_v1[i]) * 0x100000001b3u;
    cr_assert_eq(cadence_store_dict_v1_size, 8879);
    cr_assert_eq(h, 0xa2b80bdb2cfc1b96u,
                 "common/store/dict/v1.json changed: frames stored with "
                 "it would no longer decode");
    cr_assert_eq(cadence_store_dict_v1[cadence_store_dict_v1_size], '\0');
}
