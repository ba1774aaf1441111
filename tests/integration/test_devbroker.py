"""cadence-devbroker speaks real Kafka: kcat lists, produces and consumes, and a consumer group
of two kcat -G consumers splits the partitions between them."""
import json
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import Stack, binary, wait_for  # noqa: E402

TOPICS = ["leads.v1", "site-visits.v1", "call-outcomes.v1", "alerts.v1", "touches-due.v1",
          "lead-status.v1", "cadence-dlq.v1"]


class DevbrokerTest(unittest.TestCase):
    def test_creates_every_topic_with_the_requested_partitions(self):
        with Stack("devbroker") as st:
            p = st.start_devbroker(partitions=3)
            out = subprocess.run(["kcat", "-b", st.bootstrap, "-L", "-J"], capture_output=True,
                                 text=True, check=True, timeout=30).stdout
            meta = json.loads(out)
            topics = {t["topic"]: len(t["partitions"]) for t in meta["topics"]}
            for t in TOPICS:
                self.assertEqual(topics.get(t), 3, f"{t}: {topics}")
            self.assertRegex(st.bootstrap, r"^127\.0\.0\.1:\d+$")
            first_line = st.log_of(p)
            self.assertIn('"msg":"devbroker ready"', first_line)
            self.assertEqual(st.stop(p), 0, "devbroker must exit 0 on SIGTERM")
            st.check_sanitizers()

    def test_round_trips_messages_and_keeps_key_order(self):
        with Stack("devbroker") as st:
            st.start_devbroker(partitions=4)
            records = [(f"lead-{i % 5}", f"v{i}") for i in range(100)]
            st.kcat_produce("leads.v1", records)
            msgs = wait_for(lambda: (lambda m: m if len(m) == 100 else None)(st.kcat_consume_all("leads.v1")),
                            what="100 messages back")
            by_key = {}
            for m in sorted(msgs, key=lambda m: (m["partition"], m["offset"])):
                by_key.setdefault(m["key"], []).append(int(m["value"][1:]))
            for key, values in by_key.items():
                self.assertEqual(values, sorted(values), f"order of key {key}")
                parts = {m["partition"] for m in msgs if m["key"] == key}
                self.assertEqual(len(parts), 1, f"key {key} spread over partitions {parts}")

    def test_a_group_of_two_kcat_consumers_splits_the_partitions(self):
        with Stack("devbroker") as st:
            st.start_devbroker(partitions=4)
            outs = [os.path.join(st.dir, f"c{i}.out") for i in range(2)]
            consumers = []
            for i in range(2):
                f = open(outs[i], "wb")
                consumers.append(st.spawn(f"kcat-G{i}", ["kcat", "-b", st.bootstrap, "-G", "split-test",
                                                          "-X", "session.timeout.ms=6000", "-X", "auto.offset.reset=earliest",
                                                          "-u", "-f", "%p %k\\n", "leads.v1"], stdout=f))
                f.close()

            def assigned(proc):
                # kcat logs each rebalance: "% Group split-test rebalanced (...): assigned: leads.v1 [0], ..."
                lines = [l for l in st.log_of(proc).splitlines() if "assigned:" in l]
                if not lines:
                    return None
                return set(int(x) for x in re.findall(r"\[(\d+)\]", lines[-1]))

            def split():
                a, b = assigned(consumers[0]), assigned(consumers[1])
                return a is not None and b is not None and a and b and not (a & b) and (a | b) == {0, 1, 2, 3}

            wait_for(split, timeout=40, what="both consumers to hold disjoint, non-empty assignments")
            st.kcat_produce("leads.v1", [(f"k{i}", f"v{i}") for i in range(200)])

            def consumed():
                got = []
                for path in outs:
                    with open(path) as f:
                        got.append([l.split() for l in f.read().splitlines() if l.strip()])
                return got if sum(len(g) for g in got) >= 200 else None

            got = wait_for(consumed, timeout=30, what="200 messages consumed by the group")
            parts = [set(int(p) for p, _ in g) for g in got]
            self.assertTrue(parts[0] and parts[1], f"one consumer got nothing: {parts}")
            self.assertFalse(parts[0] & parts[1], f"partitions consumed twice: {parts}")
            self.assertEqual(sum(len(g) for g in got), 200, "a message was delivered twice")
            for c in consumers:
                st.stop(c)


if __name__ == "__main__":
    unittest.main(verbosity=2)
