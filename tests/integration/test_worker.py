"""cadence-worker end to end: Kafka in (produced from outside with confluent_kafka), a real
redis-server, outputs read back from Kafka. Scenario tests for the domain rules that cross the
wire, and fault tests (kill -9 a worker, restart Redis, three workers with one killed) that
compare every alert id and the final Redis state with a clean run of the same events."""
import datetime
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import SOURCE_DIR, Stack, TopicReader, metric, redis_cluster_wanted, wait_for, wait_processed  # noqa: E402
import stored  # noqa: E402

from confluent_kafka import Producer  # noqa: E402

BASE = datetime.datetime(2026, 11, 2, 14, 0, tzinfo=datetime.timezone.utc)


def ts(days=0.0):
    return (BASE + datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def lead(i, **kw):
    ev = {"event_id": f"lead-{i}", "type": "lead", "occurred_at": ts(), "lead_id": f"L-{i}",
          "rep_id": f"rep-{i % 3}", "lead_type": "cold", "potential": 60, "first_name": f"Ann{i}",
          "company": "Acme", "email": f"ann{i}@example.com", "timezone": "America/New_York"}
    ev.update(kw)
    return ev


def no(i, day=1.0, **kw):
    ev = {"event_id": f"no-{i}", "type": "call_outcome", "occurred_at": ts(day), "lead_id": f"L-{i}",
          "rep_id": f"rep-{i % 3}", "channel": "call", "disposition": "not_interested",
          "no_reason": "no budget this year"}
    ev.update(kw)
    return ev


def visit(i, day=10.0, url="https://example.com/pricing", by_email=False, **kw):
    ev = {"event_id": f"visit-{i}-{day}", "type": "site_visit", "occurred_at": ts(day), "url": url}
    if by_email:
        ev["email"] = f"ANN{i}@example.com"
    else:
        ev["lead_id"] = f"L-{i}"
    ev.update(kw)
    return ev


TOPIC_OF = {"lead": "leads.v1", "call_outcome": "call-outcomes.v1", "site_visit": "site-visits.v1"}


class Feed:
    """Produces events to the input topics with confluent_kafka, keyed by lead (or email)."""

    def __init__(self, bootstrap):
        self.p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5})

    def send(self, events, raw=None):
        for ev in events:
            key = ev.get("lead_id") or ev.get("email")
            self.p.produce(TOPIC_OF[ev["type"]], json.dumps(ev).encode(), key=key.encode())
        for topic, key, value in raw or []:
            self.p.produce(topic, value, key=key)
        assert self.p.flush(30) == 0, "events not acknowledged by the broker"


def lead_states(st):
    """{lead_id: (version, state dict)} of every lead in Redis, normalised for comparison: the
    ring of recent event ids is compared as a set (its order is arrival order), and the touch the
    lead last dropped is left out (which intermediate touches a lead went through depends on
    the arrival order too; it only serves to repair a rep's queue on a replay)."""
    keys = st.redis_cli("--scan", "--pattern", "cad:*:lead:*").split()
    out = {}
    for k in keys:
        v = st.redis_cli("HGET", k, "v").strip()
        state = json.loads(stored.decode(st.redis_value("HGET", k, "s")))
        state["event_ids"] = sorted(state.get("event_ids", []))
        state.pop("event_ids_next", None)
        state.pop("dropped_task_id", None)
        out[k.split(":lead:")[1]] = (int(v), state)
    return out


# The data set of the fault tests: phase 1 = new leads and their "no", phase 2 = visits to a
# hot page after the "no" (one former_no_revisit alert per lead) and, for a third of them, a
# visit dated before the "no" (never an alert).
N = 150


def phase1():
    return [e for i in range(N) for e in (lead(i), no(i))]


def phase2():
    evs = [visit(i, by_email=(i % 2 == 0)) for i in range(N)]
    evs += [visit(i, day=0.5) for i in range(0, N, 3)]
    return evs


def alerts_by_id(reader):
    return {a["alert_id"]: a for a in reader.values("alerts.v1")}


