/*
 * cluster — what a Redis Cluster client needs to know, with no I/O: the key → slot function
 * (CRC16 with hash tags), which slot a command goes to (its keys, from a table of the commands
 * cadence sends), the slot map built from a CLUSTER SLOTS reply, and the MOVED / ASK
 * redirections parsed from error replies.
 *
 * store/redis.c uses it when CADENCE_REDIS_CLUSTER=1: every command is routed by the slot of
 * its keys, so no caller names a node. A command whose keys span two slots, or a command this
 * table does not know, is refused before it is sent (the cluster would refuse it too, with
 * CROSSSLOT, or might run it on the wrong node).
 */
#ifndef CADENCE_CLUSTER_H
#define CADENCE_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

/* Redis Cluster has 16384 hash slots. */
#define CADENCE_CLUSTER_SLOTS 16384

/* Most nodes (masters) one slot map holds; a larger cluster is refused with a clear error. */
#define CADENCE_CLUSTER_MAX_NODES 256

/* Longest host name of a node, terminator included. */
#define CADENCE_CLUSTER_HOST_MAX 256

/* cadence_cluster_command_slot() results that are not slots. */
#define CADENCE_CLUSTER_NO_KEY (-1)      /* a command with no key (PING, WAIT, SCRIPT LOAD) */
#define CADENCE_CLUSTER_CROSSSLOT (-2)   /* keys in more than one slot: never sent */
#define CADENCE_CLUSTER_UNKNOWN_CMD (-3) /* not in the table: cannot be routed */

/* The slot of a key: CRC16 (XMODEM) of the key, or of its hash tag `{...}` when the key has a
 * non-empty one (the first '{' and the first '}' after it), modulo 16384. */
int cadence_cluster_key_slot(const char *key, size_t len);

/*
 * The slot a command must run on: the common slot of all its keys, or one of the negative
 * values above. argvlen NULL: strlen. Command names are case-insensitive. Known commands: the
 * ones cadence sends (strings, hashes, lists, sorted sets, streams incl. XREAD, EVAL/EVALSHA
 * with their numkeys, DEL/EXISTS/MGET) and the keyless ones (PING, WAIT, SCRIPT, INFO, ...).
 */
int cadence_cluster_command_slot(int argc, const char **argv, const size_t *argvlen);

/* 1 when the command may change data (and a WAIT for replicas makes sense after it). */
int cadence_cluster_command_writes(const char *name, size_t len);

/* A node: where to connect. */
typedef struct cadence_cluster_node {
    char host[CADENCE_CLUSTER_HOST_MAX];
    int port;
    int replicas; /* in a slot map: replicas CLUSTER SLOTS lists (it omits failed or unsynced ones)
                   */
} cadence_cluster_node;

/* The slot map: which master serves each slot. */
typedef struct cadence_cluster_map {
    cadence_cluster_node nodes[CADENCE_CLUSTER_MAX_NODES]; /* masters that serve a slot */
    size_t nnodes;
    uint16_t slot_node[CADENCE_CLUSTER_SLOTS]; /* index into nodes, or CADENCE_CLUSTER_NONE */
    size_t covered;                            /* slots with a node */
} cadence_cluster_map;

#define CADENCE_CLUSTER_NONE 0xFFFFu

/* Empties `m` (no node, no slot served). */
void cadence_cluster_map_clear(cadence_cluster_map *m);

/*
 * Fills `m` from a CLUSTER SLOTS reply (each element: start, end, master [ip, port, id...],
 * replicas...). A master's empty or "?" host means "the node that answered": `asked_host` is
 * used. Returns 0, or -1 with `errstr` on a malformed reply (m is then cleared).
 */
int cadence_cluster_map_from_slots(cadence_cluster_map *m, const redisReply *reply,
                                   const char *asked_host, char *errstr, size_t errstr_size);

/* The node index of `host:port` in `m`, or -1. */
int cadence_cluster_map_find(const cadence_cluster_map *m, const char *host, int port);

/* A redirection from an error reply. */
enum cadence_cluster_redirect_kind {
    CADENCE_CLUSTER_REDIRECT_NONE = 0,
    CADENCE_CLUSTER_REDIRECT_MOVED, /* the slot lives elsewhere for good: update the map */
    CADENCE_CLUSTER_REDIRECT_ASK,   /* this one command: ASKING then the command, there */
};

typedef struct cadence_cluster_redirect {
    enum cadence_cluster_redirect_kind kind;
    int slot;
    cadence_cluster_node node;
} cadence_cluster_redirect;

/*
 * Parses "MOVED <slot> <host>:<port>" or "ASK <slot> <host>:<port>" (the host may be empty,
 * meaning the node that answered: `asked_host` is used). Returns the kind; NONE for any other
 * error text or a malformed one.
 */
enum cadence_cluster_redirect_kind cadence_cluster_redirect_parse(const char *err, size_t len,
                                                                  const char *asked_host,
                                                                  cadence_cluster_redirect *out);

/* 1 for the errors after which the same command may simply be sent again later: TRYAGAIN
 * (a multi-key command during a resharding) and CLUSTERDOWN (the cluster is failing over). */
int cadence_cluster_error_is_retryable(const char *err, size_t len);

#endif
