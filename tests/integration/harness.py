"""Shared helpers for cadence's integration tests.

Every test starts its own redis-server and cadence-devbroker on free loopback ports, waits on
conditions with deadlines (never a bare sleep), and stops everything it started, also on
failure. Services' stderr goes to files under a per-test temp dir, and a sanitizer report in
any of them fails the test.
"""
import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BIN_DIR = os.environ.get("CADENCE_BIN_DIR", os.path.join(os.path.dirname(__file__), "../../build/test"))
SOURCE_DIR = os.environ.get("CADENCE_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))
# The Redis settings cadence recommends (redis/cadence.conf), as every launcher passes them.
REDIS_CONF = os.path.abspath(os.path.join(SOURCE_DIR, "redis", "cadence.conf"))
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def redis_cluster_wanted():
    """CADENCE_TEST_REDIS=cluster: the tests run against a local Redis Cluster (3 masters, 3
    replicas, scripts/redis-cluster) instead of one redis-server, and the services get
    CADENCE_REDIS_CLUSTER=1 with every node as a seed."""
    return os.environ.get("CADENCE_TEST_REDIS", "") == "cluster"


_shared_cluster = None


def _die_with_parent():
    import ctypes
    ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True,
                          timeout=30).stdout


def _cluster_intact(c):
    """The shared cluster still runs, with every node up and cluster_state:ok."""
    if c["proc"].poll() is not None:
        return False
    return all("cluster_state:ok" in _cli(p, "CLUSTER", "INFO") for p in c["ports"])


def _stop_cluster(c):
    if c["proc"].poll() is None:
        c["proc"].terminate()
        c["proc"].wait()
    shutil.rmtree(c["dir"], ignore_errors=True)


def _stop_shared_cluster():
    if _shared_cluster is not None:
        _stop_cluster(_shared_cluster)


atexit.register(_stop_shared_cluster)


def _resp(args):
    out = [f"*{len(args)}\r\n".encode()]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


def binary(name):
    return os.path.join(BIN_DIR, name)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, timeout=20.0, interval=0.02, what="condition"):
    """Polls cond() until it returns a truthy value, or fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def http_get(addr, path):
    """(status, body) of GET http://addr/path, or (0, error) when nothing answers."""
    import http.client
    host, port = addr.rsplit(":", 1)
    try:
        c = http.client.HTTPConnection(host, int(port), timeout=2)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read().decode()
        finally:
            c.close()
    except OSError as e:
        return 0, str(e)


def metric(addr, name, labels=""):
    """The value of one series in a service's /metrics (0 when absent)."""
    status, body = http_get(addr, "/metrics")
    want = f"{name}{{{labels}}} " if labels else f"{name} "
    for line in body.splitlines():
        if line.startswith(want):
            return float(line.split()[-1])
    return 0.0


class TopicReader:
    """Reads every message of some topics from the beginning, continuously, with confluent_kafka
    (an outside client); `poll()` adds what arrived to `messages`."""

    def __init__(self, bootstrap, topics):
        from confluent_kafka import Consumer, TopicPartition
        self.c = Consumer({"bootstrap.servers": bootstrap, "group.id": "test-reader-" + str(os.getpid()),
                           "enable.auto.commit": False, "auto.offset.reset": "earliest"})
        md = self.c.list_topics(timeout=10)
        parts = [TopicPartition(t, p, 0) for t in topics for p in md.topics[t].partitions]
        self.c.assign(parts)
        self.messages = []

    def poll(self):
        while True:
            m = self.c.poll(0.05)
            if m is None:
                return self.messages
            if m.error():
                continue
            self.messages.append({"topic": m.topic(), "key": m.key().decode() if m.key() else None,
                                  "value": json.loads(m.value())})

    def sync(self, timeout=30):
        """Polls until this reader has everything the topics held when called."""
        from confluent_kafka import TopicPartition
        ends = {}
        for tp in self.c.assignment():
            lo, hi = self.c.get_watermark_offsets(tp, timeout=10)
            ends[(tp.topic, tp.partition)] = hi

        def caught_up():
            self.poll()
            pos = self.c.position([TopicPartition(t, p) for (t, p) in ends])
            return all(tp.offset >= ends[(tp.topic, tp.partition)] or ends[(tp.topic, tp.partition)] == 0
                       for tp in pos)
        wait_for(caught_up, timeout=timeout, what="reader caught up")
        return self.messages

    def values(self, topic):
        self.poll()
        return [m["value"] for m in self.messages if m["topic"] == topic]

    def close(self):
        self.c.close()


