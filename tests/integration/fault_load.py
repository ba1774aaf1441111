"""The fault suite's stack and load (tests/integration/fault_suite.py): Redis with AOF
(`appendfsync always`), the broker, 2 workers, 2 schedulers, the gateway with one SSE client per
rep, and a data set of N leads dated in the past (relative to the clock, so every touch is
overdue and goes out at once), fed in two phases:

- phase 1: each lead (day 0) and its "no" (day 1), produced straight to Kafka (the CRM and the
  dialer), in paced batches; each lead gets a first-time call task, which its "no" cancels
  (published or not depending on which comes first, so these tasks are not counted);
- phase 2, once phase 1 is applied: a visit to the pricing page on day 40, past the 30-day
  re-enrolment cool-off (one former_no_revisit alert per lead, which puts the lead back to
  follow-up and issues a follow-up call task: these are the expected tasks) and, for a third of
  the leads, a visit dated before the "no" (never an alert), posted to the gateway's ingest
  route (marketing automation), in paced batches, each retried until the gateway answers 202
  (the same event ids: the worker drops duplicates). Half the visits carry only the email.

The SSE clients stay connected for the whole run; when a stream ends or the gateway is gone they
reconnect with `Last-Event-ID` (the id of the last event they got), as a browser's EventSource
does. What the run produced is read back from the outside: every message of alerts.v1 and
touches-due.v1, every SSE event, and Redis (`Snapshot`).
"""
import datetime
import hashlib
import json
import os
import secrets
import signal
import socket
import threading
import time
import urllib.error
import urllib.request

from harness import SOURCE_DIR, TopicReader, binary, http_get, wait_for, wait_processed
from gateway_harness import SSEReader
from test_worker import TOPIC_OF, Feed
import stored

N = 150
REPS = tuple(f"rep-{i}" for i in range(3))  # lead i belongs to rep-(i % 3)
SHARDS = 16
PARTITIONS = 4  # per topic
INPUT_PARTITIONS = 3 * PARTITIONS  # leads.v1, site-visits.v1, call-outcomes.v1
LEASE_MS = 3000  # a killed scheduler's claimed tasks go out again after this
BATCH = 25  # events per produce batch or ingest request
PACE_S = 0.05  # between two batches: a steady load, not one burst
PRODUCE_TIMEOUT_S = 90  # for the broker to acknowledge a batch (it may be restarting)
SCHEMAS = os.path.join(SOURCE_DIR, "schemas")
PLAYBOOK = os.path.join(SOURCE_DIR, "examples", "playbook.json")


# Day 0 of the data set: 60 days ago at 14:00 UTC, fixed once per process (the clean run and
# the faulted runs then make the same ids).
BASE = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=60)).replace(
    hour=14, minute=0, second=0, microsecond=0)


