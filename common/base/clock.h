/*
 * clock — the one place cadence reads a clock. Two clocks, never mixed:
 *  - wall time (CLOCK_REALTIME, Unix time): what is written to Redis and Kafka (due times,
 *    leases, log timestamps) and compared with times other processes wrote;
 *  - monotonic time (CLOCK_MONOTONIC): durations and deadlines inside one process (timeouts,
 *    stall detection, latencies); it never jumps when the wall clock is set.
 * The engine reads neither (its "now" comes from the event); everything else calls these.
 */
#ifndef CADENCE_CLOCK_H
#define CADENCE_CLOCK_H

#include <stdint.h>

/* Wall time: Unix milliseconds. */
int64_t cadence_clock_now_ms(void);

/* Wall time: Unix seconds. */
int64_t cadence_clock_now_s(void);

/* Wall time: Unix microseconds (seeds, fine-grained stamps). */
int64_t cadence_clock_now_us(void);

/* Monotonic time in milliseconds (an arbitrary origin: only differences mean something). */
int64_t cadence_clock_mono_ms(void);

/* Monotonic time in nanoseconds. */
int64_t cadence_clock_mono_ns(void);

#endif
