"""Notifier latency benchmark (run by scripts/bench-notifier): alerts produced to alerts.v1 at a
steady rate; the time from produce to the loopback receiver's arrival through cadence-notifier,
against a same-run baseline: a plain Kafka consumer (confluent_kafka, its own group) reading the
same alerts, i.e. the produce -> consume floor every Kafka consumer pays on this broker.

    bench_notifier.py BIN_DIR RATE SECONDS
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from notify_receiver import Receiver, alert, dumps  # noqa: E402

from confluent_kafka import Consumer, Producer  # noqa: E402


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main():
    bin_dir, rate, seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    d = tempfile.mkdtemp(prefix="bench-notifier-")
    procs = []
    try:
        bs = os.path.join(d, "bs")
        procs.append(subprocess.Popen([os.path.join(bin_dir, "cadence-devbroker"), "--partitions", "4",
                                       "--bootstrap-file", bs], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
        while not (os.path.exists(bs) and open(bs).read().strip()):
            time.sleep(0.05)
        bootstrap = open(bs).read().strip()
        rx = Receiver()
        routes = os.path.join(d, "routes")
        with open(routes, "w") as f:
            f.write(f"* webhook {rx.url('/hook')} bench-secret\n")
        env = dict(os.environ, CADENCE_KAFKA_BROKERS=bootstrap, CADENCE_NOTIFY_ROUTES=routes,
                   CADENCE_HTTP_ADDR="", CADENCE_LOG_LEVEL="warn")
        log = open(os.path.join(d, "notifier.log"), "wb")
        procs.append(subprocess.Popen([os.path.join(bin_dir, "cadence-notifier")], env=env, stderr=log))

        got_base = {}
        stop = threading.Event()

        def baseline():
            c = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-baseline",
                          "auto.offset.reset": "earliest", "fetch.wait.max.ms": 10,
                          "fetch.error.backoff.ms": 10})
            c.subscribe(["alerts.v1"])
            while not stop.is_set():
                m = c.poll(0.05)
                if m is not None and not m.error():
                    got_base[json.loads(m.value())["alert_id"]] = time.time()
            c.close()

        t = threading.Thread(target=baseline, daemon=True)
        t.start()
        p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "enable.idempotence": True})
        # Warm-up: both consumers joined and the notifier delivering.
        warm = alert("warm", rep="rep-0")
        p.produce("alerts.v1", dumps(warm).encode(), key=b"warm")
        p.flush(10)
        deadline = time.time() + 60
        while not (rx.got("/hook") and "A-warm" in got_base):
            if time.time() > deadline:
                raise SystemExit(f"warm-up alert never arrived (notifier {bool(rx.got('/hook'))}, "
                                 f"baseline {'A-warm' in got_base})")
            time.sleep(0.05)
        sent = {}
        n = int(rate * seconds)
        start = time.time()
        for i in range(n):
            due = start + i / rate
            now = time.time()
            if due > now:
                time.sleep(due - now)
            a = alert(i, rep=f"rep-{i % 20}")
            sent[a["alert_id"]] = time.time()
            p.produce("alerts.v1", dumps(a).encode(), key=a["lead_id"].encode())
            p.poll(0)
        p.flush(30)
        deadline = time.time() + 120
        while True:
            arrived = {json.loads(r["body"])["alert_id"]: r["at"] for r in rx.got("/hook")}
            if all(k in arrived for k in sent) and all(k in got_base for k in sent):
                break
            if time.time() > deadline:
                raise SystemExit(f"not everything arrived: notifier {len(arrived)}, baseline "
                                 f"{len(got_base)} of {len(sent)}")
            time.sleep(0.1)
        stop.set()
        ntf = [(arrived[k] - s) * 1000 for k, s in sent.items()]
        base = [(got_base[k] - s) * 1000 for k, s in sent.items()]
        print(f"alerts    {n} at {rate:g}/s for {seconds:g} s, one notifier, one signed webhook "
              f"route (loopback receiver)")
        print(f"baseline  produce -> plain Kafka consumer: p50 {pct(base, .5):.1f} ms, "
              f"p99 {pct(base, .99):.1f} ms, max {max(base):.1f} ms")
        print(f"notifier  produce -> receiver (signed POST): p50 {pct(ntf, .5):.1f} ms, "
              f"p99 {pct(ntf, .99):.1f} ms, max {max(ntf):.1f} ms")
        print(f"ratio     notifier / baseline: p50 {pct(ntf, .5) / pct(base, .5):.2f}, "
              f"p99 {pct(ntf, .99) / pct(base, .99):.2f}")
        rx.stop()
    finally:
        for pr in reversed(procs):
            pr.terminate()
            try:
                pr.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pr.kill()


if __name__ == "__main__":
    main()
