/*
 * test_engine_playbook — loading the playbook: the shipped default encodes Zero-to-Ten, and
 * every semantic check refuses a bad playbook naming the field.
 */
#include <unistd.h>

#include "engine_harness.h"
#include "schema/playbook_file.h"

Test(engine_playbook, the_default_encodes_zero_to_ten)
{
    char err[512];
    cadence_playbook *pb = cadence_playbook_load(CADENCE_DATA_DIR "/examples/playbook.json",
                                                 CADENCE_DATA_DIR "/schemas", err, sizeof err);
    cr_assert(pb, "%s", err);
    const cadence_playbook_cadence *cd = cadence_playbook_cadence_find(pb, "zero_to_ten");
    cr_assert(cd);
    static const struct {
        int gap, start, vm, email;
    } want[] = {{0, 9 * 60, 1, 1},  {0, 14 * 60, 0, 0}, {1, 14 * 60, 1, 1}, {3, 9 * 60, 1, 0},
                {5, 14 * 60, 0, 0}, {7, 9 * 60, 1, 1},  {10, 14 * 60, 1, 1}};
    cr_assert_eq(cd->n_steps, G_N_ELEMENTS(want));
    for (size_t i = 0; i < cd->n_steps; i++) {
        cr_assert_eq(cd->steps[i].gap_days, want[i].gap, "step %zu", i);
        cr_assert_eq(cd->steps[i].slot.start_min, want[i].start, "step %zu", i);
        cr_assert_eq(cd->steps[i].voicemail, want[i].vm, "step %zu", i);
        cr_assert_eq(cd->steps[i].email, want[i].email, "step %zu", i);
    }
    cr_assert_eq(cadence_playbook_cadence_choose(pb, "warm", 60),
                 cadence_playbook_cadence_find(pb, "zero_to_ten_warm"));
    cr_assert_eq(cadence_playbook_cadence_choose(pb, "cold", 60), cd);
    cr_assert_null(cadence_playbook_cadence_choose(pb, "warm", 19));
    cr_assert_eq(cadence_playbook_hot_weight(pb, "https://x.test/pricing?a=1"), 10);
    cr_assert_eq(cadence_playbook_hot_weight(pb, "/demo/book"), 8);
    cr_assert_eq(cadence_playbook_hot_weight(pb, "/blog/pricing"), 0);
    cr_assert_geq(cadence_playbook_script_count(pb), 3);
    cadence_playbook_free(pb);
    cadence_playbook_free(NULL);
}

typedef struct bad_row {
    const char *patch; /* merged over the default playbook */
    const char *error; /* expected substring of the error */
} bad_row;

static const bad_row bad_rows[] = {
    {"{\"voicemail_scripts\": [{\"id\":\"a\",\"text\":\"x\"},{\"id\":\"b\",\"text\":\"y\"}]}",
     "playbook: /voicemail_scripts: needs 3"},
    {"{\"email_scripts\": []}", "playbook: /email_scripts: needs 3"},
    {"{\"default_timezone\": \"Mars/Olympus\"}", "playbook: /default_timezone: unknown IANA"},
    {"{\"cadences\": [{\"name\":\"c\",\"steps\":[]}], \"rules\": []}",
     "playbook: /cadences/0/steps: must be an array of 1.."},
    {"{\"cadences\": [{\"name\":\"c\",\"steps\":[{\"gap_days\":0,\"slot\":{\"start\":\"9am\","
     "\"end\":\"11:00\"}}]}], \"rules\": []}",
     "playbook: /cadences/0/steps/0/slot/start: not HH:MM"},
    {"{\"cadences\": [{\"name\":\"c\",\"steps\":[{\"gap_days\":0,\"slot\":{\"start\":\"06:00\","
     "\"end\":\"07:00\"}}]}], \"rules\": []}",
     "playbook: /cadences/0/steps/0/slot: must lie inside business_hours"},
    {"{\"rules\": [{\"lead_type\":\"warm\",\"cadence\":\"nope\"}]}",
     "playbook: /rules/0: cadence \"nope\" is not defined"},
    {"{\"holidays\": [\"2026-13-01\"]}", "playbook: /holidays/0: not a date"},
    {"{\"working_days\": [\"monday\"]}", "playbook: /working_days/0: not one of"},
    {"{\"hot_pages\": [{\"pattern\":\"pricing\",\"weight\":3}]}",
     "playbook: /hot_pages/0: pattern must start with"},
    {"{\"alerts\": {\"cooldown_hours\": -1}}", "playbook: /alerts/cooldown_hours: -1 out of range"},
};

Test(engine_playbook, refuses_a_bad_playbook_naming_the_field)
{
    for (size_t i = 0; i < G_N_ELEMENTS(bad_rows); i++) {
        json_t *doc = json_load_file(CADENCE_DATA_DIR "/examples/playbook.json", 0, NULL);
        json_t *patch = json_loads(bad_rows[i].patch, 0, NULL);
        cr_assert(doc && patch, "row %zu", i);
        json_object_update(doc, patch);
        char err[512] = "";
        cadence_playbook *pb = cadence_playbook_load_json(doc, err, sizeof err);
        cr_assert_null(pb, "row %zu accepted", i);
        cr_assert(strstr(err, bad_rows[i].error), "row %zu: got \"%s\"", i, err);
        json_decref(patch);
        json_decref(doc);
    }
}

