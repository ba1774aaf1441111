"""cadence-notifier end to end: alerts produced to alerts.v1 over the wire (devbroker), the real
notifier binary, and a real HTTP receiver on loopback (notify_receiver.py). Checks the Slack
message, the webhook signature, retries (500s, receiver down, 429 Retry-After), the rate limit,
the DLQ, route reloads, and kill -9 mid-stream (nothing lost, duplicates only with the same
Idempotency-Key)."""
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import Stack, binary, free_port, http_get, metric, wait_for, wait_processed  # noqa: E402
from notify_receiver import Receiver, alert, dumps, verify_signature  # noqa: E402

from confluent_kafka import Producer  # noqa: E402

SECRET = "s3cret-for-tests"
CONSOLE = "https://console.example.com/cadence/"


class NotifierStack(Stack):
    def routes(self, text):
        path = os.path.join(self.dir, "routes")
        with open(path, "w") as f:
            f.write(text)
        return path

    def start_notifier(self, routes_text, name="notifier", wait=True, **extra):
        settings = {"CADENCE_NOTIFY_ROUTES": self.routes(routes_text), "CADENCE_CONSOLE_URL": CONSOLE,
                    "CADENCE_SESSION_TIMEOUT_MS": 6000, "CADENCE_NOTIFY_RETRY_BASE_MS": 100,
                    "CADENCE_NOTIFY_RETRY_MAX_MS": 800, "CADENCE_NOTIFY_SLACK_INTERVAL_MS": 0}
        settings.update(extra)
        env = self.env(**settings)
        p = self.spawn(name, [binary("cadence-notifier")], env=env)
        p.http_addr = env["CADENCE_HTTP_ADDR"]
        if wait:
            wait_for(lambda: p.poll() is not None or http_get(p.http_addr, "/readyz")[0] == 200,
                     timeout=30, what=f"{name} ready")
            if p.poll() is not None:
                raise AssertionError(f"{name} exited: {self.log_of(p)[-2000:]}")
        return p

    def produce(self, alerts):
        if not hasattr(self, "producer"):
            self.producer = Producer({"bootstrap.servers": self.bootstrap, "enable.idempotence": True,
                                      "linger.ms": 1})
        for a in alerts:
            self.producer.produce("alerts.v1", dumps(a).encode(), key=a["lead_id"].encode())
        assert self.producer.flush(30) == 0

    def committed(self, timeout=60):
        wait_processed(self.bootstrap, group="cadence-notifier", topics=("alerts.v1",), timeout=timeout)


def keys(reqs):
    return [r["headers"].get("Idempotency-Key") for r in reqs]