def wait_processed(bootstrap, group="cadence-worker",
                   topics=("leads.v1", "site-visits.v1", "call-outcomes.v1"), timeout=60):
    """Waits until `group` has committed every input message: a worker commits an offset only
    after the event's Redis apply and the delivery of its outputs, so this is the barrier
    "everything produced so far is fully processed"."""
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        md = c.list_topics(timeout=10)
        parts = [TopicPartition(t, p) for t in topics for p in md.topics[t].partitions]
        ends = {(tp.topic, tp.partition): c.get_watermark_offsets(tp, timeout=10)[1] for tp in parts}

        def done():
            got = c.committed(parts, timeout=10)
            return all(tp.offset >= ends[(tp.topic, tp.partition)] for tp in got
                       if ends[(tp.topic, tp.partition)] > 0)
        wait_for(done, timeout=timeout, interval=0.1, what=f"group {group} to commit every input")
    finally:
        c.close()


class Stack:
    """Processes started by one test; use as a context manager."""

    def __init__(self, name="cadence-test"):
        self.dir = tempfile.mkdtemp(prefix=name + "-")
        self.procs = []  # (name, Popen, logfile path)
        self.redis_port = None
        self.redis_ports = []     # cluster mode: every node
        self.redis_seeds = None   # cluster mode: "127.0.0.1:P1,..."
        self._slot_owner = {}     # cluster mode: hash tag -> master port
        self.bootstrap = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop_all()
        failed = exc[0] is not None
        if failed:
            self.dump_logs()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def spawn(self, name, argv, env=None, stdout=None, stdin=None):
        log_path = os.path.join(self.dir, f"{name}.{len(self.procs)}.log")
        log = open(log_path, "wb")
        full_env = dict(os.environ)
        full_env.update(env or {})
        p = subprocess.Popen(argv, stdout=stdout if stdout is not None else log, stderr=log,
                             stdin=stdin, env=full_env, start_new_session=True)
        self.procs.append((name, p, log_path))
        log.close()
        return p

    def log_of(self, proc):
        for _, p, path in self.procs:
            if p is proc:
                with open(path, "rb") as f:
                    return f.read().decode("utf-8", "replace")
        return ""

    def check_sanitizers(self):
        for name, _, path in self.procs:
            with open(path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
            for marker in SANITIZER_MARKERS:
                if marker in text:
                    raise AssertionError(f"{name}: sanitizer report in its log:\n{text[-4000:]}")

    def stop(self, proc, sig=signal.SIGTERM, timeout=20.0):
        """Sends `sig` and waits for exit; returns the exit status."""
        if proc.poll() is None:
            proc.send_signal(sig)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(f"process {proc.args[0]} did not exit within {timeout}s of {sig}")

    def stop_all(self):
        own = getattr(self, "_own_cluster", None)
        if own is not None:
            _stop_cluster(own)
            self._own_cluster = None
        for _, p, _ in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        if getattr(self, "kafka", None) is not None:  # the real broker goes back to the pool
            import real_kafka
            real_kafka.release(self.kafka)
            self.kafka = None

    def dump_logs(self):
        for name, _, path in self.procs:
            with open(path, "rb") as f:
                tail = f.read()[-3000:].decode("utf-8", "replace")
            sys.stderr.write(f"---- {name} ({path}) ----\n{tail}\n")

    # --- the embedded dependencies -------------------------------------------------------

    def start_redis(self, port=None, persist=False):
        """Starts redis-server; with persist=True every write is fsynced to an AOF first, so a
        kill -9 and restart loses nothing (for fault tests). With CADENCE_TEST_REDIS=cluster,
        starts a local Redis Cluster instead (see start_redis_cluster)."""
        if redis_cluster_wanted():
            return self.start_redis_cluster()
        self.redis_port = port or self.redis_port or free_port()
        aof = ["--appendonly", "yes", "--appendfsync", "always"] if persist else ["--appendonly", "no"]
        p = self.spawn("redis", ["redis-server", REDIS_CONF, "--port", str(self.redis_port), "--bind", "127.0.0.1",
                                 "--save", "", *aof, "--dir", self.dir])
        wait_for(lambda: self.redis_ping(), what="redis-server to answer PING")
        return p

    def start_redis_cluster(self, fresh=False):
        """A local Redis Cluster (scripts/redis-cluster: 3 masters, 3 replicas, node timeout
        1000 ms); redis_port is then its first node and redis_cli follows redirections. The
        process shares one cluster among its tests, emptied (FLUSHALL on every master) for each;
        fresh=True starts one for this Stack alone (for tests that kill nodes), returned as the
        script's process (killing it stops every node)."""
        global _shared_cluster
        if not fresh and _shared_cluster is not None and _cluster_intact(_shared_cluster):
            seeds, ports = _shared_cluster["seeds"], _shared_cluster["ports"]
            for port in ports:
                if "master" in _cli(port, "ROLE"):
                    _cli(port, "FLUSHALL")
                    _cli(port, "SCRIPT", "FLUSH")
        else:
            d = tempfile.mkdtemp(prefix="cadence-cluster-")
            p = subprocess.Popen([os.path.join(SOURCE_DIR, "scripts", "redis-cluster"), d],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                 start_new_session=True, preexec_fn=_die_with_parent)
            seeds, ports = None, []
            for line in p.stdout:
                line = line.decode().strip()
                if line.startswith("seeds="):
                    seeds = line[6:]
                elif line.startswith("ports="):
                    ports = [int(x) for x in line[6:].split(",")]
                elif line == "ready":
                    break
            p.stdout.close()
            if not seeds or p.poll() is not None:
                raise AssertionError("redis-cluster did not start")
            c = {"proc": p, "dir": d, "seeds": seeds, "ports": ports}
            if fresh:
                self.procs.append(("redis-cluster", p, os.devnull))
                self._own_cluster = c
            else:
                if _shared_cluster is not None:
                    _stop_cluster(_shared_cluster)
                _shared_cluster = c
        self.redis_seeds, self.redis_ports = seeds, ports
        self.redis_port = ports[0]
        self._slot_owner = {}
        return None

    def redis_node_alive(self, port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def redis_owner(self, key):
        """Cluster mode: the port of the master serving `key` (asked once per hash tag)."""
        tag = key
        i = key.find("{")
        if i >= 0:
            j = key.find("}", i + 1)
            if j > i + 1:
                tag = key[i + 1:j]
        if tag not in self._slot_owner:
            for port in self.redis_ports:
                if not self.redis_node_alive(port):
                    continue
                out = subprocess.run(["redis-cli", "-p", str(port), "EXISTS", key],
                                     capture_output=True, text=True, timeout=10).stdout.strip()
                if out.startswith("MOVED") or out.startswith("ASK"):
                    self._slot_owner[tag] = int(out.rsplit(":", 1)[1])
                    break
                if "master" in subprocess.run(["redis-cli", "-p", str(port), "ROLE"],
                                              capture_output=True, text=True, timeout=10).stdout:
                    self._slot_owner[tag] = port
                    break
        return self._slot_owner[tag]

    def redis_pipe(self, commands):
        """Sends many commands (tuples of arguments) with redis-cli --pipe; in cluster mode one
        pipe per master, each command to the master of its first key."""
        groups = {}
        for args in commands:
            port = self.redis_owner(str(args[1])) if self.redis_seeds else self.redis_port
            groups.setdefault(port, []).append(_resp(args))
        for port, bufs in groups.items():
            subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input=b"".join(bufs),
                           check=True, capture_output=True, timeout=60)

    def redis_ping(self):
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def redis_cli(self, *args):
        """redis-cli's output. In cluster mode redirections are followed (-c), and --scan
        visits every live node (keys found on a master and its replica count once)."""
        if self.redis_seeds and args and args[0] == "--scan":
            seen, found = set(), []
            for port in self.redis_ports:
                if not self.redis_node_alive(port):
                    continue
                out = subprocess.run(["redis-cli", "-p", str(port), "--raw", *args],
                                     capture_output=True, text=True, check=True).stdout
                for k in out.split():
                    if k not in seen:
                        seen.add(k)
                        found.append(k)
            return "\n".join(found) + ("\n" if found else "")
        cluster = ["-c"] if self.redis_seeds else []
        out = subprocess.run(["redis-cli", *cluster, "-p", str(self.redis_port), "--raw", *args],
                             capture_output=True, text=True, check=True)
        return out.stdout

    def redis_value(self, *args):
        """The one bulk value a command returns, as bytes (binary-safe: the store's zstd frames,
        see stored.py), None when there is none."""
        cluster = ["-c"] if self.redis_seeds else []
        out = subprocess.run(["redis-cli", *cluster, "-p", str(self.redis_port), "--raw", *args],
                             capture_output=True, check=True).stdout
        # --raw prints the value and one newline; nil prints an empty line, like ""
        return out[:-1] if out.endswith(b"\n") and out != b"\n" else None

    def redis_cli_x(self, *args, value):
        """redis-cli -x: `value` (bytes, binary-safe) is the command's last argument."""
        cluster = ["-c"] if self.redis_seeds else []
        return subprocess.run(["redis-cli", *cluster, "-p", str(self.redis_port), "--raw", "-x", *args],
                              input=value, capture_output=True, check=True).stdout

    def start_devbroker(self, partitions=4):
        """The test's Kafka: the devbroker, or with CADENCE_TEST_BROKER=kafka the process's
        shared Apache Kafka broker, emptied for this test (tests/integration/real_kafka.py)."""
        import real_kafka
        if real_kafka.wanted():
            self.kafka = real_kafka.acquire(partitions)
            self.bootstrap = self.kafka.bootstrap
            return None
        path = os.path.join(self.dir, "bootstrap")
        p = self.spawn("devbroker", [binary("cadence-devbroker"), "--partitions", str(partitions),
                                     "--bootstrap-file", path])
        wait_for(lambda: os.path.exists(path) or p.poll() is not None, what="devbroker bootstrap file")
        if p.poll() is not None:
            raise AssertionError("devbroker exited: " + self.log_of(p))
        with open(path) as f:
            self.bootstrap = f.read().strip()
        return p

    def start_worker(self, name="worker", **extra):
        """Starts a cadence-worker on this stack; waits until it serves /healthz."""
        env = self.env(CADENCE_SCHEMAS_DIR=os.path.join(SOURCE_DIR, "schemas"),
                       CADENCE_PLAYBOOK=os.path.join(SOURCE_DIR, "examples", "playbook.json"),
                       CADENCE_SESSION_TIMEOUT_MS=6000, **extra)
        p = self.spawn(name, [binary("cadence-worker")], env=env)
        p.http_addr = env["CADENCE_HTTP_ADDR"]
        wait_for(lambda: p.poll() is not None or http_get(p.http_addr, "/healthz")[0] == 200,
                 timeout=30, what=f"{name} healthy")
        if p.poll() is not None:
            raise AssertionError(f"{name} exited: {self.log_of(p)[-2000:]}")
        return p

    def env(self, **extra):
        """The environment a cadence service needs to use this stack."""
        env = {"CADENCE_KAFKA_BROKERS": self.bootstrap or "127.0.0.1:1",
               "CADENCE_REDIS_URL": f"redis://127.0.0.1:{self.redis_port or 6379}",
               "CADENCE_REDIS_CLUSTER": "0",
               "CADENCE_HTTP_ADDR": f"127.0.0.1:{free_port()}",
               "CADENCE_LOG_LEVEL": "info"}
        if self.redis_seeds:
            env["CADENCE_REDIS_URL"] = "redis://" + self.redis_seeds
            env["CADENCE_REDIS_CLUSTER"] = "1"
        env.update({k: str(v) for k, v in extra.items()})
        return env

    # --- Kafka from outside, with kcat -----------------------------------------------------

    def kcat_produce(self, topic, records):
        """Produces (key, value) records with kcat; values may be dicts (sent as JSON)."""
        lines = []
        for key, value in records:
            if not isinstance(value, (str, bytes)):
                value = json.dumps(value, separators=(",", ":"))
            if isinstance(value, bytes):
                value = value.decode()
            lines.append(f"{key or ''}\t{value}")
        subprocess.run(["kcat", "-b", self.bootstrap, "-P", "-t", topic, "-K", "\t", "-z", "none"],
                       input="\n".join(lines) + "\n", text=True, check=True, timeout=30)

    def kcat_consume_all(self, topic):
        """Every message currently in `topic`, as dicts with partition, offset, key, value."""
        out = subprocess.run(["kcat", "-b", self.bootstrap, "-C", "-t", topic, "-e", "-q", "-J"],
                             capture_output=True, text=True, check=True, timeout=30)
        msgs = []
        for line in out.stdout.splitlines():
            if line.strip():
                m = json.loads(line)
                msgs.append({"partition": m["partition"], "offset": m["offset"], "key": m["key"],
                             "value": m["payload"]})
        return msgs
