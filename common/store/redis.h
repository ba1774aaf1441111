/*
 * redis — the asynchronous Redis client every cadence service stands on (hiredis 0.14 async on
 * the caller's libevent loop).
 *
 * Why it exists: hiredis 0.14's async API has no command timeouts, no reconnect, no bound on
 * commands in flight, and frees its context behind the caller's back after a failed connect or
 * a disconnect. This module adds exactly those, so a slow, dead or restarted Redis turns into
 * errors and "down" notifications the worker can act on (pause Kafka, retry later) instead of
 * hangs, crashes or silently dropped work (an outage pauses the services, it never drops work).
 *
 * Life cycle: cadence_redis_new() returns at once and connects in the background. Every
 * (re)connect runs a handshake — AUTH (with the ACL username when set), SELECT (when db != 0),
 * SCRIPT LOAD of every registered script, PING — and only when all of it succeeded is the
 * client "ready". Before that, and whenever the connection is lost, commands are refused with
 * CADENCE_REDIS_DOWN (nothing is queued: the caller owns its retry policy). A lost or failed
 * connection is retried with capped exponential backoff (plus jitter), forever, until freed.
 *
 * Invariants:
 *  - Every command accepted (status CADENCE_REDIS_OK) gets exactly one callback. Callbacks run
 *    from the event loop, never from inside the call that submitted the command — except in
 *    cadence_redis_free(), which fails every pending command (error "disconnected: client
 *    freed") before it returns.
 *  - Each command has a deadline (opts.timeout_ms from submission). When it passes, that
 *    command fails with a "timeout" error and the connection is reset: every other pending
 *    command fails with a "disconnected" error, and a reconnect follows. A late reply can
 *    never reach a callback: the connection it would arrive on no longer exists.
 *  - Commands that were not accepted (any other status) never get a callback.
 *
 * Redis Cluster (url->cluster, CADENCE_REDIS_CLUSTER=1): the same API and invariants; the
 * client reads the slot map from the seed nodes (url->seeds) and keeps one connection per
 * master, each with the handshake above. Every command goes to the master of its keys' slot
 * (store/cluster.h knows each command's key positions), a batch may span masters (its replies
 * still come in order), MOVED / ASK are followed, TRYAGAIN / CLUSTERDOWN retried with backoff
 * until the command's deadline, and the map is re-read after a redirection or a lost node.
 * Differences: CADENCE_REDIS_INVALID also for a command whose keys are in two slots or that
 * the table does not know (nothing is sent); CADENCE_REDIS_DOWN when the master of a
 * command's slot is not connected; "ready" means every slot has a connected master.
 * With url->wait_replicas > 0 a write is answered only once that many of its master's live
 * replicas have it (WAIT); else it fails as "disconnected".
 *
 * Not thread-safe: use one client from the thread running its event_base.
 */
#ifndef CADENCE_REDIS_H
#define CADENCE_REDIS_H

#include <stddef.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "core/metrics.h"
#include "core/redis_url.h"
#include "store/codec.h"

typedef struct cadence_redis cadence_redis;
typedef struct cadence_redis_script cadence_redis_script;
typedef struct cadence_redis_batch cadence_redis_batch;

/* Result of submitting a command. Only CADENCE_REDIS_OK means a callback will follow. */
enum cadence_redis_status {
    CADENCE_REDIS_OK = 0,
    CADENCE_REDIS_BUSY = 1,    /* max_inflight commands pending: back off, nothing was queued */
    CADENCE_REDIS_DOWN = 2,    /* not connected (or handshake not done): retry later */
    CADENCE_REDIS_INVALID = 3, /* bad arguments (no command, numkeys > argc, batch too big) */
    CADENCE_REDIS_NOMEM = 4,   /* out of memory */
};

/* What went wrong with a command, from its callback's (reply, error) pair. */
enum cadence_redis_error {
    CADENCE_REDIS_ERROR_NONE = 0,     /* success: error == NULL */
    CADENCE_REDIS_ERROR_REPLY,        /* Redis answered with an error reply (reply is set) */
    CADENCE_REDIS_ERROR_TIMEOUT,      /* no reply before the deadline; the connection was reset */
    CADENCE_REDIS_ERROR_DISCONNECTED, /* connection lost or reset, or the client was freed */
};

