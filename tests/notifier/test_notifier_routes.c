/*
 * The notifier's routes file (services/notifier/routes.h): the two line forms, comments, the
 * errors that name file and line, and matching a rep to its destinations.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "routes.h"

Test(notifier_routes, parses_both_forms_and_skips_comments_and_blanks)
{
    char err[256] = "";
    notifier_routes *r =
        notifier_routes_parse("# who gets what\n\n"
                              "rep-1 slack https://hooks.slack.com/services/T/B/x\n"
                              "  * \twebhook https://crm.example.com/in s3cret  \r\n"
                              "rep-2 webhook http://127.0.0.1:9/h k",
                              "routes", err, sizeof(err));
    cr_assert_not_null(r, "%s", err);
    cr_assert_eq(r->n, 3);
    cr_assert_str_eq(r->v[0].rep, "rep-1");
    cr_assert_eq(r->v[0].kind, NOTIFIER_SLACK);
    cr_assert_str_eq(r->v[0].url, "https://hooks.slack.com/services/T/B/x");
    cr_assert_null(r->v[0].secret);
    cr_assert_str_eq(r->v[1].rep, "*");
    cr_assert_eq(r->v[1].kind, NOTIFIER_WEBHOOK);
    cr_assert_str_eq(r->v[1].secret, "s3cret");
    cr_assert_str_eq(r->v[2].url, "http://127.0.0.1:9/h");
    notifier_routes_free(r);
}

Test(notifier_routes, an_empty_file_has_no_routes)
{
    char err[256];
    notifier_routes *r = notifier_routes_parse("# nothing yet\n", "routes", err, sizeof(err));
    cr_assert_not_null(r);
    cr_assert_eq(r->n, 0);
    notifier_routes_free(r);
}

static void refused(const char *text, const char *where, const char *what)
{
    char err[512] = "";
    notifier_routes *r = notifier_routes_parse(text, "/etc/cadence/routes", err, sizeof(err));
    cr_assert_null(r, "accepted: %s", text);
    cr_assert(strstr(err, where) == err, "error \"%s\" should start with \"%s\"", err, where);
    cr_assert_not_null(strstr(err, what), "error \"%s\" should say \"%s\"", err, what);
}

Test(notifier_routes, a_bad_line_is_refused_naming_file_and_line)
{
    refused("rep-1 slack https://h/x\nrep-2 email a@b\n",
            "/etc/cadence/routes:2:", "'slack' or 'webhook'");
    refused("rep-1 webhook https://h/x\n", "/etc/cadence/routes:1:", "four fields");
    refused("rep-1 slack https://h/x extra\n", "/etc/cadence/routes:1:", "three fields");
    refused("\n\nrep-1 slack ftp://h/x\n", "/etc/cadence/routes:3:", "https://");
    refused("rep-1 slack https:///nohost\n", "/etc/cadence/routes:1:", "host");
    refused("rep!1 slack https://h/x\n", "/etc/cadence/routes:1:", "rep_id");
    refused("rep-1\n", "/etc/cadence/routes:1:", "expected");
    refused("rep-1 webhook https://h/x s extra\n", "/etc/cadence/routes:1:", "too many");
}

Test(notifier_routes, a_rep_gets_its_own_and_the_star_routes_once_each)
{
    char err[256];
    notifier_routes *r = notifier_routes_parse("rep-1 slack https://s/1\n"
                                               "* webhook https://w/all k\n"
                                               "rep-2 slack https://s/2\n"
                                               "* slack https://s/1\n",
                                               "routes", err, sizeof(err));
    cr_assert_not_null(r, "%s", err);
    const notifier_route *out[8];
    size_t n = notifier_routes_match(r, "rep-1", out, 8);
    cr_assert_eq(n, 2, "https://s/1 listed twice for rep-1 is one destination");
    cr_assert_str_eq(out[0]->url, "https://s/1");
    cr_assert_str_eq(out[1]->url, "https://w/all");
    n = notifier_routes_match(r, "rep-3", out, 8);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(out[0]->url, "https://w/all");
    cr_assert_str_eq(out[1]->url, "https://s/1");
    cr_assert_eq(notifier_routes_match(r, "rep-2", out, 1), 1, "at most max");
    notifier_routes_free(r);
}

Test(notifier_routes, load_reads_a_file_and_names_it)
{
    char path[] = "/tmp/notifier-routes-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    const char *text = "rep-1 slack https://s/1\nbad\n";
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char err[512] = "";
    cr_assert_null(notifier_routes_load(path, err, sizeof(err)));
    char want[600];
    snprintf(want, sizeof(want), "%s:2:", path);
    cr_assert(strstr(err, want) == err, "%s", err);
    unlink(path);
    cr_assert_null(notifier_routes_load(path, err, sizeof(err)));
    cr_assert_not_null(strstr(err, "cannot open"), "%s", err);
}
