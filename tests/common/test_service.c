/* Tests for the service stopper: signals, fatal conditions and the drain deadline. */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <signal.h>

#include "core/service.h"

struct fake {
    cadence_service_stopper *stopper;
    int drains, timeouts;
    int fatal;
    int finish_drain; /* call done() from drain */
};

static void drain(void *arg)
{
    struct fake *f = arg;
    f->drains++;
    if (f->finish_drain)
        cadence_service_stopper_done(f->stopper);
}

static void timed_out(void *arg)
{
    ((struct fake *)arg)->timeouts++;
}

static int fatal(void *arg, char *why, size_t n)
{
    struct fake *f = arg;
    if (f->fatal)
        snprintf(why, n, "broker says fenced");
    return f->fatal;
}

static const cadence_service_stop_ops ops = {drain, timed_out, fatal};

static void raise_term(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    raise(SIGTERM);
}

Test(service_stopper, sigterm_drains_once_and_ends_the_loop_with_status_0)
{
    struct event_base *base = event_base_new();
    struct fake f = {0};
    f.finish_drain = 1;
    char err[128];
    f.stopper = cadence_service_stopper_new(base, 5, &ops, &f, err, sizeof(err));
    cr_assert_not_null(f.stopper, "%s", err);
    struct timeval soon = {0, 10000};
    event_base_once(base, -1, EV_TIMEOUT, raise_term, NULL, &soon);
    cr_assert_eq(event_base_dispatch(base), 0);
    cr_assert_eq(f.drains, 1);
    cr_assert_eq(f.timeouts, 0);
    cr_assert_eq(cadence_service_stopper_exit_code(f.stopper), 0);
    cadence_service_stopper_stop(f.stopper, "again"); /* ignored: already stopping */
    cr_assert_eq(f.drains, 1);
    cadence_service_stopper_free(f.stopper);
    event_base_free(base);
}

Test(service_stopper, a_fatal_condition_stops_with_status_1)
{
    struct event_base *base = event_base_new();
    struct fake f = {0};
    f.finish_drain = 1;
    f.fatal = 1;
    char err[128];
    f.stopper = cadence_service_stopper_new(base, 5, &ops, &f, err, sizeof(err));
    cr_assert_eq(event_base_dispatch(base), 0); /* the 1 s watch finds it */
    cr_assert_eq(f.drains, 1);
    cr_assert_eq(cadence_service_stopper_exit_code(f.stopper), 1);
    cadence_service_stopper_free(f.stopper);
    event_base_free(base);
}

Test(service_stopper, a_drain_that_never_finishes_ends_at_the_deadline)
{
    struct event_base *base = event_base_new();
    struct fake f = {0};
    char err[128];
    f.stopper = cadence_service_stopper_new(base, 1, &ops, &f, err, sizeof(err));
    cadence_service_stopper_stop(f.stopper, "test");
    cr_assert_eq(event_base_dispatch(base), 0);
    cr_assert_eq(f.drains, 1);
    cr_assert_eq(f.timeouts, 1);
    cadence_service_stopper_free(f.stopper);
    cadence_service_stopper_free(NULL);
    event_base_free(base);
}