def run_phases(st, feed, reader, worker_addrs, during=None):
    """Feeds both phases; `during(phase)` runs a fault in the middle of each phase."""
    for n, events in ((1, phase1()), (2, phase2())):
        half = len(events) // 2
        feed.send(events[:half])
        if during:
            during(n)
        feed.send(events[half:])
        if n == 1:
            wait_for(lambda: sum(1 for s in reader.values("lead-status.v1") if s["to"] == "nurture") >= N,
                     timeout=90, what="every lead in nurture")
    wait_for(lambda: len({a for a, v in alerts_by_id(reader).items() if v["reason"] == "former_no_revisit"}) >= N,
             timeout=90, what=f"{N} former_no_revisit alerts")
    wait_processed(st.bootstrap, timeout=90)
    reader.sync()


_clean = None


def clean_run():
    """Alert ids and final lead states of one uninterrupted worker over the data set."""
    global _clean
    if _clean is None:
        with Stack("clean") as st:
            st.start_redis()
            st.start_devbroker(partitions=4)
            w = st.start_worker()
            reader = TopicReader(st.bootstrap, ["alerts.v1", "lead-status.v1"])
            run_phases(st, Feed(st.bootstrap), reader, [w.http_addr])
            _clean = (set(alerts_by_id(reader)), lead_states(st))
            reader.close()
            assert st.stop(w) == 0
            st.check_sanitizers()
    return _clean