/* Error strings passed to callbacks start with one of these prefixes (then ": detail"). */
#define CADENCE_REDIS_ERRPFX_TIMEOUT "timeout"
#define CADENCE_REDIS_ERRPFX_DISCONNECTED "disconnected"

/*
 * Command callback. Exactly one of these holds:
 *  - success:       reply != NULL (not an error reply), error == NULL;
 *  - error reply:   reply != NULL with type REDIS_REPLY_ERROR, error == reply->str;
 *  - timeout:       reply == NULL, error starts with "timeout";
 *  - disconnected:  reply == NULL, error starts with "disconnected".
 * `reply` and `error` are borrowed for the duration of the call only (copy what you keep).
 * The callback may submit new commands and may call cadence_redis_free(r).
 */
typedef void (*cadence_redis_cb)(cadence_redis *r, const redisReply *reply, const char *error,
                                 void *arg);

/*
 * Connection state change: ready = 1 when the handshake of a (re)connect has succeeded,
 * ready = 0 (with a reason) when a ready connection was lost. Failed attempts while already
 * down are not reported (see cadence_redis_last_error()). May call cadence_redis_free(r).
 */
typedef void (*cadence_redis_state_cb)(cadence_redis *r, int ready, const char *reason, void *arg);

/* Defaults for zero-valued options. */
#define CADENCE_REDIS_DEFAULT_TIMEOUT_MS 1000
#define CADENCE_REDIS_DEFAULT_MAX_INFLIGHT 1024
#define CADENCE_REDIS_DEFAULT_BACKOFF_MIN_MS 100
#define CADENCE_REDIS_DEFAULT_BACKOFF_MAX_MS 5000

typedef struct cadence_redis_options {
    long timeout_ms;     /* deadline of one command (and of connect + handshake); 0: default */
    size_t max_inflight; /* commands pending at once before BUSY; 0: default */
    long backoff_min_ms; /* first reconnect delay; doubles per failed attempt; 0: default */
    long backoff_max_ms; /* cap of the reconnect delay; 0: default */
    cadence_redis_state_cb state_cb; /* optional */
    void *state_arg;                 /* passed to state_cb */
    /*
     * Optional, borrowed (must outlive the client). Records cadence_redis_rtt_seconds
     * (histogram of successful round trips), cadence_redis_errors_total{kind=...},
     * cadence_redis_reconnects_total and the gauge cadence_redis_ready.
     */
    cadence_metrics *metrics;
} cadence_redis_options;

/*
 * Creates a client on `base` (borrowed; must outlive the client) for `url` (copied). `opts`
 * may be NULL for all defaults. The first connection attempt starts from the event loop.
 * Returns NULL with a message in `errstr` on bad options or allocation failure.
 */
cadence_redis *cadence_redis_new(struct event_base *base, const cadence_redis_url *url,
                                 const cadence_redis_options *opts, char *errstr,
                                 size_t errstr_size);

/*
 * Frees the client: closes the connection and calls the callback of every pending command
 * with a "disconnected" error before returning (no state callback). NULL is a no-op. Safe to
 * call from inside any callback of this client; `r` must not be used afterwards.
 */
void cadence_redis_free(cadence_redis *r);

/*
 * The codec of the stored values (store/codec.h) the store's operations on this client use:
 * created on first use, freed with the client, used from the client's thread like the client.
 * NULL when out of memory.
 */
cadence_store_codec *cadence_redis_codec(cadence_redis *r);

/*
 * Reads a stored value of `len` bytes with the client's codec (cadence_store_codec_decode:
 * *text borrowed from `value`, or decoded into *owned for the caller to free). Returns 0, or -1
 * with the reason in `why`, prefixed by `what`.
 */
int cadence_redis_decode(cadence_redis *r, const char *value, size_t len, const char *what,
                         const char **text, size_t *text_len, char **owned, char *why,
                         size_t why_size);

/* 1 when commands are accepted (connected and handshake done), else 0. */
int cadence_redis_is_ready(const cadence_redis *r);

/* Number of commands accepted and not yet called back (a batch counts its commands). */
size_t cadence_redis_inflight(const cadence_redis *r);

/* Why the last connection attempt failed or the last connection was lost ("" if none yet). */
const char *cadence_redis_last_error(const cadence_redis *r);

