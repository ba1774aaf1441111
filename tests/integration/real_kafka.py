"""Real Apache Kafka for the integration tests: one broker (scripts/kafka-broker) per test
process, started on first use and stopped at exit, shared by the test's Stacks one after the
other (a Stack started inside another gets a second broker).

Each Stack that asks for a broker gets a clean one: its consumer groups are deleted and every
topic of the contract is deleted and created again with the partitions it asked for, so a test
sees empty topics and no committed offsets, as with a fresh devbroker.

Which broker the tests use is chosen by the environment: CADENCE_TEST_BROKER=kafka picks this
one, anything else (the default) the devbroker.
"""
import atexit
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

SOURCE_DIR = os.environ.get("CADENCE_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))
SCRIPT = os.path.join(SOURCE_DIR, "scripts", "kafka-broker")

_pool = []  # [Broker, in_use] of this process


def wanted():
    """True when the tests run on real Kafka (CADENCE_TEST_BROKER=kafka)."""
    return os.environ.get("CADENCE_TEST_BROKER", "devbroker") == "kafka"


def contract_topics():
    names = []
    for d, _, files in os.walk(os.path.join(SOURCE_DIR, "common")):
        if "topics.h" in files:
            with open(os.path.join(d, "topics.h")) as f:
                names += re.findall(r'#define\s+CADENCE_TOPIC_\w+\s+"([^"]+)"', f.read())
    return names


class Broker:
    """scripts/kafka-broker in a directory of its own; stop() is a clean SIGTERM stop and
    start() on the same directory is a restart on the same port with the same data."""

    def __init__(self, partitions=8, extra_args=(), directory=None):
        self.dir = directory or tempfile.mkdtemp(prefix="cadence-kafka-")
        self.partitions = partitions
        self.extra_args = list(extra_args)
        self.proc = None
        self.bootstrap = None
        self.lines = {}

    def start(self, timeout=180):
        self.log = open(os.path.join(self.dir, "script.log"), "ab")
        self.proc = subprocess.Popen([SCRIPT, self.dir, "--partitions", str(self.partitions), *self.extra_args],
                                     stdout=subprocess.PIPE, stderr=self.log, text=True,
                                     start_new_session=True)
        want = 2 if any(a.startswith("--sasl") for a in self.extra_args) else 1
        deadline = time.monotonic() + timeout
        while len(self.lines) < want:
            line = self.proc.stdout.readline()
            if not line:
                self.proc.wait()
                raise AssertionError("kafka-broker exited while starting:\n" + self.tail())
            k, _, v = line.strip().partition("=")
            self.lines[k] = v
            if time.monotonic() > deadline:
                raise AssertionError("kafka-broker did not start in time:\n" + self.tail())
        self.bootstrap = self.lines["bootstrap"]
        return self.bootstrap

    def tail(self):
        out = ""
        for name in ("script.log", "broker.log"):
            path = os.path.join(self.dir, name)
            if os.path.exists(path):
                out += f"---- {name} ----\n" + open(path, "rb").read()[-3000:].decode("utf-8", "replace")
        return out

    def stop(self, timeout=60):
        """SIGTERM; returns the script's exit status (0 after a clean stop)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            rc = self.proc.wait()
        self.proc.stdout.close()
        self.log.close()
        self.proc = None
        return rc

    def kill9(self):
        """kill -9 of the broker's JVM and of the script."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc.stdout.close()
            self.log.close()
        self.proc = None

    def remove(self):
        self.kill9()
        shutil.rmtree(self.dir, ignore_errors=True)


def acquire(partitions):
    """A broker no live Stack uses, emptied and with the contract's topics of `partitions`
    partitions: the process's first broker when free (the usual case, one per test file); a
    test that runs a second Stack inside the first (a clean run to compare with) gets a second
    broker, so the first Stack's services never see the second's events."""
    for entry in _pool:
        if not entry[1]:
            entry[1] = True
            reset(entry[0].bootstrap, partitions)
            return entry[0]
    b = Broker(partitions=partitions)
    b.start()
    if not _pool:
        atexit.register(_stop_all)
    _pool.append([b, True])
    return b


def release(broker):
    for entry in _pool:
        if entry[0] is broker:
            entry[1] = False


def _stop_all():
    for b, _ in _pool:
        b.stop()
        shutil.rmtree(b.dir, ignore_errors=True)
    _pool.clear()


def reset(bootstrap, partitions, timeout=90):
    """Empties the broker for a new test: deletes every contract topic (and so the groups'
    offsets of them), then creates the topics again with `partitions` partitions."""
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap})
    topics = contract_topics()
    deadline = time.monotonic() + timeout

    # Deleting a topic deletes every group's committed offsets of its partitions, so the groups
    # start from the beginning of the new topics (Debian's confluent_kafka cannot delete groups).
    existing = [t for t in topics if t in admin.list_topics(timeout=10).topics]
    if existing:
        for _, fut in admin.delete_topics(existing, operation_timeout=30).items():
            try:
                fut.result()
            except Exception:
                pass
    while True:
        left = set(topics) & set(admin.list_topics(timeout=10).topics)
        missing = [t for t in topics if t not in left]
        if missing:
            fs = admin.create_topics([NewTopic(t, num_partitions=partitions, replication_factor=1)
                                      for t in missing], operation_timeout=30)
            for _, fut in fs.items():
                try:
                    fut.result()
                except Exception:
                    pass  # still being deleted: try again
        md = admin.list_topics(timeout=10)
        if all(t in md.topics and len(md.topics[t].partitions) == partitions and
               all(p.leader >= 0 and not p.error for p in md.topics[t].partitions.values())
               for t in topics):
            return
        if time.monotonic() > deadline:
            raise AssertionError("could not recreate the topics on the shared Kafka broker")
        time.sleep(0.2)
