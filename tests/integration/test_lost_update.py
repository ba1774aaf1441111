"""The worker's lost update, step by step, with two real workers of one group on the devbroker
(one partition per topic) — found by the fault suite, fixed by chained applies (store/apply.h):

1. worker A applies lead L (version 1) and keeps it in its lead cache;
2. A is stopped (SIGSTOP) past its session timeout; worker B takes the partitions over and
   applies L's "no" (version 2); B is stopped cleanly;
3. A resumes and gets the partitions back, its cache still holding L at version 1;
4. two visits of L arrive in one batch. A computes both from its cached state and sends both
   applies pipelined, expecting versions 1 and 2. The first is a conflict; the second finds
   version 2 — written by B — and, before the fix, replaced B's state with one that never saw
   the "no". Now it names the first's event id, so Redis refuses it too; A re-reads and applies
   both visits on top of B's write.
"""
import json
import unittest
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import Stack, metric, wait_for, wait_processed  # noqa: E402
from fault_load import Feed, Redis, lead, no, shard_of, visit  # noqa: E402
import stored  # noqa: E402



def state(st, lead_id):
    r = Redis(st.redis_port)
    try:
        v, s = r.run(("HMGET", f"cad:{{s{shard_of(lead_id)}}}:lead:{lead_id}", "v", "s"))[0]
        return int(v or 0), json.loads(stored.decode(s)) if s else {}
    finally:
        r.close()


class LostUpdateTest(unittest.TestCase):
    def test_a_chained_apply_never_overwrites_another_workers_write(self):
        with Stack("lost-update") as st:
            self.run_race(st)

    def run_race(self, st):
        st.start_redis()
        st.start_devbroker(partitions=1)
        feed = Feed(st.bootstrap)
        a = st.start_worker(name="worker-a")
        feed.send([lead(0)])
        wait_for(lambda: state(st, "L-0")[0] == 1, what="A applied the lead")
        wait_processed(st.bootstrap)

        a.send_signal(signal.SIGSTOP)
        b = st.start_worker(name="worker-b")
        feed.send([no(0)])
        wait_for(lambda: state(st, "L-0")[0] == 2, timeout=60, what="B applied the no")
        wait_processed(st.bootstrap)
        assert st.stop(b) == 0
        a.send_signal(signal.SIGCONT)
        wait_for(lambda: metric(a.http_addr, "cadence_worker_events_total",
                                'topic="leads.v1",result="applied"') == 1, what="A alive")
        # A rejoins the group (its session ended) and holds the partitions again
        wait_for(lambda: st.log_of(a).count('"msg":"partitions assigned"') >= 2, timeout=60,
                 what="A assigned the partitions again")

        a.send_signal(signal.SIGSTOP)  # both visits in one fetch, one batch
        feed.send([visit(0, 0.5), visit(0, 40)])
        a.send_signal(signal.SIGCONT)
        wait_processed(st.bootstrap, timeout=60)

        v, s = state(st, "L-0")
        conflicts = metric(a.http_addr, "cadence_worker_conflicts_total")
        print(f"L-0: version {v}, status {s.get('status')}, "
              f"event ids {sorted(s.get('event_ids', []))}; A's conflicts: {conflicts:.0f}")
        assert st.stop(a) == 0
        st.check_sanitizers()
        self.assertGreaterEqual(conflicts, 1, "A's stale cache met B's write (the race happened)")
        self.assertIn(stored.id_digest("no-0"), s.get("event_ids", []),
                      "B's no survives A's chained apply")
        self.assertEqual(v, 4, "lead, no and both visits applied once each")
        self.assertIsNotNone(s.get("no_at"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
