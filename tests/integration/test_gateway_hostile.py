"""cadence-gateway's contract edges as an attacker probes them: revocation ends open streams at
once, a failed token re-read is loud in /healthz, Last-Event-ID values that are not stream ids
are ignored and one client's cursor cannot starve another client of the same rep, streams per
token are capped (429), webhook secrets cannot sign our own routes, a signed request cannot be
replayed, Segment batches are capped, and no Redis text reaches a response."""
import json
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from gateway_harness import (SECRETS, GatewayStack, SSEReader, add_token,  # noqa: E402
                             cadence_signature, segment_signature)
from harness import SOURCE_DIR, wait_for  # noqa: E402


def alert(alert_id, rep="rep.ana", lead_id="L-1001"):
    with open(os.path.join(SOURCE_DIR, "tests/fixtures/valid/alerts.v1/former_no_revisit.json")) as f:
        a = json.load(f)
    a.update(event_id=alert_id, alert_id=alert_id, rep_id=rep, lead_id=lead_id)
    return a


def lead(event_id, lead_id):
    return {"event_id": event_id, "type": "lead", "occurred_at": "2026-11-02T14:00:00Z",
            "lead_id": lead_id, "rep_id": "rep.ana", "lead_type": "cold", "potential": 60}


class GatewayHostileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.st = GatewayStack("gateway-hostile")
        try:
            cls.st.start_gateway(extra_env={"CADENCE_SSE_MAX_PER_TOKEN": 2})
        except BaseException:
            cls.st.dump_logs()
            cls.st.__exit__(None, None, None)
            raise
        cls.t = cls.st.tokens

    @classmethod
    def tearDownClass(cls):
        st = cls.st
        try:
            code = st.stop(st.gateway)
            st.check_sanitizers()
            assert code == 0, f"gateway exit status {code}"
        finally:
            st.__exit__(None, None, None)

    def healthz(self):
        return self.st.request("GET", "/healthz")

    def test_revoked_token_ends_its_streams_and_a_failed_reread_is_loud(self):
        with open(self.st.tokens_file) as f:
            original = f.read()
        dan = add_token(self.st.tokens_file, "rep", "rep.dan")
        self.st.gateway.send_signal(signal.SIGHUP)
        wait_for(lambda: self.st.request("GET", "/v1/me", token=dan)[0] == 200, what="dan's token")
        stream = SSEReader(self.st.gw_port, dan)
        self.assertEqual(stream.status, 200)
        ana = SSEReader(self.st.gw_port, self.t["ana"])
        try:
            with open(self.st.tokens_file, "w") as f:
                f.write(original)  # dan's line removed
            self.st.gateway.send_signal(signal.SIGHUP)
            with self.assertRaises(EOFError):
                stream.events(1, timeout=10)
            self.assertEqual(self.st.request("GET", "/v1/me", token=dan)[0], 401)
            # Others' streams go on.
            self.st.kcat_produce("alerts.v1", [("L-1001", alert("alert:hostile:revoke"))])
            self.assertEqual(json.loads(ana.events(1)[0]["data"])["alert_id"], "alert:hostile:revoke")
        finally:
            stream.close()
            ana.close()
        # A broken file: the previous tokens stay, and /healthz says so until it is fixed.
        with open(self.st.tokens_file, "w") as f:
            f.write(original + "not-a-hash rep\n")
        self.st.gateway.send_signal(signal.SIGHUP)
        wait_for(lambda: self.healthz()[0] == 503, what="/healthz 503 after a failed re-read")
        body = self.healthz()[1]
        self.assertIn("tokens: re-read failed", body["reason"])
        self.assertIn("TOKENS RE-READ FAILED", self.st.log_of(self.st.gateway))
        self.assertEqual(self.st.request("GET", "/v1/me", token=self.t["ana"])[0], 200)
        with open(self.st.tokens_file, "w") as f:
            f.write(original)
        self.st.gateway.send_signal(signal.SIGHUP)
        wait_for(lambda: self.healthz()[0] == 200, what="healthy after a good re-read")

    def test_bad_last_event_ids_are_ignored_and_cannot_starve_the_rep(self):
        self.st.kcat_produce("alerts.v1", [("L-3003", alert("alert:hostile:old", rep="rep.eve",
                                                              lead_id="L-3003"))])
        wait_for(lambda: self.st.redis_cli("XLEN", "cad:{r:rep.eve}:alerts").strip() == "1",
                 what="eve's first alert")
        mgr = self.t["manager"]
        # Not stream ids: treated as absent, so the backlog comes.
        for bad in ["-1", "18446744073709551616-0", "abc", "1-2-3", "+5", " 5"]:
            with self.subTest(last_event_id=bad):
                r = SSEReader(self.st.gw_port, mgr, last_event_id=bad, query="?rep=rep.eve")
                try:
                    self.assertEqual(r.status, 200)
                    self.assertEqual(json.loads(r.events(1)[0]["data"])["alert_id"], "alert:hostile:old")
                finally:
                    r.close()
        # A cursor ahead of the stream (but near the clock) from the rep's first client...
        ahead = f"{int(time.time() * 1000) + 30000}-0"
        first = SSEReader(self.st.gw_port, mgr, last_event_id=ahead, query="?rep=rep.eve")
        second = SSEReader(self.st.gw_port, mgr, query="?rep=rep.eve")
        try:
            self.assertEqual(json.loads(second.events(1)[0]["data"])["alert_id"], "alert:hostile:old")
            # ...does not decide what the others get: a new alert reaches the second client now.
            self.st.kcat_produce("alerts.v1", [("L-3003", alert("alert:hostile:new", rep="rep.eve",
                                                                  lead_id="L-3003"))])
            self.assertEqual(json.loads(second.events(1, timeout=10)[0]["data"])["alert_id"],
                             "alert:hostile:new")
        finally:
            first.close()
            second.close()

    def test_streams_per_token_are_capped(self):
        a1 = SSEReader(self.st.gw_port, self.t["bob"])
        a2 = SSEReader(self.st.gw_port, self.t["bob"])
        try:
            self.assertEqual((a1.status, a2.status), (200, 200))
            a3 = SSEReader(self.st.gw_port, self.t["bob"])
            self.assertEqual(a3.status, 429)
            a3.close()
            status, body, _ = self.st.request("GET", "/v1/alerts/stream", token=self.t["bob"])
            self.assertEqual(status, 429)
            self.assertIn("CADENCE_SSE_MAX_PER_TOKEN", body["error"])
        finally:
            a1.close()
            a2.close()

        def reopened():
            r = SSEReader(self.st.gw_port, self.t["bob"])
            r.close()
            return r.status == 200
        wait_for(reopened, what="a stream again once the others closed")

    def test_webhook_secrets_cannot_sign_our_routes_and_signatures_cannot_be_replayed(self):
        body = json.dumps(lead("gw-host-1", "L-host-1")).encode()
        for source in ("segment", "mautic"):
            h = {"X-Cadence-Source": source,
                 "X-Cadence-Signature": cadence_signature(SECRETS[source], body)}
            self.assertEqual(self.st.request("POST", "/v1/events/leads", body, headers=h)[0], 401)
        self.assertGreaterEqual(self.st.metric("cadence_gateway_auth_failures_total",
                                               'kind="signature_wrong_source"'), 2)
        ok = {"X-Cadence-Source": "crm", "X-Cadence-Signature": cadence_signature(SECRETS["crm"], body)}
        self.assertEqual(self.st.request("POST", "/v1/events/leads", body, headers=ok)[0], 202)
        self.assertEqual(self.st.request("POST", "/v1/events/leads", body, headers=ok)[0], 401)
        self.assertGreaterEqual(self.st.metric("cadence_gateway_auth_failures_total",
                                               'kind="signature_replayed"'), 1)

    def test_a_batch_with_an_event_kafka_would_refuse_is_413_and_nothing_is_produced(self):
        small = lead("gw-host-big-0", "L-big-0")
        big = dict(lead("gw-host-big-1", "L-big-1"), pad="x" * 999_500)  # > message.max.bytes
        status, resp, _ = self.st.request("POST", "/v1/events/leads", [small, big],
                                          token=self.t["ingest"])
        self.assertEqual(status, 413, resp)
        self.assertEqual([e["index"] for e in resp["errors"]], [1])
        self.assertIn("message.max.bytes", resp["errors"][0]["message"])
        # A later request goes through; the refused batch's first event never did.
        marker = lead("gw-host-big-marker", "L-big-2")
        self.assertEqual(self.st.request("POST", "/v1/events/leads", marker,
                                         token=self.t["ingest"])[0], 202)

        def ids():
            got = {json.loads(m["value"]).get("event_id") for m in self.st.kcat_consume_all("leads.v1")}
            return got if "gw-host-big-marker" in got else None
        self.assertNotIn("gw-host-big-0", wait_for(ids, timeout=20, what="the marker on leads.v1"))

    def test_segment_batches_are_capped(self):
        calls = [{"type": "track", "messageId": f"m{i}"} for i in range(1001)]
        body = json.dumps({"batch": calls}).encode()
        h = {"X-Signature": segment_signature(SECRETS["segment"], body)}
        status, resp, _ = self.st.request("POST", "/v1/webhooks/segment", body, headers=h)
        self.assertEqual(status, 400, resp)
        self.assertIn("1000", resp["errors"][0]["message"])

    def test_z_redis_down_says_so_without_driver_text(self):
        redis = next(p for name, p, _ in self.st.procs if name == "redis")
        redis.kill()
        redis.wait()
        wait_for(lambda: self.healthz()[0] == 503, what="/healthz 503 with Redis down")
        self.assertEqual(self.healthz()[1]["reason"], "redis: down")
        status, body, _ = self.st.request("GET", "/v1/queue", token=self.t["ana"])
        self.assertEqual(status, 503)
        self.assertEqual(body, {"error": "redis unavailable"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
