"""A fault suite with figures: the worker's data set (150 leads, their "no", then hot-page
visits: tests/integration/test_worker.py) streams through the broker, Redis with AOF (fsync
always) and two workers, and one fault strikes in the middle of the first phase. After each:
every expected alert arrives (by id), no alert id is new and no lead state differs from a clean
run of the same input (nothing applied twice), and the run recovers within a bound. Prints:

    fault | events in flight | lost | duplicated after dedupe | differs from clean run | time to recover

"lost" counts expected alert ids that never arrived, "duplicated after dedupe" alert ids a
clean run does not make (copies of one id are counted apart, in brackets), "differs" the leads
whose final Redis state is not the clean run's. Runs on the devbroker, and on real Kafka with CADENCE_TEST_BROKER=kafka, where the broker
itself is also stopped and restarted:

    CADENCE_TEST_BROKER=kafka /usr/bin/python3 tests/integration/fault_suite.py

(fault_suite.py is not named test_*.py: tests/CMakeLists.txt registers the fault that holds
today, the worker kill; the others, which show a worker defect, run by hand — see the README's
Reliability section.)
"""
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import Stack, TopicReader, metric, wait_for, wait_processed  # noqa: E402
import real_kafka  # noqa: E402
from test_worker import Feed, alerts_by_id, clean_run, lead_states, phase1, phase2, N  # noqa: E402

RECOVER_BOUND_S = 90
ROWS = []


def in_flight(bootstrap, group="cadence-worker", topics=("leads.v1", "site-visits.v1", "call-outcomes.v1")):
    """Input events produced but not yet committed by the workers' group."""
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        md = c.list_topics(timeout=10)
        parts = [TopicPartition(t, p) for t in topics for p in md.topics[t].partitions]
        ends = {(tp.topic, tp.partition): c.get_watermark_offsets(tp, timeout=10)[1] for tp in parts}
        got = c.committed(parts, timeout=10)
        return sum(ends[(tp.topic, tp.partition)] - max(tp.offset, 0) for tp in got)
    finally:
        c.close()


