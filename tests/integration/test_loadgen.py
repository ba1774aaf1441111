"""cadence-loadgen: each --mix produces the shares its --help documents (counted on the broker),
a bad --mix or --pause is a usage error, and backlog mode (--pause) stops the worker while the
stream is produced, resumes it, and still sees every event committed and every alert raised."""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import Stack, binary  # noqa: E402

EVENTS, LEADS = 4000, 1000


def loadgen(st, *args, timeout=120):
    env = dict(os.environ)
    env.update(st.env(CADENCE_LOG_LEVEL="warn"))
    return subprocess.run([binary("cadence-loadgen"), *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


def stream_counts(st):
    """The measured stream on the broker, by kind (the prelude's leads and first outcomes left out)."""
    counts = {"outcome": 0, "ordinary": 0, "hot": 0}
    for m in st.kcat_consume_all("call-outcomes.v1"):
        if not json.loads(m["value"])["event_id"].endswith("-0"):  # prelude outcomes are -out-<i>-0
            counts["outcome"] += 1
    for m in st.kcat_consume_all("site-visits.v1"):
        url = json.loads(m["value"])["url"]
        counts["hot" if "/pricing" in url or "/demo" in url else "ordinary"] += 1
    return counts


class LoadgenMixTest(unittest.TestCase):
    def produce(self, mix):
        with Stack("loadgen") as st:
            st.start_devbroker(partitions=4)
            r = loadgen(st, "--mix", mix, "--produce-only", "--rate", "0", "--events", str(EVENTS),
                        "--leads", str(LEADS))
            self.assertEqual(r.returncode, 0, r.stderr)
            result = json.loads(r.stdout)
            self.assertEqual((result["mix"], result["mode"], result["events"]),
                             (mix, "produce-only", EVENTS))
            self.assertEqual(len(st.kcat_consume_all("leads.v1")), LEADS)
            counts = stream_counts(st)
            self.assertEqual(sum(counts.values()), EVENTS, counts)
            self.assertEqual(counts["hot"], result["hot_visits"], counts)
            return {k: 100.0 * v / EVENTS for k, v in counts.items()}

    def assertShares(self, shares, want, tolerance):
        for kind, pct in want.items():
            self.assertLess(abs(shares[kind] - pct), tolerance, f"{kind}: {shares} against {want}")

    def test_visits_mix_is_mostly_ordinary_page_views(self):
        self.assertShares(self.produce("visits"), {"outcome": 5, "hot": 5, "ordinary": 90}, 1.5)

    def test_default_mix_keeps_its_shares(self):
        self.assertShares(self.produce("default"), {"outcome": 40, "hot": 20, "ordinary": 40}, 2.5)

    def test_bad_mix_or_pause_is_a_usage_error(self):
        for args in (["--mix", "hot"], ["--pause", "notapid"], ["--pause", "1"],
                     ["--pause", str(os.getpid()), "--produce-only"]):
            r = subprocess.run([binary("cadence-loadgen"), *args], capture_output=True, text=True,
                               env={"CADENCE_KAFKA_BROKERS": "127.0.0.1:1"}, timeout=30)
            self.assertEqual(r.returncode, 2, f"{args}: {r.stderr}")
            self.assertIn(args[0], r.stderr, args)


class LoadgenBacklogTest(unittest.TestCase):
    def test_pause_stops_the_worker_while_producing_and_resumes_it(self):
        with Stack("loadgen-backlog") as st:
            st.start_redis()
            st.start_devbroker(partitions=4)
            w = st.start_worker()
            r = loadgen(st, "--mix", "visits", "--pause", str(w.pid), "--rate", "0",
                        "--events", "2000", "--leads", "200", "--wait", "120", timeout=300)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            result = json.loads(r.stdout)
            self.assertEqual((result["mode"], result["backlog_left"]), ("backlog", 0), result)
            self.assertGreater(result["hot_visits"], 0, result)
            self.assertEqual(result["alerts_seen"], result["hot_visits"], result)
            with open(f"/proc/{w.pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            self.assertNotIn(state, ("T", "t"), "the worker must be resumed")
            self.assertEqual(st.stop(w), 0)
            st.check_sanitizers()


if __name__ == "__main__":
    unittest.main()