class WorkerScenarioTest(unittest.TestCase):
    def setUp(self):
        self.st = Stack("worker").__enter__()
        self.st.start_redis()
        self.st.start_devbroker(partitions=4)
        self.w = self.st.start_worker()
        self.feed = Feed(self.st.bootstrap)
        self.reader = TopicReader(self.st.bootstrap, ["alerts.v1", "lead-status.v1", "cadence-dlq.v1"])

    def tearDown(self):
        self.reader.close()
        code = self.st.stop(self.w)
        self.st.check_sanitizers()
        self.st.__exit__(None, None, None)
        self.assertEqual(code, 0, "the worker must exit 0 on SIGTERM")

    def applied(self, topic):
        return metric(self.w.http_addr, "cadence_worker_events_total", f'topic="{topic}",result="applied"')

    def wait_status(self, lead_id, to):
        wait_for(lambda: any(s["lead_id"] == lead_id and s["to"] == to
                             for s in self.reader.values("lead-status.v1")), what=f"{lead_id} → {to}")

    def test_a_former_no_revisiting_pricing_raises_one_call_now_alert(self):
        self.feed.send([lead(1), no(1)])
        self.wait_status("L-1", "nurture")
        self.feed.send([visit(1), visit(1, day=10.1), visit(1, day=10.2, url="https://example.com/demo")])
        wait_processed(self.st.bootstrap)
        self.reader.sync()
        alerts = self.reader.values("alerts.v1")
        self.assertEqual(len({a["alert_id"] for a in alerts}), 1, alerts)
        a = alerts[0]
        self.assertEqual(a["reason"], "former_no_revisit")
        self.assertEqual(a["rep_id"], "rep-1")
        self.assertEqual(a["trigger"]["event_id"], "visit-1-10.0")
        self.assertEqual(a["no"]["reason"], "no budget this year")
        self.assertEqual(a["no"]["at"][:10], ts(1)[:10])
        self.assertIn("Ann1", a["suggested_opener"])
        out = subprocess.run([os.path.join(os.environ["CADENCE_BIN_DIR"], "cadence"), "validate", "alerts.v1"],
                             input=json.dumps(a) + "\n", capture_output=True, text=True)
        self.assertEqual(out.stdout.strip(), "ok", out.stdout)

    def test_a_visit_from_before_the_no_raises_no_alert(self):
        self.feed.send([lead(2), no(2, day=3)])
        self.wait_status("L-2", "nurture")
        self.feed.send([visit(2, day=2.5), visit(2, day=2.9, by_email=True)])
        wait_processed(self.st.bootstrap)
        self.reader.sync()
        self.assertEqual(self.applied("site-visits.v1"), 2)
        self.assertEqual(self.reader.values("alerts.v1"), [])

    def test_the_same_event_delivered_twice_has_one_effect(self):
        self.feed.send([lead(3), no(3)])
        self.wait_status("L-3", "nurture")
        self.feed.send([no(3)])  # the dialer retried: same event_id
        wait_for(lambda: metric(self.w.http_addr, "cadence_worker_events_total",
                                'topic="call-outcomes.v1",result="duplicate"') >= 1, what="duplicate seen")
        version, state = lead_states(self.st)["L-3"]
        self.assertEqual(version, 2, "two distinct events, two applies")
        statuses = {s["event_id"] for s in self.reader.values("lead-status.v1") if s["lead_id"] == "L-3"}
        self.assertEqual(len(statuses), 2, f"enrolled + nurture, each once by id: {statuses}")
        timeline = self.st.redis_cli("LLEN", f"cad:{{s{self.shard('L-3')}}}:timeline:L-3").strip()
        self.assertEqual(timeline, "2")

    def shard(self, lead_id):
        h = 2166136261
        for ch in lead_id.encode():
            h = ((h ^ ch) * 16777619) & 0xFFFFFFFF
        return h % 16

    def test_an_outcome_before_its_lead_ends_in_the_same_state_as_in_order(self):
        self.feed.send([no(4)])  # the outcome arrives first
        wait_for(lambda: self.applied("call-outcomes.v1") >= 1, what="early outcome applied")
        self.feed.send([lead(4)])
        self.feed.send([lead(5), no(5)])
        self.wait_status("L-4", "nurture")
        self.wait_status("L-5", "nurture")
        states = lead_states(self.st)
        a, b = states["L-4"][1], states["L-5"][1]
        for s in (a, b):
            for k in ("lead_id", "event_ids", "first_name", "email", "rep_id"):
                s.pop(k, None)
        self.assertEqual(a, b)

    def test_a_hot_view_applied_before_an_earlier_no_is_judged_as_in_time_order(self):
        # Arrival order: lead, hot view, then the "no" dated before the view (its topic lagged).
        # L-9: the view is the lead's newest event when the "no" arrives (fresh): the same
        # former_no_revisit alert (same alert_id) as the time-order run, after the
        # hot_page_active the view raised on arrival (alerts are not recalled).
        # L-10: a later event moved the lead's clock past alerts.revisit_freshness_hours
        # (2 h) before the "no" arrived: the stale view raises nothing more.
        self.feed.send([lead(9), lead(10)])
        self.wait_status("L-9", "active")
        self.wait_status("L-10", "active")
        # L-10's later event is a dial that reached nobody (a visit to a page that is not hot
        # does not move the lead's clock: the worker does not even apply it).
        dial = {"event_id": "dial-10-3", "type": "call_outcome", "occurred_at": ts(3.0),
                "lead_id": "L-10", "rep_id": "rep-1", "channel": "call", "disposition": "no_answer"}
        self.feed.send([visit(9, day=1.05), visit(10, day=1.05), dial])
        wait_for(lambda: self.applied("site-visits.v1") >= 2, what="the visits applied")
        wait_processed(self.st.bootstrap)
        self.feed.send([no(9), no(10)])
        self.wait_status("L-9", "nurture")
        self.wait_status("L-10", "nurture")
        wait_processed(self.st.bootstrap)
        self.reader.sync()
        got = {(a["lead_id"], a["reason"]): a for a in self.reader.values("alerts.v1")}
        self.assertIn(("L-9", "hot_page_active"), got)
        self.assertIn(("L-9", "former_no_revisit"), got)
        self.assertEqual(got[("L-9", "former_no_revisit")]["trigger"]["event_id"], "visit-9-1.05")
        self.assertIn(("L-10", "hot_page_active"), got)
        self.assertNotIn(("L-10", "former_no_revisit"), got)
        # The time-order run (cadence simulate, the same engine) makes the same alert id.
        history = "\n".join(json.dumps(e) for e in (lead(9), no(9), visit(9, day=1.05))) + "\n"
        out = subprocess.run([os.path.join(os.environ["CADENCE_BIN_DIR"], "cadence"), "simulate",
                              "--playbook", os.path.join(SOURCE_DIR, "examples", "playbook.json")],
                             input=history, capture_output=True, text=True, check=True)
        in_order = [json.loads(line)["value"] for line in out.stdout.splitlines()
                    if json.loads(line)["topic"] == "alerts.v1"]
        self.assertEqual([a["reason"] for a in in_order], ["former_no_revisit"])
        self.assertEqual(got[("L-9", "former_no_revisit")]["alert_id"], in_order[0]["alert_id"])

    def test_a_leads_status_changes_are_emitted_in_the_order_they_happened(self):
        # The "no" is produced first (another topic), the lead a moment later: the lead's
        # statuses must still read new → active, then active → nurture.
        self.feed.send([no(6), lead(6)])
        self.wait_status("L-6", "nurture")
        moves = [(s["from"], s["to"]) for s in self.reader.values("lead-status.v1")
                 if s["lead_id"] == "L-6"]
        self.assertEqual(moves, [("new", "active"), ("active", "nurture")])

    def test_bad_input_goes_to_the_dlq_and_the_next_event_is_processed(self):
        bad_schema = dict(no(6), disposition="maybe")
        self.feed.send([], raw=[("call-outcomes.v1", b"L-6", b"{not json"),
                               ("call-outcomes.v1", b"L-6", json.dumps(bad_schema).encode()),
                               ("call-outcomes.v1", b"L-6", b"\xff\xfe\x00binary")])
        self.feed.send([lead(6), no(6)])
        self.wait_status("L-6", "nurture")
        wait_for(lambda: len(self.reader.values("cadence-dlq.v1")) >= 3, what="three dead letters")
        dlq = self.reader.values("cadence-dlq.v1")
        errors = [d["error"] for d in dlq]
        self.assertTrue(any(e.startswith("not JSON") for e in errors), errors)
        self.assertTrue(any(e.startswith("/disposition: not one of") for e in errors), errors)
        binary = [d for d in dlq if d["payload_encoding"] == "base64"]
        self.assertEqual(len(binary), 1)
        for d in dlq:
            self.assertEqual(d["source"]["topic"], "call-outcomes.v1")
            self.assertEqual(d["key"], "L-6")
        self.assertEqual(metric(self.w.http_addr, "cadence_worker_dlq_total"), 3)

    def test_an_unknown_time_zone_is_dead_lettered_with_its_reason(self):
        self.feed.send([lead(7, timezone="Mars/Olympus_Mons"), lead(8, timezone="Europe/London", country="GB")])
        self.wait_status("L-8", "active")
        wait_for(lambda: len(self.reader.values("cadence-dlq.v1")) >= 1, what="a dead letter")
        (d,) = self.reader.values("cadence-dlq.v1")
        self.assertEqual(d["error"], '/timezone: unknown IANA time zone "Mars/Olympus_Mons"')
        self.assertEqual(d["key"], "L-7")
        self.assertNotIn("L-7", lead_states(self.st), "never a silent default zone")

    def test_a_former_no_who_calls_back_is_worked_and_a_dialer_retry_counts_once(self):
        self.feed.send([lead(9), no(9)])
        self.wait_status("L-9", "nurture")
        cb = {"event_id": "cb-9", "type": "call_outcome", "occurred_at": ts(12), "lead_id": "L-9",
              "rep_id": "rep-0", "channel": "call", "disposition": "callback_received", "task_id": "dialer-9"}
        self.feed.send([cb, dict(cb, event_id="cb-9-retry", occurred_at=ts(12.001))])
        self.wait_status("L-9", "follow_up")
        wait_for(lambda: metric(self.w.http_addr, "cadence_worker_events_total",
                                'topic="call-outcomes.v1",result="duplicate"') >= 1, what="the retry")
        wait_processed(self.st.bootstrap)
        self.reader.sync()
        alerts = [a for a in self.reader.values("alerts.v1") if a["lead_id"] == "L-9"]
        self.assertEqual([a["reason"] for a in alerts], ["former_no_callback"], alerts)
        self.assertEqual(alerts[0]["no"]["reason"], "no budget this year")
        out = subprocess.run([os.path.join(os.environ["CADENCE_BIN_DIR"], "cadence"), "validate", "alerts.v1"],
                             input=json.dumps(alerts[0]) + "\n", capture_output=True, text=True)
        self.assertEqual(out.stdout.strip(), "ok", out.stdout)
        version, state = lead_states(self.st)["L-9"]
        self.assertEqual(version, 3, "lead, no, callback: the retry is not applied")