class Faults(unittest.TestCase):
    @classmethod
    def tearDownClass(cls):
        broker = "Apache Kafka" if real_kafka.wanted() else "devbroker"
        print(f"\nfault suite on the {broker}: {N} leads, {3 * N + N // 3 + 1} input events, "
              "2 workers, Redis AOF (fsync always)", file=sys.stderr)
        print(f"| {'fault':<36} | events in flight | lost | duplicated after dedupe | differs from clean run "
              "| time to recover |", file=sys.stderr)
        print(f"|{'-' * 38}|------------------|------|-------------------------|------------------------"
              "|-----------------|", file=sys.stderr)
        for r in ROWS:
            print(f"| {r[0]:<36} | {r[1]:>16} | {r[2]:>4} | {r[3]:>23} | {r[4]:>22} | {r[5]:>14.1f}s |",
                  file=sys.stderr)

    def run_fault(self, name, fault, redis_timeout_ms=2000):
        with Stack("fault") as st:
            redis = st.start_redis(persist=True)
            st.start_devbroker(partitions=4)
            env = {"CADENCE_REDIS_TIMEOUT_MS": redis_timeout_ms}
            workers = [st.start_worker(name=f"worker-{i}", **env) for i in range(2)]
            reader = TopicReader(st.bootstrap, ["alerts.v1", "lead-status.v1"])
            feed = Feed(st.bootstrap)
            ctx = {"st": st, "redis": redis, "workers": workers, "env": env, "feed": feed}

            events = phase1()
            half = len(events) // 2
            feed.send(events[:half])
            wait_for(lambda: sum(metric(w.http_addr, "cadence_worker_events_total",
                                        'topic="leads.v1",result="applied"') for w in workers) > 0,
                     what="some progress before the fault")
            flying = in_flight(st.bootstrap)
            t0 = time.monotonic()
            fault(ctx)
            feed = ctx["feed"]
            feed.send(events[half:])
            wait_processed(st.bootstrap, timeout=RECOVER_BOUND_S)
            recovered = time.monotonic() - t0
            feed.send(phase2())
            wait_processed(st.bootstrap, timeout=90)
            reader.sync()

            alerts, states = clean_run()
            got = alerts_by_id(reader)
            lost = len(alerts - set(got))
            new_ids = len(set(got) - alerts)
            final = lead_states(ctx["st"])
            differing = sum(1 for k in set(states) | set(final) if states.get(k) != final.get(k))
            dup = len(reader.values("alerts.v1")) - len(got)  # redelivered copies, same id
            ROWS.append((name, flying, lost, new_ids, f"{differing} leads" + (f" ({dup} copies)" if dup else ""),
                         recovered))
            if lost or new_ids or differing:
                import collections
                sys.stderr.write(f"{name}: alert reasons {collections.Counter(v['reason'] for v in got.values())}; "
                                 f"clean run {len(alerts)} alerts; lost {sorted(alerts - set(got))[:5]}; "
                                 f"new {[got[a] for a in sorted(set(got) - alerts)][:3]}; leads differing: "
                                 f"{[k for k in sorted(set(states) | set(final)) if states.get(k) != final.get(k)][:5]}\n")
            self.assertEqual(lost, 0, "alerts lost")
            self.assertEqual(new_ids, 0, "alert ids a clean run does not make")
            self.assertEqual(final, states, "final Redis state differs from a clean run")
            self.assertLess(recovered, RECOVER_BOUND_S)
            reader.close()
            for w in ctx["workers"]:
                if w.poll() is None:
                    self.assertEqual(st.stop(w), 0)
            st.check_sanitizers()

    def test_1_kill_9_of_a_worker(self):
        def fault(ctx):
            w = ctx["workers"].pop(0)
            w.send_signal(signal.SIGKILL)
            w.wait()
            ctx["workers"].append(ctx["st"].start_worker(name="worker-restarted", **ctx["env"]))
        self.run_fault("kill -9 worker, restart", fault)

    def test_2_kill_9_of_redis_and_restart(self):
        def fault(ctx):
            st = ctx["st"]
            ctx["redis"].send_signal(signal.SIGKILL)
            ctx["redis"].wait()
            wait_for(lambda: all(metric(w.http_addr, "cadence_redis_ready") == 0 for w in ctx["workers"]),
                     what="workers see Redis down")
            ctx["redis"] = st.start_redis(persist=True)
        self.run_fault("kill -9 Redis (AOF), restart", fault)

    def test_3_redis_paused_past_the_command_deadline(self):
        def fault(ctx):
            ctx["redis"].send_signal(signal.SIGSTOP)
            time.sleep(1.5)  # the fault itself: 3x the 500 ms command deadline
            ctx["redis"].send_signal(signal.SIGCONT)
        self.run_fault("SIGSTOP Redis 1.5 s (deadline 0.5 s)", fault, redis_timeout_ms=500)

    @unittest.skipUnless(real_kafka.wanted(), "the broker restart needs real Kafka")
    def test_4_kafka_broker_stop_and_restart(self):
        def fault(ctx):
            st = ctx["st"]
            self.assertEqual(st.kafka.stop(), 0)
            wait_for(lambda: all("Connection refused" in st.log_of(w) or "Disconnected" in st.log_of(w)
                                 or "transport" in st.log_of(w).lower() for w in ctx["workers"]),
                     timeout=30, what="the workers notice the broker is gone")
            self.assertEqual(st.kafka.start(), st.bootstrap)
            ctx["feed"] = Feed(st.bootstrap)  # the test's own producer, new after the restart
        self.run_fault("stop + restart Kafka broker", fault)

    @unittest.skipIf(real_kafka.wanted(), "the mock's broker control is the devbroker's")
    def test_5_mock_broker_down_and_up_with_request_errors(self):
        def fault(ctx):
            st = ctx["st"]
            devbroker = next(p for name, p, _ in st.procs if name == "devbroker")
            devbroker.send_signal(signal.SIGUSR1)
            wait_for(lambda: "devbroker brokers down" in st.log_of(devbroker), what="the mock broker down")
            time.sleep(2)  # the fault itself: the broker stays down 2 s
            devbroker.send_signal(signal.SIGUSR2)
            wait_for(lambda: "request errors injected" in st.log_of(devbroker), what="the mock broker up")
        self.run_fault("mock broker down 2 s, up + errors", fault)


if __name__ == "__main__":
    unittest.main(verbosity=2)
