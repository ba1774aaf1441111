/*
 * service — shared start-up of the service binaries.
 */
#include "core/service.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cadence_service_start(const cadence_service_info *info, int argc, char **argv,
                          cadence_config *cfg)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: %s [--help] [--version]\n\n%s\n\n", info->binary, info->description);
            cadence_config_print_help(stdout, info->service);
            return 1;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("%s %s\n", info->binary, CADENCE_VERSION);
            return 1;
        }
        fprintf(stderr, "%s: unknown argument \"%s\" (try --help)\n", info->binary, argv[i]);
        exit(CADENCE_CONFIG_EXIT_STATUS);
    }
    cadence_config_load_or_exit(cfg, info->service);
    cadence_log_init(info->service, cfg->log_level);
    cadence_log_libevent_install();
    return 0;
}

struct cadence_service_stopper {
    struct event_base *base;
    int drain_timeout_s;
    const cadence_service_stop_ops *ops;
    void *arg;
    struct event *sigterm_ev, *sigint_ev, *watch_ev, *timeout_ev;
    int stopping;
    int exit_code;
};

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    cadence_service_stopper_stop(arg, sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void on_fatal_watch(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    cadence_service_stopper *s = arg;
    char why[256] = "";
    if (!s->stopping && s->ops->fatal && s->ops->fatal(s->arg, why, sizeof(why))) {
        s->exit_code = 1;
        cadence_log_json(CADENCE_LOG_ERROR, "fatal error", json_pack("{s:s}", "error", why));
        cadence_service_stopper_stop(s, "fatal error");
    }
}

static void on_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    cadence_service_stopper *s = arg;
    if (s->ops->drain_timed_out)
        s->ops->drain_timed_out(s->arg);
    event_base_loopbreak(s->base);
}

cadence_service_stopper *cadence_service_stopper_new(struct event_base *base, int drain_timeout_s,
                                                     const cadence_service_stop_ops *ops, void *arg,
                                                     char *errstr, size_t errstr_size)
{
    cadence_service_stopper *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    s->base = base;
    s->drain_timeout_s = drain_timeout_s;
    s->ops = ops;
    s->arg = arg;
    s->sigterm_ev = evsignal_new(base, SIGTERM, on_stop_signal, s);
    s->sigint_ev = evsignal_new(base, SIGINT, on_stop_signal, s);
    s->watch_ev = event_new(base, -1, EV_PERSIST, on_fatal_watch, s);
    s->timeout_ev = evtimer_new(base, on_drain_timeout, s);
    struct timeval sec = {1, 0};
    if (!s->sigterm_ev || !s->sigint_ev || !s->watch_ev || !s->timeout_ev ||
        event_add(s->sigterm_ev, NULL) || event_add(s->sigint_ev, NULL) ||
        event_add(s->watch_ev, &sec)) {
        snprintf(errstr, errstr_size, "cannot register the signal and timer events");
        cadence_service_stopper_free(s);
        return NULL;
    }
    return s;
}

void cadence_service_stopper_stop(cadence_service_stopper *s, const char *why)
{
    if (s->stopping)
        return;
    s->stopping = 1;
    cadence_log_json(CADENCE_LOG_INFO, "stopping", json_pack("{s:s}", "reason", why));
    struct timeval tv = {s->drain_timeout_s, 0};
    evtimer_add(s->timeout_ev, &tv);
    s->ops->drain(s->arg);
}

void cadence_service_stopper_done(void *stopper)
{
    cadence_service_stopper *s = stopper;
    event_base_loopbreak(s->base);
}

int cadence_service_stopper_exit_code(const cadence_service_stopper *s)
{
    return s->exit_code;
}

void cadence_service_stopper_free(cadence_service_stopper *s)
{
    if (!s)
        return;
    if (s->sigterm_ev)
        event_free(s->sigterm_ev);
    if (s->sigint_ev)
        event_free(s->sigint_ev);
    if (s->watch_ev)
        event_free(s->watch_ev);
    if (s->timeout_ev)
        event_free(s->timeout_ev);
    free(s);
}
