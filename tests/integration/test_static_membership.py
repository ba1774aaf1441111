"""Static group membership on real Apache Kafka (CADENCE_INSTANCE_ID → group.instance.id).

Two workers share 8 partitions; one is killed with kill -9 and started again at once, and
events keep coming. Measured from the kill: when the restarted worker applies its first event,
and when every event produced after the kill is applied and committed. With static
membership the restarted worker takes its partitions back without a rebalance; without it,
the group waits for the dead member's session to time out (CADENCE_SESSION_TIMEOUT_MS, 20 s
here) and rebalances. Prints both figures for both modes:

    /usr/bin/python3 tests/integration/test_static_membership.py     (after a test build)
"""
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import SOURCE_DIR, Stack, binary, http_get, metric, wait_for, wait_processed  # noqa: E402
import real_kafka  # noqa: E402
from test_worker import Feed, lead  # noqa: E402

SESSION_MS = 20000  # CADENCE_SESSION_TIMEOUT_MS of both workers
APPLIED = 'topic="leads.v1",result="applied"'


def spawn_worker(st, name, ready=True, **extra):
    env = st.env(CADENCE_SCHEMAS_DIR=os.path.join(SOURCE_DIR, "schemas"),
                  CADENCE_PLAYBOOK=os.path.join(SOURCE_DIR, "examples", "playbook.json"),
                  CADENCE_SESSION_TIMEOUT_MS=SESSION_MS, **extra)
    p = st.spawn(name, [binary("cadence-worker")], env=env)
    p.http_addr = env["CADENCE_HTTP_ADDR"]
    if ready:
        wait_for(lambda: p.poll() is not None or http_get(p.http_addr, "/readyz")[0] == 200,
                 timeout=60, what=f"{name} ready")
    return p


def measure(static, base):
    os.environ["CADENCE_TEST_BROKER"] = "kafka"
    with Stack(f"static-{static}") as st:
        st.start_redis()
        st.start_devbroker(partitions=8)  # real Kafka (the variable above)
        ids = ({"CADENCE_INSTANCE_ID": "worker-a"}, {"CADENCE_INSTANCE_ID": "worker-b"}) if static else ({}, {})
        a = spawn_worker(st, "worker-a", **ids[0])
        b = spawn_worker(st, "worker-b", **ids[1])
        feed = Feed(st.bootstrap)
        feed.send([lead(base + i) for i in range(200)])
        wait_processed(st.bootstrap, timeout=120)
        wait_for(lambda: metric(a.http_addr, "cadence_worker_events_total", APPLIED) > 0 and
                 metric(b.http_addr, "cadence_worker_events_total", APPLIED) > 0, timeout=60,
                 what="both workers applying events (each holds partitions)")

        a.send_signal(signal.SIGKILL)
        a.wait()
        t_kill = time.monotonic()
        a2 = spawn_worker(st, "worker-a-restarted", ready=False, **ids[0])
        wait_for(lambda: http_get(a2.http_addr, "/livez")[0] == 200, timeout=60, what="restarted worker alive")
        t_up = time.monotonic() - t_kill
        feed.send([lead(base + 1000 + i) for i in range(200)])
        wait_for(lambda: metric(a2.http_addr, "cadence_worker_events_total", APPLIED) > 0, timeout=90,
                 interval=0.05, what="the restarted worker's first applied event")
        first = time.monotonic() - t_kill
        wait_processed(st.bootstrap, timeout=120)
        caught_up = time.monotonic() - t_kill
        assert st.stop(a2) == 0 and st.stop(b) == 0
        st.check_sanitizers()
        return t_up, first, caught_up


class StaticMembership(unittest.TestCase):
    def test_a_static_member_restarted_after_kill_9_is_back_before_its_session_times_out(self):
        rows = []
        for static in (False, True):
            rows.append((static, *measure(static, 20000 if static else 10000)))
        print("\nkill -9 + restart of one of two workers, real Kafka, session timeout 20 s, 8 partitions",
              file=sys.stderr)
        print(f"{'membership':<12} {'serving':>10} {'first applied':>14} {'all applied':>12}", file=sys.stderr)
        for static, up, first, all_ in rows:
            print(f"{'static' if static else 'dynamic':<12} {up:>9.1f}s {first:>13.1f}s {all_:>11.1f}s",
                  file=sys.stderr)
        dynamic_first, static_first = rows[0][2], rows[1][2]
        self.assertLess(static_first, SESSION_MS / 1000, "a static member waited for a session timeout")
        self.assertLess(static_first, dynamic_first)


if __name__ == "__main__":
    unittest.main(verbosity=2)
