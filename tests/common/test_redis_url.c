/* Tests for redis_url: every accepted form, and every malformed one refused with a reason. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "core/redis_url.h"

Test(redis_url, parses_host_port_and_db)
{
    cadence_redis_url u;
    char err[256];
    cr_assert_eq(cadence_redis_url_parse("redis://10.1.2.3:6380/4", &u, err, sizeof(err)), 0, "%s",
                 err);
    cr_assert_str_eq(u.host, "10.1.2.3");
    cr_assert_eq(u.port, 6380);
    cr_assert_eq(u.db, 4);
    cr_assert_eq(u.is_unix, 0);
    cr_assert_str_eq(u.password, "");
}

Test(redis_url, defaults_port_and_db)
{
    cadence_redis_url u;
    char err[256];
    cr_assert_eq(cadence_redis_url_parse("redis://cache.internal", &u, err, sizeof(err)), 0);
    cr_assert_str_eq(u.host, "cache.internal");
    cr_assert_eq(u.port, 6379);
    cr_assert_eq(u.db, 0);
}

Test(redis_url, reads_password_and_username_with_percent_escapes)
{
    cadence_redis_url u;
    char err[256];
    cr_assert_eq(cadence_redis_url_parse("redis://:s%40cret@h:1/2", &u, err, sizeof(err)), 0);
    cr_assert_str_eq(u.username, "");
    cr_assert_str_eq(u.password, "s@cret");
    cr_assert_eq(cadence_redis_url_parse("redis://app:pw@h", &u, err, sizeof(err)), 0);
    cr_assert_str_eq(u.username, "app");
    cr_assert_str_eq(u.password, "pw");
    cr_assert_str_eq(u.host, "h");
}

Test(redis_url, reads_ipv6_host)
{
    cadence_redis_url u;
    char err[256];
    cr_assert_eq(cadence_redis_url_parse("redis://[::1]:7000", &u, err, sizeof(err)), 0);
    cr_assert_str_eq(u.host, "::1");
    cr_assert_eq(u.port, 7000);
}

Test(redis_url, reads_unix_socket_with_db)
{
    cadence_redis_url u;
    char err[256];
    cr_assert_eq(cadence_redis_url_parse("unix:///run/redis.sock?db=3", &u, err, sizeof(err)), 0);
    cr_assert_eq(u.is_unix, 1);
    cr_assert_str_eq(u.path, "/run/redis.sock");
    cr_assert_eq(u.db, 3);
}

Test(redis_url, masks_the_password_when_printed)
{
    cadence_redis_url u;
    char err[256], buf[256];
    cr_assert_eq(cadence_redis_url_parse("redis://:topsecret@h:1/2", &u, err, sizeof(err)), 0);
    cadence_redis_url_format_safe(&u, buf, sizeof(buf));
    cr_assert_str_eq(buf, "redis://:***@h:1/2");
    cr_assert_null(strstr(buf, "topsecret"));
}

struct bad_url {
    char url[80];
    char reason[60]; /* a fragment the error must contain */
};

ParameterizedTestParameters(redis_url, refuses_malformed_urls)
{
    static struct bad_url cases[] = {
        {"", "empty"},
        {"http://h:1", "must start with redis://"},
        {"rediss://h", "TLS"},
        {"redis://", "missing host"},
        {"redis://h:0", "port"},
        {"redis://h:65536", "port"},
        {"redis://h:12x", "port"},
        {"redis://h:1/x", "database"},
        {"redis://h:1/-1", "database"},
        {"redis://pw@h", "credentials"},
        {"redis://:%4@h", "percent"},
        {"redis://:%zz@h", "percent"},
        {"redis://[::1", "IPv6"},
        {"unix://relative.sock", "absolute"},
        {"unix:///s.sock?x=1", "?db=N"},
    };
    return cr_make_param_array(struct bad_url, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_url *c, redis_url, refuses_malformed_urls)
{
    cadence_redis_url u;
    char err[256] = "";
    cr_assert_eq(cadence_redis_url_parse(c->url, &u, err, sizeof(err)), -1, "accepted \"%s\"",
                 c->url);
    cr_assert_not_null(strstr(err, c->reason), "error for \"%s\" was \"%s\"", c->url, err);
}

Test(redis_url, reads_a_list_of_cluster_seed_nodes)
{
    cadence_redis_url u;
    char err[256];
    cr_assert_eq(cadence_redis_url_parse("redis://:pw@10.0.0.1:7000,10.0.0.2:7001,"
                                         "redis://10.0.0.3,[::1]:7002",
                                         &u, err, sizeof(err)),
                 0, "%s", err);
    cr_assert_eq(u.nseeds, 4);
    cr_assert_str_eq(u.host, "10.0.0.1");
    cr_assert_eq(u.port, 7000);
    cr_assert_str_eq(u.password, "pw");
    cr_assert_str_eq(u.seeds[1].host, "10.0.0.2");
    cr_assert_eq(u.seeds[1].port, 7001);
    cr_assert_str_eq(u.seeds[2].host, "10.0.0.3");
    cr_assert_eq(u.seeds[2].port, 6379);
    cr_assert_str_eq(u.seeds[3].host, "::1");
    cr_assert_eq(u.seeds[3].port, 7002);
    cr_assert_eq(cadence_redis_url_parse("redis://h:1", &u, err, sizeof(err)), 0);
    cr_assert_eq(u.nseeds, 1);
    cr_assert_str_eq(u.seeds[0].host, "h");
}

Test(redis_url, refuses_bad_seed_lists)
{
    cadence_redis_url u;
    char err[256];
    const char *bad[] = {"redis://h:1,",
                         "redis://h:1,,h:2",
                         "unix:///s,h:2",
                         "redis://h:1,unix:///s",
                         "redis://h:1,u:p@h:2",
                         "redis://h:1,h:99999",
                         "redis://a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        cr_assert_eq(cadence_redis_url_parse(bad[i], &u, err, sizeof(err)), -1, "%s accepted",
                     bad[i]);
        cr_assert_neq(err[0], '\0', "%s: no reason", bad[i]);
    }
}
