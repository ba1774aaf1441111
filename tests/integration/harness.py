"""Shared helpers for cadence's integration tests.

Every test starts its own redis-server and cadence-devbroker on free loopback ports, waits on
conditions with deadlines (never a bare sleep), and stops everything it started, also on
failure. Services' stderr goes to files under a per-test temp dir, and a sanitizer report in
any of them fails the test.
"""
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
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


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


class Stack:
    """Processes started by one test; use as a context manager."""

    def __init__(self, name="cadence-test"):
        self.dir = tempfile.mkdtemp(prefix=name + "-")
        self.procs = []  # (name, Popen, logfile path)
        self.redis_port = None
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

    def spawn(self, name, argv, env=None, stdout=None):
        log_path = os.path.join(self.dir, f"{name}.{len(self.procs)}.log")
        log = open(log_path, "wb")
        full_env = dict(os.environ)
        full_env.update(env or {})
        p = subprocess.Popen(argv, stdout=stdout if stdout is not None else log, stderr=log,
                             env=full_env, start_new_session=True)
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
        for _, p, _ in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()

    def dump_logs(self):
        for name, _, path in self.procs:
            with open(path, "rb") as f:
                tail = f.read()[-3000:].decode("utf-8", "replace")
            sys.stderr.write(f"---- {name} ({path}) ----\n{tail}\n")

    # --- the embedded dependencies -------------------------------------------------------

    def start_redis(self, port=None):
        self.redis_port = port or self.redis_port or free_port()
        p = self.spawn("redis", ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                                 "--save", "", "--appendonly", "no", "--dir", self.dir])
        wait_for(lambda: self.redis_ping(), what="redis-server to answer PING")
        return p

    def redis_ping(self):
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def redis_cli(self, *args):
        out = subprocess.run(["redis-cli", "-p", str(self.redis_port), "--raw", *args],
                             capture_output=True, text=True, check=True)
        return out.stdout

    def start_devbroker(self, partitions=4):
        path = os.path.join(self.dir, "bootstrap")
        p = self.spawn("devbroker", [binary("cadence-devbroker"), "--partitions", str(partitions),
                                     "--bootstrap-file", path])
        wait_for(lambda: os.path.exists(path) or p.poll() is not None, what="devbroker bootstrap file")
        if p.poll() is not None:
            raise AssertionError("devbroker exited: " + self.log_of(p))
        with open(path) as f:
            self.bootstrap = f.read().strip()
        return p

    def env(self, **extra):
        """The environment a cadence service needs to use this stack."""
        env = {"CADENCE_KAFKA_BROKERS": self.bootstrap or "127.0.0.1:1",
               "CADENCE_REDIS_URL": f"redis://127.0.0.1:{self.redis_port or 6379}",
               "CADENCE_HTTP_ADDR": f"127.0.0.1:{free_port()}",
               "CADENCE_LOG_LEVEL": "info"}
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