class NotifierTest(unittest.TestCase):
    def setUp(self):
        self.rx = Receiver()
        self.st = NotifierStack("cadence-notifier")
        self.st.__enter__()
        self.devbroker = self.st.start_devbroker(partitions=2)  # None with real Kafka

    def tearDown(self):
        failed = any(e for _, e in (self._outcome.errors if hasattr(self._outcome, "errors") else []))
        self.st.stop_all()
        self.st.check_sanitizers()
        self.st.__exit__(AssertionError if failed else None, None, None)
        self.rx.stop()

    def stop_clean(self, p):
        self.assertEqual(self.st.stop(p), 0, self.st.log_of(p)[-2000:])

    def test_slack_message_shape_and_update(self):
        p = self.st.start_notifier(f"# reps\nrep-1 slack {self.rx.url('/slack/rep1')}\n"
                                   f"rep-2 slack {self.rx.url('/slack/rep2')}\n")
        self.st.produce([alert(1)])
        wait_for(lambda: self.rx.got("/slack/rep1"), what="the Slack message")
        msg = json.loads(self.rx.got("/slack/rep1")[0]["body"])
        self.assertIn("Ann Lee", msg["text"])
        blocks = msg["blocks"]
        self.assertEqual([b["type"] for b in blocks],
                         ["header", "section", "section", "section", "actions", "context"])
        self.assertEqual(blocks[0]["text"]["text"], "Call now: Ann Lee · Acme & Sons")
        who, local, phone = (f["text"] for f in blocks[1]["fields"])
        self.assertIn("Acme &amp; Sons", who)  # mrkdwn escaped
        self.assertIn("America/New_York", local)
        self.assertRegex(local, r"(AM|PM)")
        self.assertEqual(phone, "*Phone*\n<tel:+15550102000|+1 (555) 010-2000>")
        why = blocks[2]["text"]["text"]
        self.assertIn("Former “no” is back on pricing", why)
        self.assertIn("Said no on 3 Nov 2026: “no budget this year”", why)
        self.assertIn("you looked at pricing again &lt;3", blocks[3]["text"]["text"])
        button = blocks[4]["elements"][0]
        self.assertEqual(button["url"], CONSOLE + "#lead=L-1")
        self.assertEqual(self.rx.got("/slack/rep2"), [])  # routed by rep
        # An update of the same alert: marked as such, to the same destination.
        self.st.produce([alert(1, revision=2, suggested_opener="Ann, the new plan is live")])
        wait_for(lambda: len(self.rx.got("/slack/rep1")) == 2, what="the update")
        upd = json.loads(self.rx.got("/slack/rep1")[1]["body"])
        self.assertTrue(upd["blocks"][0]["text"]["text"].startswith("Update: call Ann Lee"))
        self.assertIn("revision 2", upd["blocks"][-1]["elements"][0]["text"])
        self.assertIn("the new plan is live", upd["blocks"][3]["text"]["text"])
        self.st.committed()
        self.stop_clean(p)

    def test_webhook_signature_and_key(self):
        p = self.st.start_notifier(f"* webhook {self.rx.url('/hook')} {SECRET}\n")
        a1, a2 = alert(1), alert(2, rep="rep-9", revision=3)
        self.st.produce([a1, a2])
        wait_for(lambda: len(self.rx.got("/hook")) == 2, what="two webhook deliveries")
        by_id = {json.loads(r["body"])["alert_id"]: r for r in self.rx.got("/hook")}
        for a, key in ((a1, "A-1"), (a2, "A-2:3")):
            r = by_id[a["alert_id"]]
            self.assertEqual(json.loads(r["body"]), a)  # the alert JSON as body
            self.assertEqual(r["headers"]["Idempotency-Key"], key)
            self.assertEqual(r["headers"]["Content-Type"], "application/json")
            self.assertTrue(verify_signature(SECRET, r["headers"]["X-Cadence-Signature"], r["body"]))
            self.assertFalse(verify_signature("wrong", r["headers"]["X-Cadence-Signature"], r["body"]))
            self.assertFalse(verify_signature(SECRET, r["headers"]["X-Cadence-Signature"], r["body"] + b" "))
        self.st.committed()
        self.stop_clean(p)

    def test_500_twice_then_200_is_one_accepted_delivery(self):
        self.rx.script("/hook", [(500, {}), (500, {})])
        p = self.st.start_notifier(f"rep-1 webhook {self.rx.url('/hook')} {SECRET}\n")
        self.st.produce([alert(7)])
        wait_for(lambda: self.rx.got("/hook", 200), what="the accepted delivery")
        self.st.committed()
        reqs = self.rx.got("/hook")
        self.assertEqual([r["status"] for r in reqs], [500, 500, 200])
        self.assertEqual(set(keys(reqs)), {"A-7"})
        self.assertEqual([r["headers"]["X-Cadence-Delivery-Attempt"] for r in reqs], ["1", "2", "3"])
        self.assertEqual(metric(p.http_addr, "cadence_notifier_requests_total",
                                'kind="webhook",outcome="retry"'), 2)
        self.assertEqual(metric(p.http_addr, "cadence_notifier_alerts_total", 'result="delivered"'), 1)
        time.sleep(0.5)  # nothing more arrives after the 200 (checked below)
        self.assertEqual(len(self.rx.got("/hook")), 3)
        self.stop_clean(p)

    def test_receiver_down_then_back_delivers_everything(self):
        p = self.st.start_notifier(f"* webhook {self.rx.url('/hook')} {SECRET}\n")
        self.rx.stop()
        alerts = [alert(i, rep=f"rep-{i % 4}") for i in range(30)]
        self.st.produce(alerts)
        wait_for(lambda: metric(p.http_addr, "cadence_notifier_requests_total",
                                'kind="webhook",outcome="retry"') >= 3, what="failed attempts")
        self.assertEqual(metric(p.http_addr, "cadence_notifier_pending"), 30)
        time.sleep(1.5)  # stays down a while: attempts keep failing, nothing is dropped
        self.rx.start()
        wait_for(lambda: {json.loads(r["body"])["alert_id"] for r in self.rx.got("/hook", 200)}
                 == {a["alert_id"] for a in alerts}, timeout=60, what="every alert delivered")
        self.st.committed()
        self.assertEqual(metric(p.http_addr, "cadence_notifier_pending"), 0)
        self.stop_clean(p)

    def test_429_retry_after_is_honoured(self):
        self.rx.script("/hook", [(429, {"Retry-After": "2"})])
        p = self.st.start_notifier(f"rep-1 webhook {self.rx.url('/hook')} {SECRET}\n")
        self.st.produce([alert(3)])
        wait_for(lambda: self.rx.got("/hook", 200), timeout=30, what="the delivery after the 429")
        first, second = self.rx.got("/hook")
        gap = second["at"] - first["at"]
        self.assertGreaterEqual(gap, 2.0)
        self.assertLess(gap, 3.5)  # the backoff alone would have retried after 50-100 ms
        self.stop_clean(p)

    def test_rate_limit_queues_instead_of_dropping(self):
        p = self.st.start_notifier(f"* slack {self.rx.url('/slack')}\n",
                                   CADENCE_NOTIFY_SLACK_INTERVAL_MS=300)
        self.st.produce([alert(i) for i in range(6)])
        wait_for(lambda: len(self.rx.got("/slack")) == 6, timeout=30, what="six Slack messages")
        at = [r["at"] for r in self.rx.got("/slack")]
        gaps = [b - a for a, b in zip(at, at[1:])]
        # Sends are >= 300 ms apart; arrival times add the receiver's scheduling jitter, so each
        # gap is checked loosely and the whole span tightly (without the limit all six arrive
        # within a few ms).
        self.assertGreaterEqual(min(gaps), 0.2, gaps)
        self.assertGreaterEqual(at[-1] - at[0], 5 * 0.3 - 0.05, gaps)
        self.st.committed()
        self.stop_clean(p)

    def test_retry_budget_and_refusal_go_to_dlq(self):
        self.rx.script("/down", [(503, {})] * 1000)
        self.rx.script("/bad", [(400, {})])
        p = self.st.start_notifier(f"rep-1 webhook {self.rx.url('/down')} {SECRET}\n"
                                   f"rep-2 webhook {self.rx.url('/bad')} {SECRET}\n",
                                   CADENCE_NOTIFY_RETRY_BUDGET_S=1)
        self.st.produce([alert(1), alert(2, rep="rep-2")])
        self.st.committed(timeout=30)
        dlq = [json.loads(m["value"]) for m in self.st.kcat_consume_all("cadence-dlq.v1")]
        by_key = {d["key"]: d for d in dlq}
        self.assertEqual(set(by_key), {"L-1", "L-2"})
        down, bad = by_key["L-1"], by_key["L-2"]
        self.assertIn(self.rx.url("/down"), down["error"])
        self.assertIn("gave up after", down["error"])
        self.assertIn("HTTP 503", down["error"])
        self.assertIn(self.rx.url("/bad"), bad["error"])
        self.assertIn("HTTP 400", bad["error"])
        self.assertEqual(len(self.rx.got("/bad")), 1)  # a refusal is not retried
        # An unreadable message on alerts.v1 (here an id that would break a header) is
        # dead-lettered too, with the reason.
        self.st.produce([alert(3, alert_id="A-3\r\nX-Evil: 1")])
        wait_for(lambda: len(self.st.kcat_consume_all("cadence-dlq.v1")) == 3, what="third dead letter")
        self.st.committed(timeout=30)
        dlq = [json.loads(m["value"]) for m in self.st.kcat_consume_all("cadence-dlq.v1")]
        evil = [d for d in dlq if d["key"] == "L-3"][0]
        self.assertIn("must be ids", evil["error"])
        self.assertEqual(json.loads(down["payload"])["alert_id"], "A-1")
        self.assertEqual(down["source"]["topic"], "alerts.v1")
        # The dead letter follows the DLQ contract.
        import jsonschema
        from harness import SOURCE_DIR
        with open(os.path.join(SOURCE_DIR, "schemas", "cadence-dlq.v1.json")) as f:
            schema = json.load(f)
        for d in dlq:
            jsonschema.validate(d, schema)
        self.stop_clean(p)

    def test_dead_letter_kafka_does_not_acknowledge_is_sent_again_before_the_commit(self):
        if self.devbroker is None:
            self.skipTest("takes the devbroker down (SIGUSR1)")
        # Dead letters time out after 1 s while the broker is down, so the notifier's retry
        # (kafka/redeliver.h) runs; the alert stays unfinished (its offset is not stored) until
        # Kafka has the dead letter.
        conf = os.path.join(self.st.dir, "kafka.conf")
        with open(conf, "w") as f:
            f.write("message.timeout.ms=1000\n")
        self.rx.script("/bad", [(400, {})])
        self.rx.delay = 3.0  # the 400 comes after the broker is down
        p = self.st.start_notifier(f"rep-1 webhook {self.rx.url('/bad')} {SECRET}\n",
                                   CADENCE_KAFKA_CONFIG=conf)
        self.st.produce([alert(1)])
        wait_for(lambda: metric(p.http_addr, "cadence_notifier_pending") == 1, what="alert read")
        self.devbroker.send_signal(signal.SIGUSR1)
        wait_for(lambda: "devbroker brokers down" in self.st.log_of(self.devbroker), what="broker down")
        self.assertEqual(self.rx.got("/bad"), [], "the receiver answered before the broker went down")
        wait_for(lambda: self.st.log_of(p).count("dead letter not acknowledged; trying again") >= 2,
                 timeout=30, what="the dead letter sent again")
        self.assertEqual(len(self.rx.got("/bad")), 1)
        self.assertEqual(metric(p.http_addr, "cadence_notifier_dlq_total"), 0)
        self.assertEqual(metric(p.http_addr, "cadence_notifier_pending"), 1)
        self.rx.delay = 0
        self.devbroker.send_signal(signal.SIGUSR2)
        wait_for(lambda: "request errors injected" in self.st.log_of(self.devbroker), what="broker up")

        def dead_letters():
            try:
                return self.st.kcat_consume_all("cadence-dlq.v1")
            except subprocess.CalledProcessError:  # the broker is still refusing kcat
                return []
        wait_for(dead_letters, timeout=60, what="the dead letter")
        self.st.committed(timeout=60)
        dlq = [json.loads(m["value"]) for m in self.st.kcat_consume_all("cadence-dlq.v1")]
        self.assertTrue(dlq)
        self.assertEqual({d["key"] for d in dlq}, {"L-1"})
        self.assertIn("HTTP 400", dlq[0]["error"])
        wait_for(lambda: metric(p.http_addr, "cadence_notifier_pending") == 0, what="alert finished")
        self.assertGreaterEqual(metric(p.http_addr, "cadence_notifier_dlq_total"), 1)
        self.stop_clean(p)

    def test_bad_routes_stop_start_up_and_keep_old_on_reload(self):
        bad = f"rep-1 slack {self.rx.url('/a')}\nrep-2 email someone@example.com\n"
        p = self.st.start_notifier(bad, wait=False)
        self.assertEqual(p.wait(timeout=20), 2)
        log = self.st.log_of(p)
        self.assertIn("routes:2:", log)
        self.assertIn("'slack' or 'webhook'", log)
        p = self.st.start_notifier(f"rep-1 webhook {self.rx.url('/old')} {SECRET}\n")
        routes = os.path.join(self.st.dir, "routes")
        with open(routes, "w") as f:
            f.write(f"rep-1 webhook {self.rx.url('/new')}\n")  # no secret: refused
        p.send_signal(signal.SIGHUP)
        wait_for(lambda: metric(p.http_addr, "cadence_notifier_route_reloads_total",
                                'result="refused"') == 1, what="the refused reload")
        self.assertIn("routes:1:", self.st.log_of(p))
        self.st.produce([alert(1)])
        wait_for(lambda: self.rx.got("/old"), what="delivery on the old routes")
        with open(routes, "w") as f:
            f.write(f"rep-1 webhook {self.rx.url('/new')} {SECRET}\n")
        p.send_signal(signal.SIGHUP)
        wait_for(lambda: metric(p.http_addr, "cadence_notifier_route_reloads_total",
                                'result="ok"') == 1, what="the reload")
        self.st.produce([alert(2)])
        wait_for(lambda: self.rx.got("/new"), what="delivery on the new routes")
        self.assertEqual(len(self.rx.got("/old")), 1)
        self.assertEqual(http_get(p.http_addr, "/livez")[0], 200)
        self.stop_clean(p)

    def test_two_notifiers_share_the_partitions(self):
        routes = f"* webhook {self.rx.url('/hook')} {SECRET}\n"
        n1 = self.st.start_notifier(routes, name="n1")
        wait_for(lambda: '"partitions assigned"' in self.st.log_of(n1), what="n1 assigned")
        n2 = self.st.start_notifier(routes, name="n2")
        wait_for(lambda: '"partitions assigned"' in self.st.log_of(n2)
                 and '"partitions revoked"' in self.st.log_of(n1), timeout=30,
                 what="the partitions shared (cooperative rebalance)")
        alerts = [alert(i, rep=f"rep-{i % 7}") for i in range(100)]
        self.st.produce(alerts)
        want = {a["alert_id"] for a in alerts}
        wait_for(lambda: {json.loads(r["body"])["alert_id"] for r in self.rx.got("/hook")} == want,
                 timeout=60, what="every alert delivered")
        self.st.committed()
        d1 = metric(n1.http_addr, "cadence_notifier_alerts_total", 'result="delivered"')
        d2 = metric(n2.http_addr, "cadence_notifier_alerts_total", 'result="delivered"')
        self.assertGreater(d1, 0)
        self.assertGreater(d2, 0)
        self.assertEqual(d1 + d2, 100, "each alert delivered by one notifier, once")
        self.assertEqual(len(self.rx.got("/hook")), 100)
        self.stop_clean(n2)
        self.stop_clean(n1)

    def test_kill9_mid_stream_loses_nothing(self):
        self.rx.delay = 0.01  # a slow receiver: the kill lands with deliveries in flight
        routes = f"* webhook {self.rx.url('/hook')} {SECRET}\n"
        p = self.st.start_notifier(routes, CADENCE_NOTIFY_CONCURRENCY=2)
        alerts = [alert(i, rep=f"rep-{i % 5}") for i in range(300)]
        self.st.produce(alerts)
        wait_for(lambda: len(self.rx.got("/hook")) >= 60, timeout=30, what="some deliveries")
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        before = len(self.rx.got("/hook"))
        self.assertLess(before, 300, "the kill came too late to test anything")
        p2 = self.st.start_notifier(routes, name="notifier2", CADENCE_NOTIFY_CONCURRENCY=2)
        want = {a["alert_id"] for a in alerts}
        wait_for(lambda: {json.loads(r["body"])["alert_id"] for r in self.rx.got("/hook")} == want,
                 timeout=90, what="every alert delivered after the restart")
        self.st.committed(timeout=60)
        reqs = self.rx.got("/hook")
        for r in reqs:  # a duplicate carries the same key (and a valid signature)
            self.assertEqual(r["headers"]["Idempotency-Key"], json.loads(r["body"])["alert_id"])
            self.assertTrue(verify_signature(SECRET, r["headers"]["X-Cadence-Signature"], r["body"]))
        dups = len(reqs) - len(want)
        sys.stderr.write(f"kill -9: {before} delivered before the kill, {dups} duplicates\n")
        self.stop_clean(p2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