/* Name of a status ("ok", "busy", ...). */
const char *cadence_redis_status_name(enum cadence_redis_status s);

/* Classifies a callback's (reply, error) pair. */
enum cadence_redis_error cadence_redis_error_kind(const redisReply *reply, const char *error);

/*
 * Sends one command, binary-safe: argv[i] has argvlen[i] bytes (argvlen NULL: strlen). The
 * arguments are copied before the call returns. On CADENCE_REDIS_OK, `cb` (may be NULL to
 * ignore the result) will be called exactly once with `arg`.
 */
enum cadence_redis_status cadence_redis_command_argv(cadence_redis *r, cadence_redis_cb cb,
                                                     void *arg, int argc, const char **argv,
                                                     const size_t *argvlen);

/*
 * Registers a Lua script and returns its handle (owned by the client, valid until it is
 * freed), or NULL with `errstr` on allocation failure. The SHA1 is computed locally; the
 * script is loaded (SCRIPT LOAD) at once when the client is ready, and on every (re)connect,
 * so a restarted Redis that lost its script cache is handled without the caller doing anything.
 * Adding the same text twice returns the same handle.
 */
const cadence_redis_script *cadence_redis_script_add(cadence_redis *r, const char *lua,
                                                     char *errstr, size_t errstr_size);

/* The script's SHA1 as 40 lowercase hex digits. */
const char *cadence_redis_script_sha(const cadence_redis_script *s);

/*
 * Runs a registered script: EVALSHA sha numkeys argv[0..argc-1], where the first `numkeys`
 * arguments are the keys (every key the script touches must be among them) and the rest its
 * ARGV. On a NOSCRIPT error the script is loaded and the EVALSHA retried once on the same
 * connection; the callback sees only the final reply (or the SCRIPT LOAD error, e.g. a
 * compile error). Same contract as cadence_redis_command_argv().
 *
 * Ordering: scripts are loaded by every handshake and by cadence_redis_script_add() on a ready
 * connection, so NOSCRIPT only happens when the cache was flushed under a live connection
 * (SCRIPT FLUSH, failover to a replica without it). Then the retried EVALSHA runs after the
 * commands already pipelined behind the original one; a caller that needs a script call
 * ordered before a later command on the same keys waits for the callback (the worker does so
 * per lead anyway).
 */
enum cadence_redis_status cadence_redis_evalsha(cadence_redis *r, const cadence_redis_script *s,
                                                int numkeys, int argc, const char **argv,
                                                const size_t *argvlen, cadence_redis_cb cb,
                                                void *arg);

/*
 * Batches: several commands written back to back (one pipelined round trip) with one
 * callback when every reply is in. The callback's `reply` is then an array with one element
 * per command, in order; an element may be an error reply (error is NULL: the batch as a
 * whole succeeded). On timeout or disconnect the whole batch fails (reply NULL, error set).
 * A batch counts as its number of commands against max_inflight.
 */

/* Returns a new, empty batch (NULL on allocation failure); free with cadence_redis_batch_free. */
cadence_redis_batch *cadence_redis_batch_new(void);
void cadence_redis_batch_free(cadence_redis_batch *b);

/* Appends a command (arguments copied). Returns 0, or -1 on bad arguments or no memory. */
int cadence_redis_batch_add_argv(cadence_redis_batch *b, int argc, const char **argv,
                                 const size_t *argvlen);

/* Appends an EVALSHA of a registered script (as cadence_redis_evalsha). Returns 0 or -1. */
int cadence_redis_batch_add_evalsha(cadence_redis_batch *b, const cadence_redis_script *s,
                                    int numkeys, int argc, const char **argv,
                                    const size_t *argvlen);

/* Number of commands in the batch. */
size_t cadence_redis_batch_size(const cadence_redis_batch *b);

/*
 * Sends the batch. On CADENCE_REDIS_OK its commands move into the client and `b` is left
 * empty (reusable; the caller still frees it); on any other status `b` is unchanged, so the
 * caller can send it again later. An empty batch, or one larger than max_inflight, is
 * CADENCE_REDIS_INVALID.
 */
enum cadence_redis_status cadence_redis_batch_send(cadence_redis *r, cadence_redis_batch *b,
                                                   cadence_redis_cb cb, void *arg);

#endif