def ts(days):
    return (BASE + datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def lead(i):
    return {"event_id": f"lead-{i}", "type": "lead", "occurred_at": ts(0), "lead_id": f"L-{i}",
            "rep_id": REPS[i % 3], "lead_type": "cold", "potential": 60, "first_name": f"Ann{i}",
            "company": "Acme", "email": f"ann{i}@example.com", "timezone": "America/New_York"}


def no(i):
    return {"event_id": f"no-{i}", "type": "call_outcome", "occurred_at": ts(1), "lead_id": f"L-{i}",
            "rep_id": REPS[i % 3], "channel": "call", "disposition": "not_interested",
            "no_reason": "no budget this year"}


def visit(i, day, by_email=False):
    ev = {"event_id": f"visit-{i}-{day}", "type": "site_visit", "occurred_at": ts(day),
          "url": "https://example.com/pricing"}
    if by_email:
        ev["email"] = f"ANN{i}@example.com"
    else:
        ev["lead_id"] = f"L-{i}"
    return ev


def phase1():
    return [e for i in range(N) for e in (lead(i), no(i))]


def phase2():
    """A lead's two visits share its key (so one partition keeps their order, under any fault):
    the old one, judged while the lead is in nurture, is no trigger; judged after the new one
    had put the lead back to follow-up it would be a hot view of an active lead."""
    evs = []
    for i in range(N):
        if i % 3 == 0:
            evs += [visit(i, 0.5), visit(i, 40)]
        else:
            evs.append(visit(i, 40, by_email=(i % 2 == 0)))
    return evs


class Redis:
    """A minimal RESP client: pipelined commands on one connection (Debian's python3 has no
    redis module, and one redis-cli process per key is too slow for a snapshot)."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def close(self):
        self.sock.close()

    def run(self, *commands):
        out = []
        for c in commands:
            out.append(b"*%d\r\n" % len(c))
            for a in c:
                b = a if isinstance(a, bytes) else str(a).encode()
                out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        self.sock.sendall(b"".join(out))
        return [self._reply() for _ in commands]

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise EOFError("redis closed the connection")
                self.buf += chunk
            # binary values (the stored zstd frames) survive as surrogate escapes: see stored.py
            data, self.buf = self.buf[:n].decode(errors="surrogateescape"), self.buf[n + 2:]
            return data
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RuntimeError(f"unexpected reply {line!r}")


def redis_run(port, *commands):
    r = Redis(port)
    try:
        return r.run(*commands)
    finally:
        r.close()


class SSEClient(threading.Thread):
    """One rep's alert stream, reconnecting with Last-Event-ID whenever it ends."""

    def __init__(self, port, token, rep):
        super().__init__(daemon=True)
        self.port, self.token, self.rep = port, token, rep
        self.last_id = None
        self.got = []  # (sse id, alert_id, revision) in arrival order
        self.connects = 0
        self.done = threading.Event()
        self.lock = threading.Lock()

    def run(self):
        while not self.done.is_set():
            try:
                r = SSEReader(self.port, self.token, last_event_id=self.last_id)
            except (OSError, EOFError, AssertionError, ValueError, IndexError):
                time.sleep(0.05)  # the gateway is away: try again
                continue
            try:
                if r.status != 200:
                    time.sleep(0.1)
                    continue
                self.connects += 1
                while not self.done.is_set():
                    try:
                        (ev,) = r.events(1, timeout=0.3)
                    except AssertionError:
                        continue  # nothing within the poll interval
                    a = json.loads(ev["data"])
                    with self.lock:
                        self.got.append((ev.get("id"), a["alert_id"], a.get("revision", 1)))
                        self.last_id = ev.get("id") or self.last_id
            except (OSError, EOFError, ValueError):
                time.sleep(0.05)  # the stream ended: resume after the last id
            finally:
                r.close()

    def received(self):
        with self.lock:
            return list(self.got)

    def stop(self):
        self.done.set()
        self.join(timeout=5)


class Load:
    """The stack of one run; `ctx` of the fault functions."""

    def __init__(self, st, redis_timeout_ms):
        self.st = st
        self.env = {"CADENCE_REDIS_TIMEOUT_MS": redis_timeout_ms}
        self.redis = st.start_redis(persist=True)
        self.devbroker = st.start_devbroker(partitions=PARTITIONS)
        self.tokens_file = os.path.join(st.dir, "tokens")
        self.rep_tokens = {rep: self.token("rep", rep) for rep in REPS}
        self.ingest_token = self.token("ingest", "*")
        self.gw_env = st.env(CADENCE_TOKENS_FILE=self.tokens_file, CADENCE_SCHEMAS_DIR=SCHEMAS,
                             CADENCE_SESSION_TIMEOUT_MS=6000, **self.env)
        self.gw_addr = self.gw_env["CADENCE_HTTP_ADDR"]
        # the five services start side by side (each waits for its own readiness)
        started = {}
        starts = [(f"worker-{i}", lambda i=i: st.start_worker(name=f"worker-{i}", **self.env)) for i in range(2)]
        starts += [(f"scheduler-{i}", lambda i=i: self.start_scheduler(f"scheduler-{i}")) for i in range(2)]
        starts += [("gateway", self.start_gateway)]

        def start(name, fn):
            try:
                started[name] = fn()
            except Exception as e:  # reported below, in the test's thread
                started[name] = e
        threads = [threading.Thread(target=start, args=a) for a in starts]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for name, p in started.items():
            if isinstance(p, Exception):
                raise AssertionError(f"{name} did not start: {p}")
        self.workers = [started[f"worker-{i}"] for i in range(2)]
        self.schedulers = [started[f"scheduler-{i}"] for i in range(2)]
        self.gateway = started["gateway"]
        # Two workers joining one cooperative-sticky group settle in seconds, but once (1 of 6
        # runs, two cores shared with a Redis Cluster test) it took over 60 s: wait longer.
        wait_for(self.group_settled, timeout=150, interval=0.1, what="both workers holding input partitions")
        self.reader = TopicReader(st.bootstrap, ["alerts.v1", "touches-due.v1"])
        self.feed = Feed(st.bootstrap)
        port = int(self.gw_addr.rsplit(":", 1)[1])
        self.sse = {rep: SSEClient(port, tok, rep) for rep, tok in self.rep_tokens.items()}
        for c in self.sse.values():
            c.start()
        wait_for(lambda: all(c.connects for c in self.sse.values()), what="every SSE client connected")

    def owned(self, worker):
        """The input partitions `worker` holds, from its log (cooperative rebalancing: each
        "partitions assigned" adds, each "partitions revoked" or "lost" takes away)."""
        own = set()
        for line in self.st.log_of(worker).splitlines():
            if '"msg":"partitions ' not in line:
                continue
            d = json.loads(line)
            parts = {(p["topic"], p["partition"]) for p in d.get("partitions", [])}
            if d["msg"] == "partitions assigned":
                own |= parts
            elif d["msg"] in ("partitions revoked", "partitions lost"):
                own -= parts
        return own

    def group_settled(self):
        """Every input partition held by exactly one worker, each worker holding some: the
        load starts on a settled group, so the fault is the only rebalance (a worker joining
        mid-load is one too, and shows the defect the worker kill shows)."""
        owns = [self.owned(w) for w in self.workers]
        union = set().union(*owns)
        return all(owns) and len(union) == INPUT_PARTITIONS and sum(map(len, owns)) == len(union)

    def token(self, role, rep):
        """A gateway token: a line `<sha256 hex> <role> <rep or *>` as `cadence token add`
        writes it (README, Gateway: Tokens)."""
        tok = secrets.token_urlsafe(32)
        with open(self.tokens_file, "a") as f:
            f.write(f"{hashlib.sha256(tok.encode()).hexdigest()} {role} {rep}\n")
        return tok

    def start_scheduler(self, name):
        env = self.st.env(CADENCE_SHARDS=SHARDS, CADENCE_TICK_MS=50, CADENCE_LEASE_MS=LEASE_MS,
                          CADENCE_SCHEMAS_DIR=SCHEMAS, CADENCE_PLAYBOOK=PLAYBOOK, **self.env)
        p = self.st.spawn(name, [binary("cadence-scheduler")], env=env)
        p.http_addr = env["CADENCE_HTTP_ADDR"]
        wait_for(lambda: p.poll() is not None or http_get(p.http_addr, "/readyz")[0] == 200,
                 timeout=30, what=f"{name} ready")
        assert p.poll() is None, self.st.log_of(p)
        return p

    def start_gateway(self):
        p = self.st.spawn("gateway", [binary("cadence-gateway")], env=self.gw_env)
        wait_for(lambda: p.poll() is not None or http_get(self.gw_addr, "/readyz")[0] == 200,
                 timeout=30, what="gateway ready")
        assert p.poll() is None, self.st.log_of(p)
        return p

    # --- the load ------------------------------------------------------------------------

    def produce(self, events):
        """Phase 1's way in: straight to Kafka, in paced batches."""
        for i in range(0, len(events), BATCH):
            for ev in events[i:i + BATCH]:
                key = ev.get("lead_id") or ev.get("email")
                self.feed.p.produce(TOPIC_OF[ev["type"]], json.dumps(ev).encode(), key=key.encode())
            # the producer retries through a broker restart: bounded like a recovery
            assert self.feed.p.flush(PRODUCE_TIMEOUT_S) == 0, "events not acknowledged by the broker"
            time.sleep(PACE_S)

    def ingest(self, events, timeout=90):
        """Phase 2's way in: the gateway's ingest route, in paced batches, each retried until
        the gateway accepts it (202)."""
        for i in range(0, len(events), BATCH):
            body = json.dumps(events[i:i + BATCH]).encode()
            wait_for(lambda: self.post("/v1/events/site-visits", body) == 202, timeout=timeout,
                     interval=0.1, what="the gateway to accept a batch of visits")
            time.sleep(PACE_S)

    def post(self, path, body):
        req = urllib.request.Request(f"http://{self.gw_addr}{path}", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {self.ingest_token}",
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            return None

    # --- barriers ------------------------------------------------------------------------

    def tasks_settled(self):
        """True when no touch is due and unpublished, and none is claimed and unacknowledged."""
        now = int(time.time() * 1000)
        try:
            counts = redis_run(self.st.redis_port,
                               *[("ZCOUNT", f"cad:{{s{s}}}:due", "-inf", now) for s in range(SHARDS)],
                               *[("ZCARD", f"cad:{{s{s}}}:inflight") for s in range(SHARDS)])
        except (OSError, EOFError, RuntimeError):
            return False  # Redis is not back yet
        return not any(counts)

    def settle(self, timeout):
        """Everything sent so far applied and committed, every due touch published and
        acknowledged."""
        wait_processed(self.st.bootstrap, timeout=timeout)
        wait_for(self.tasks_settled, timeout=timeout, interval=0.2, what="every due touch published")

    def sse_caught_up(self, timeout):
        """Every SSE client holds every alert revision of its rep that alerts.v1 holds."""
        def done():
            want = self.expected_sse()
            return all(want[rep] <= {(a, r) for _, a, r in c.received()} for rep, c in self.sse.items())
        self.reader.sync()
        wait_for(done, timeout=timeout, interval=0.1, what="every SSE client has every alert")

    def expected_sse(self):
        want = {rep: set() for rep in REPS}
        for a in self.reader.values("alerts.v1"):
            want[a["rep_id"]].add((a["alert_id"], a.get("revision", 1)))
        return want

    # --- the end -------------------------------------------------------------------------

    def close(self):
        for c in self.sse.values():
            c.stop()
        self.reader.close()
        st = self.st
        procs = [p for p in [self.gateway] + self.schedulers + self.workers if p.poll() is None]
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:  # one SIGTERM each (a second one means "stop now")
            assert p.wait(timeout=30) == 0, f"{p.args[0]} did not exit 0 on SIGTERM: {st.log_of(p)[-2000:]}"

    def kill9(self, proc):
        proc.send_signal(signal.SIGKILL)
        proc.wait()


class Snapshot:
    """What one run produced, for comparing a faulted run with a clean one."""

    def __init__(self, load):
        st = load.st
        load.reader.sync()
        self.alerts = {}  # alert_id → set of revisions
        self.reasons = {}  # alert_id → reason
        self.rep_alerts = {rep: set() for rep in REPS}  # rep → {(alert_id, revision)}
        self.alert_copies = 0
        seen = set()
        for a in load.reader.values("alerts.v1"):
            key = (a["alert_id"], a.get("revision", 1))
            self.alert_copies += key in seen
            seen.add(key)
            self.alerts.setdefault(a["alert_id"], set()).add(key[1])
            self.reasons[a["alert_id"]] = a["reason"]
            self.rep_alerts[a["rep_id"]].add(key)
        self.tasks = [t["task_id"] for t in load.reader.values("touches-due.v1")]
        self.task_content = {}
        for t in load.reader.values("touches-due.v1"):
            self.task_content.setdefault(task_key(t), set()).add(t["task_id"])
        self.sse = {rep: c.received() for rep, c in load.sse.items()}
        self.sse_connects = {rep: c.connects for rep, c in load.sse.items()}
        self.redis = redis_state(st)
        self.unapplied = unapplied(st, self.redis["leads"])

    def open_tasks(self):
        """The published tasks still in the reps' queues: the touches a clean run leaves open."""
        return {t for q in self.redis["queues"].values() for t in q}


def unapplied(st, leads):
    """{event_id: outbox record present?} of the input events no lead's state holds: never
    applied (no record), or applied and then overwritten (a record)."""
    held = {e for _, s in leads.values() for e in s.get("event_ids", [])}
    held |= {p["event_id"] for _, s in leads.values() for p in s.get("pending", [])}
    ids = [e["event_id"] for e in phase1() + phase2()
           if e["event_id"] not in held and stored.id_digest(e["event_id"]) not in held]
    if not ids:
        return {}
    tags = {lid: f"cad:{{s{shard_of(lid)}}}" for lid in {f"L-{i}" for i in range(N)}}
    lead_of = {e["event_id"]: e.get("lead_id") or f"L-{e['event_id'].split('-')[1]}" for e in phase1() + phase2()}
    found = redis_run(st.redis_port, *[("EXISTS", f"{tags[lead_of[i]]}:ev:{i}") for i in ids])
    return dict(zip(ids, (bool(x) for x in found)))


def shard_of(lead_id):
    """common/store/keys.c: FNV-1a 32 of the lead id modulo the shard count."""
    h = 2166136261
    for b in lead_id.encode():
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h % SHARDS


def task_key(t):
    """What a task asks the rep to do: two ids with the same key are the same touch twice."""
    return (t["lead_id"], t.get("cadence"), t.get("step"), t.get("objective"), t.get("ftc_attempt"),
            t.get("due_at"), t.get("channel"))


def redis_state(st):
    """The final Redis state a clean run must equal: every lead (version and state; the ring of
    recent event ids compared as a set, its order being arrival order), the reps' task queues,
    the touches still due, the claimed ones, the alert ids fanned out to each rep's stream, and
    the shards' counters (the sales measures)."""
    r = Redis(st.redis_port)
    try:
        keys = sorted(r.run(("KEYS", "cad:*:lead:*"))[0])
        leads = {}
        for k, (v, s) in zip(keys, r.run(*[("HMGET", k, "v", "s") for k in keys])):
            state = json.loads(stored.decode(s))
            state["event_ids"] = sorted(state.get("event_ids", []))
            state.pop("event_ids_next", None)
            state.pop("dropped_task_id", None)  # which touches a lead went through: arrival order
            leads[k.split(":lead:")[1]] = (int(v), state)
        zsets = r.run(*[("ZRANGE", f"cad:{{r:{rep}}}:{kind}", 0, -1) for kind in ("queue", "alert_ids")
                        for rep in REPS],
                      *[("ZRANGE", f"cad:{{s{s}}}:{kind}", 0, -1) for kind in ("due", "inflight")
                        for s in range(SHARDS)])
        stats = {}
        for flat in r.run(*[("HGETALL", f"cad:{{s{s}}}:stats") for s in range(SHARDS)]):
            for k, v in zip(flat[0::2], flat[1::2]):
                stats[k] = stats.get(k, 0) + int(v)
    finally:
        r.close()
    nr = len(REPS)
    return {
        "leads": leads,
        "queues": dict(zip(REPS, (sorted(z) for z in zsets[:nr]))),
        "alert_ids": dict(zip(REPS, (sorted(z) for z in zsets[nr:2 * nr]))),
        "due": sorted(t for z in zsets[2 * nr:2 * nr + SHARDS] for t in z),
        "inflight": sorted(t for z in zsets[2 * nr + SHARDS:] for t in z),
        "stats": stats,
    }