Test(engine_playbook, a_missing_file_is_an_error)
{
    char err[512];
    cr_assert_null(cadence_playbook_load("/nonexistent/playbook.json", NULL, err, sizeof err));
    cr_assert(strstr(err, "playbook: /nonexistent/playbook.json"));
}

Test(engine_tzcache, caches_zones_and_refuses_unknown_names)
{
    cadence_tzcache *tz = cadence_tzcache_new();
    cadence_tz *a = cadence_tzcache_get(tz, "Europe/Berlin");
    cr_assert(cadence_tz_gtimezone(a));
    cr_assert(a);
    cr_assert_eq(cadence_tzcache_get(tz, "Europe/Berlin"), a);
    cr_assert_null(cadence_tzcache_get(tz, "Not/AZone"));
    cadence_tzcache_free(tz);
    cadence_tzcache_free(NULL);
}

Test(engine_event, refuses_bad_events_naming_the_field)
{
    static const struct {
        const char *json, *error;
    } rows[] = {
        {"{\"type\":\"nope\"}", "/type"},
        {"{\"type\":\"lead\",\"event_id\":\"e\",\"occurred_at\":\"yesterday\"}", "/occurred_at"},
        {"{\"type\":\"lead\",\"event_id\":\"e\",\"occurred_at\":\"2026-10-05T12:00:00Z\","
         "\"lead_id\":\"L\",\"rep_id\":\"r\",\"lead_type\":\"hot\"}",
         "/lead_type"},
        {"{\"type\":\"call_outcome\",\"event_id\":\"e\",\"occurred_at\":"
         "\"2026-10-05T12:00:00Z\",\"lead_id\":\"L\",\"channel\":\"call\",\"disposition\":"
         "\"connected\",\"conversation\":{\"role\":\"boss\"}}",
         "/conversation/role: not one of"},
        {"{\"type\":\"site_visit\",\"event_id\":\"e\",\"occurred_at\":"
         "\"2026-10-05T12:00:00Z\",\"url\":\"/x\"}",
         "one of lead_id or email"},
        {"{\"type\":\"lead\",\"event_id\":\"bad id\",\"occurred_at\":\"2026-10-05T12:00:00Z\"}",
         "/event_id"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
        json_t *doc = json_loads(rows[i].json, 0, NULL);
        cr_assert(doc, "row %zu", i);
        cadence_event ev;
        char err[256] = "";
        cr_assert_eq(cadence_event_from_json(doc, &ev, err, sizeof err), -1, "row %zu", i);
        cr_assert(strstr(err, rows[i].error), "row %zu: %s", i, err);
        json_decref(doc);
    }
}

Test(engine_tzcache, the_span_memo_agrees_with_glib_around_dst_changes)
{
    cadence_tzcache *tz = cadence_tzcache_new();
    const char *zones[] = {"America/New_York", "Europe/Berlin", "Australia/Lord_Howe",
                           "Asia/Kolkata", "UTC"};
    for (size_t zi = 0; zi < G_N_ELEMENTS(zones); zi++) {
        cadence_tz *z = cadence_tzcache_get(tz, zones[zi]);
        cr_assert(z);
        /* every 37 minutes over two years, through the memo and straight from GLib */
        for (int64_t s = 1767225600; s < 1767225600 + 2 * 365 * 86400LL; s += 37 * 60) {
            GDateTime *utc = g_date_time_new_from_unix_utc(s);
            GDateTime *loc = g_date_time_to_timezone(utc, cadence_tz_gtimezone(z));
            int minute;
            uint32_t day = cadence_time_local_day(s * 1000, z, &minute);
            cr_assert_eq(minute, g_date_time_get_hour(loc) * 60 + g_date_time_get_minute(loc),
                         "%s at %lld", zones[zi], (long long)s);
            GDateTime *back = g_date_time_new(
                cadence_tz_gtimezone(z), g_date_time_get_year(loc), g_date_time_get_month(loc),
                g_date_time_get_day_of_month(loc), minute / 60, minute % 60, 0);
            cr_assert_eq(cadence_time_at_local(day, minute, z) / 1000, g_date_time_to_unix(back),
                         "%s at %lld", zones[zi], (long long)s);
            g_date_time_unref(back);
            g_date_time_unref(loc);
            g_date_time_unref(utc);
        }
    }
    cadence_tzcache_free(tz);
}

/* The schema is checked at load: a malformed playbook is refused naming the JSON path. */
Test(engine_playbook, a_playbook_breaking_its_schema_is_refused_naming_the_path)
{
    json_t *doc = json_load_file(CADENCE_DATA_DIR "/examples/playbook.json", 0, NULL);
    cr_assert_not_null(doc);
    json_object_set_new(json_object_get(doc, "alerts"), "cooldown_hours", json_string("a day"));
    char path[] = "/tmp/cadence-playbook-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_eq(json_dump_file(doc, path, 0), 0);
    json_decref(doc);
    char err[512] = "";
    cadence_playbook *pb =
        cadence_playbook_load(path, CADENCE_DATA_DIR "/schemas", err, sizeof err);
    unlink(path);
    cr_assert_null(pb);
    cr_assert_not_null(strstr(err, "/alerts/cooldown_hours"), "%s", err);
}
