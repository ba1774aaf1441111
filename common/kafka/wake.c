/*
 * kafka_wake — librdkafka queue I/O events into libevent. See kafka_wake.h.
 */
#include "kafka/wake.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cadence_kafka_wake {
    rd_kafka_queue_t *queue; /* borrowed */
    int pipefd[2];
    struct event *read_ev, *tick_ev;
    void (*fn)(void *);
    void *arg;
};

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    cadence_kafka_wake *w = arg;
    char buf[64];
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    w->fn(w->arg);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    cadence_kafka_wake *w = arg;
    w->fn(w->arg);
}

cadence_kafka_wake *cadence_kafka_wake_new(struct event_base *base, rd_kafka_queue_t *queue,
                                           int tick_ms, void (*fn)(void *arg), void *arg,
                                           char *errstr, size_t errstr_size)
{
    cadence_kafka_wake *w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    w->pipefd[0] = w->pipefd[1] = -1;
    w->fn = fn;
    w->arg = arg;
    if (pipe2(w->pipefd, O_NONBLOCK | O_CLOEXEC) != 0) {
        snprintf(errstr, errstr_size, "pipe: %s", strerror(errno));
        free(w);
        return NULL;
    }
    w->read_ev = event_new(base, w->pipefd[0], EV_READ | EV_PERSIST, on_read, w);
    w->tick_ev = event_new(base, -1, EV_PERSIST, on_tick, w);
    struct timeval tv = {tick_ms / 1000, (long)(tick_ms % 1000) * 1000};
    if (!w->read_ev || !w->tick_ev || event_add(w->read_ev, NULL) != 0 ||
        event_add(w->tick_ev, &tv) != 0) {
        snprintf(errstr, errstr_size, "cannot register Kafka wake-up events");
        cadence_kafka_wake_free(w);
        return NULL;
    }
    w->queue = queue;
    rd_kafka_queue_io_event_enable(queue, w->pipefd[1], "1", 1);
    return w;
}

void cadence_kafka_wake_free(cadence_kafka_wake *w)
{
    if (!w)
        return;
    if (w->queue)
        rd_kafka_queue_io_event_enable(w->queue, -1, NULL, 0);
    if (w->read_ev)
        event_free(w->read_ev);
    if (w->tick_ev)
        event_free(w->tick_ev);
    if (w->pipefd[0] >= 0)
        close(w->pipefd[0]);
    if (w->pipefd[1] >= 0)
        close(w->pipefd[1]);
    free(w);
}
