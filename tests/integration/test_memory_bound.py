"""Redis memory is bounded by leads, not by events: cadence-loadgen streams many events per lead
through a real worker (devbroker, redis-server with redis/cadence.conf) and Redis's
used_memory, over the leads, stays under the bound the README documents (4 KB per lead at 27
events per lead with the default playbook, timeline included; each further applied event adds
one timeline entry of ~90 bytes, up to the timeline's cap). Before the dedupe lived in the
lead's own hash, every event kept a ~0.9 KB record for 7 days: at 27 events per lead that alone
is ~24 KB per lead."""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import SOURCE_DIR, Stack, binary, redis_cluster_wanted  # noqa: E402

LEADS = 2000
EVENTS = 50000  # + the prelude's 2 events per lead: 27 events per lead
BOUND = 4096    # bytes of Redis used_memory per lead at 27 events per lead (README "Scaling")


def used_memory(st):
    info = st.redis_cli("INFO", "memory")
    return int(next(l.split(":")[1] for l in info.splitlines() if l.startswith("used_memory:")))


@unittest.skipIf(redis_cluster_wanted(), "used_memory of one redis-server")
class MemoryBoundTest(unittest.TestCase):
    def test_memory_per_lead_stays_under_the_bound_at_many_events_per_lead(self):
        with Stack("memory") as st:
            st.start_redis()
            st.start_devbroker(partitions=8)
            st.start_worker()
            empty = used_memory(st)
            r = subprocess.run([binary("cadence-loadgen"), "--rate", "0", "--events", str(EVENTS),
                                "--leads", str(LEADS), "--wait", "300"],
                               env=st.env(), capture_output=True, text=True, timeout=400)
            self.assertEqual(r.returncode, 0, r.stderr[-2000:])
            out = json.loads(r.stdout.strip().splitlines()[-1])
            self.assertEqual(out["backlog_left"], 0)
            events = out["events"] + out["prelude_events"]
            self.assertGreaterEqual(events / LEADS, 27)
            per_lead = (used_memory(st) - empty) / LEADS
            print(f"{events} events over {LEADS} leads: {per_lead:.0f} bytes of Redis per lead",
                  file=sys.stderr)
            if per_lead > BOUND:
                print(subprocess.run([os.path.join(SOURCE_DIR, "scripts", "redis-memory"),
                                      str(st.redis_port)], capture_output=True, text=True).stdout,
                      file=sys.stderr)
            self.assertLessEqual(per_lead, BOUND)
            # no key per event: a lead's keys (hash, timeline, email link), the shards' and the
            # reps' few
            keys = int(st.redis_cli("DBSIZE").strip())
            self.assertLess(keys, 3 * LEADS + 400, f"{keys} keys")
            st.check_sanitizers()


if __name__ == "__main__":
    unittest.main()