class WorkerFaultTest(unittest.TestCase):
    def check_against_clean_run(self, st, reader):
        alerts, states = clean_run()
        got = alerts_by_id(reader)
        self.assertEqual(set(got), alerts, "alert ids differ from a clean run")
        ids = [a["alert_id"] for a in reader.values("alerts.v1")]
        self.assertEqual(len(set(ids)), len(alerts))  # duplicates only by id, never new ids
        self.assertEqual(lead_states(st), states, "final Redis state differs from a clean run")

    def test_kill_9_of_a_worker_mid_stream_loses_and_doubles_nothing(self):
        with Stack("kill") as st:
            st.start_redis()
            st.start_devbroker(partitions=4)
            w = st.start_worker()
            reader = TopicReader(st.bootstrap, ["alerts.v1", "lead-status.v1"])
            workers = [w]

            def fault(phase):
                wait_for(lambda: metric(workers[-1].http_addr, "cadence_worker_events_total",
                                        'topic="leads.v1",result="applied"') > 0 or phase == 2,
                         what="some progress")
                workers[-1].send_signal(signal.SIGKILL)
                workers[-1].wait()
                workers.append(st.start_worker(name=f"worker-restarted-{phase}"))

            run_phases(st, Feed(st.bootstrap), reader, None, during=fault)
            self.check_against_clean_run(st, reader)
            reader.close()
            self.assertEqual(st.stop(workers[-1]), 0)
            st.check_sanitizers()

    def test_a_redis_restart_mid_stream_loses_and_doubles_nothing(self):
        with Stack("redis-restart") as st:
            redis = st.start_redis(persist=True)
            st.start_devbroker(partitions=4)
            w = st.start_worker()
            reader = TopicReader(st.bootstrap, ["alerts.v1", "lead-status.v1"])
            box = {"redis": redis}

            def fault(phase):
                box["redis"].send_signal(signal.SIGKILL)
                box["redis"].wait()
                wait_for(lambda: metric(w.http_addr, "cadence_redis_ready") == 0, what="worker sees Redis down")
                box["redis"] = st.start_redis(persist=True)

            run_phases(st, Feed(st.bootstrap), reader, None, during=fault)
            self.assertGreaterEqual(metric(w.http_addr, "cadence_redis_reconnects_total"), 2)
            self.check_against_clean_run(st, reader)
            reader.close()
            self.assertEqual(st.stop(w), 0)
            st.check_sanitizers()

    def test_small_overlapping_batches_reach_the_clean_run_state(self):
        """Batches of 5: the younger of two batches in the Redis stage holds events of leads the
        older one is applying (a lead's lead event and its "no" arrive on different topics);
        those wait, then see the older batch's writes — with the lead cache and without it."""
        for cache_mb in (256, 0):
            with self.subTest(lead_cache_mb=cache_mb), Stack(f"small-batches-{cache_mb}") as st:
                st.start_redis()
                st.start_devbroker(partitions=4)
                w = st.start_worker(CADENCE_BATCH_MAX=5, CADENCE_LEAD_CACHE_MB=cache_mb)
                reader = TopicReader(st.bootstrap, ["alerts.v1", "lead-status.v1"])
                run_phases(st, Feed(st.bootstrap), reader, [w.http_addr])
                self.check_against_clean_run(st, reader)
                waits = metric(w.http_addr, "cadence_worker_lead_waits_total")
                hits = metric(w.http_addr, "cadence_worker_lead_cache_total", 'result="hit"')
                print(f"cache {cache_mb} MB: {waits:.0f} events waited for the older batch, "
                      f"{hits:.0f} cache hits", file=sys.stderr)
                self.assertGreater(waits, 0, "no event ever waited for the older batch: overlap not exercised")
                if cache_mb:
                    self.assertGreater(hits, 0)
                else:
                    self.assertEqual(hits, 0)
                reader.close()
                self.assertEqual(st.stop(w), 0)
                st.check_sanitizers()

    @unittest.skipUnless(redis_cluster_wanted(), "needs a Redis Cluster (CADENCE_TEST_REDIS=cluster)")
    def test_a_redis_cluster_master_killed_mid_stream_loses_and_doubles_nothing(self):
        """kill -9 of a master serving some shards in the middle of the first phase; its replica
        is promoted (node timeout 1 s) and the worker carries on. Writes wait for the replica
        (CADENCE_REDIS_WAIT_REPLICAS=1), so no acknowledged apply is lost with the master."""
        with Stack("cluster-failover") as st:
            st.start_redis_cluster(fresh=True)  # its own: a node dies
            st.start_devbroker(partitions=4)
            w = st.start_worker(CADENCE_REDIS_WAIT_REPLICAS=1)
            reader = TopicReader(st.bootstrap, ["alerts.v1", "lead-status.v1"])
            killed = {}

            def fault(phase):
                if phase != 1:
                    return
                wait_for(lambda: metric(w.http_addr, "cadence_worker_events_total",
                                        'topic="leads.v1",result="applied"') > 0, what="some progress")
                shard = next(s for s in range(16) if st.redis_owner(f"cad:{{s{s}}}:due") != st.redis_port)
                port = st.redis_owner(f"cad:{{s{shard}}}:due")
                info = subprocess.run(["redis-cli", "-p", str(port), "INFO", "server"],
                                      capture_output=True, text=True, check=True).stdout
                pid = int(info.split("process_id:")[1].split()[0])
                os.kill(pid, signal.SIGKILL)
                killed["at"] = time.monotonic()
                killed["port"] = port
                wait_for(lambda: not st.redis_node_alive(port), what="the master gone")

            run_phases(st, Feed(st.bootstrap), reader, None, during=fault)
            print(f"every event applied and committed {time.monotonic() - killed['at']:.1f}s after "
                  f"the kill of master :{killed['port']}", file=sys.stderr)
            st._slot_owner.clear()
            self.check_against_clean_run(st, reader)
            reader.close()
            self.assertEqual(st.stop(w), 0)
            st.check_sanitizers()

    def test_three_workers_with_one_killed_lose_and_double_nothing(self):
        with Stack("three") as st:
            st.start_redis()
            st.start_devbroker(partitions=6)
            ws = [st.start_worker(name=f"worker-{i}") for i in range(3)]
            reader = TopicReader(st.bootstrap, ["alerts.v1", "lead-status.v1"])
            killed = {}

            def fault(phase):
                if phase == 1:
                    ws[0].send_signal(signal.SIGKILL)
                    ws[0].wait()
                    killed["at"] = time.monotonic()

            run_phases(st, Feed(st.bootstrap), reader, None, during=fault)
            print(f"recovered {time.monotonic() - killed['at']:.1f}s after the kill "
                  f"(session timeout 6 s)", file=sys.stderr)
            self.check_against_clean_run(st, reader)
            reader.close()
            for w in ws[1:]:
                self.assertEqual(st.stop(w), 0)
            st.check_sanitizers()


if __name__ == "__main__":
    unittest.main(verbosity=2)
