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
    "{\"format\":1,\"status\":\"active\",\"lead_id\":\"rf20-L615\",\"rep_id\":\"rep-15\","
    "\"lead_type\":\"warm\",\"first_name\":\"Lee615\",\"last_name\":\"Doe\",\"company\":"
    "\"Acme 615\",\"email\":\"lee615@rf20.example\",\"phone\":\"+1 555 0100\",\"timezone"
    "\":\"America/New_York\",\"cadence\":\"zero_to_ten_warm\",\"alert_id\":\"alert-a8eaa9"
    "b8bbfc17c0\",\"open_task_id\":\"task-fa924dea1241f7f4\",\"open_key\":\"ftc:zero_to_t"
    "en_warm:5:1793620847000|11100call6f\",\"open_channel\":\"call\",\"has_lead\":1,\"pot"
    "ential\":55,\"lead_at\":1793620847000,\"status_at\":1793620847000,\"enrolled_at\":17"
    "93620847000,\"cadence_start\":1793620847000,\"ftc\":5,\"connected_step\":-1,\"alert_"
    "at\":1796212852000,\"open_due_at\":1796824800000,\"open_script\":2,\"clock\":1796212"
    "852000,\"scripts_used\":1,\"attempts\":[[1793707247000,0,0,1,0],[1796209252000,0,0,1"
    ",0],[1796209252000,0,0,1,0],[1796209252000,0,0,1,0],[1796209252000,1,0,1,0]],\"alert"
    "s\":[[\"warm_inbound\",\"alert-808c0b4951da23e6\",739922,1],[\"hot_page_active\",\"a"
    "lert-a8eaa9b8bbfc17c0\",739952,1]],\"hot_views\":[[1796212852000,10,\"https://www.ex"
    "ample.com/pricing\",\"rf20-visit-615-3011\"]],\"event_ids\":[\"rf20-lead-615\",\"rf2"
    "0-out-615-0\",\"rf20-out-615-358\",\"rf20-visit-615-3011\",\"rf20-out-615-10768\",\""
    "rf20-out-615-12652\",\"rf20-out-615-14969\"],\"event_ids_next\":7,\"pending\":[]}";

static const char timeline_json[] =
    "{\"at\":\"2026-12-02T11:00:52Z\",\"event_id\":\"rf20-out-838-5218\",\"event\":\"call"
    "_outcome:voicemail_left\",\"status\":\"active\",\"notes\":[\"touch task-5b3e9b9b4291"
    "6efd (first_time_call) due 2026-12-09T09:00:00-05:00\"],\"detail\":{\"rep_id\":\"rep"
    "-13\",\"channel\":\"call\",\"disposition\":\"voicemail_left\"}}";

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

Test(codec, a_timeline_entry_round_trips_at_under_two_fifths_of_its_size)
{
    round_trip(timeline_json, 0.40);
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
    cr_assert_eq(cadence_store_dict_v1_size, 7682);
    cr_assert_eq(h, 0x08769152ce1a27a7u,
                 "common/store/dict/v1.json changed: frames stored with "
                 "it would no longer decode");
    cr_assert_eq(cadence_store_dict_v1[cadence_store_dict_v1_size], '\0');
}
