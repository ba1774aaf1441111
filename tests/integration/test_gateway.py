"""cadence-gateway over real HTTP, with redis-server and the devbroker: ingest round trips
through Kafka, every status code of the contract, HMAC signatures and the replay window,
token isolation between two reps, the alert fan-in and SSE resume with Last-Event-ID, SIGHUP."""
import copy
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from gateway_harness import (SECRETS, GatewayStack, SSEReader, add_token,  # noqa: E402
                             cadence_signature, mautic_signature, segment_signature)
from harness import SOURCE_DIR, wait_for  # noqa: E402
import stored  # noqa: E402

MAX_BODY = 65536


def fixture(topic, name):
    with open(os.path.join(SOURCE_DIR, "tests/fixtures/valid", topic, name)) as f:
        return json.load(f)


def lead(event_id, lead_id, rep="rep.ana", **kw):
    ev = {"event_id": event_id, "type": "lead", "occurred_at": "2026-11-02T14:00:00Z",
          "lead_id": lead_id, "rep_id": rep, "lead_type": "cold", "potential": 60}
    ev.update(kw)
    return ev


class GatewayTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.st = GatewayStack("gateway")
        try:
            cls.st.start_gateway(extra_env={"CADENCE_MAX_BODY_BYTES": MAX_BODY})
        except BaseException:
            cls.st.dump_logs()
            cls.st.__exit__(None, None, None)
            raise
        cls.t = cls.st.tokens

    @classmethod
    def tearDownClass(cls):
        st = cls.st
        try:
            # Stopping with a stream open ends it cleanly (no leak, exit 0).
            listener = SSEReader(st.gw_port, cls.t["ana"])
            code = st.stop(st.gateway)
            listener.close()
            st.check_sanitizers()
            assert code == 0, f"gateway exit status {code}"
        finally:
            st.__exit__(None, None, None)

    def consume(self, topic, want_ids, timeout=20):
        """Messages of `topic` whose event_id is in want_ids, once all are there."""
        def got():
            msgs = [m for m in self.st.kcat_consume_all(topic)
                    if json.loads(m["value"]).get("event_id") in want_ids]
            return msgs if len(msgs) >= len(want_ids) else None
        return wait_for(got, timeout=timeout, what=f"{want_ids} on {topic}")

    # ---- ingest -------------------------------------------------------------------------

    def test_ingest_round_trip_through_kafka(self):
        evs = [lead("gw-rt-1", "L-rt-1"), lead("gw-rt-2", "L-rt-2", first_name="Zoë")]
        status, body, _ = self.st.request("POST", "/v1/events/leads", evs, token=self.t["ingest"])
        self.assertEqual(status, 202, body)
        self.assertEqual(body["accepted"], ["gw-rt-1", "gw-rt-2"])
        msgs = self.consume("leads.v1", {"gw-rt-1", "gw-rt-2"})
        by_id = {json.loads(m["value"])["event_id"]: m for m in msgs}
        for ev in evs:
            m = by_id[ev["event_id"]]
            self.assertEqual(m["key"], ev["lead_id"], "Kafka key is the lead id")
            self.assertEqual(json.loads(m["value"]), ev, "the event arrives unchanged")
        # One event (not an array) and an email-only visit keyed by its email.
        visit = fixture("site-visits.v1", "by_email_only.json")
        visit["event_id"] = "gw-rt-visit"
        status, body, _ = self.st.request("POST", "/v1/events/site-visits", visit,
                                          token=self.t["ingest"])
        self.assertEqual((status, body), (202, {"accepted": ["gw-rt-visit"]}))
        (m,) = self.consume("site-visits.v1", {"gw-rt-visit"})
        self.assertEqual(m["key"], visit["email"])
        outcome = fixture("call-outcomes.v1", "not_interested.json")
        outcome["event_id"] = "gw-rt-outcome"
        status, body, _ = self.st.request("POST", "/v1/events/call-outcomes", outcome,
                                          token=self.t["ingest"])
        self.assertEqual(status, 202, body)
        self.consume("call-outcomes.v1", {"gw-rt-outcome"})
        self.assertGreater(self.st.metric("cadence_gateway_ingest_seconds_count"), 0)

    def test_invalid_event_is_400_with_field_errors_and_nothing_is_produced(self):
        good = lead("gw-bad-1", "L-bad-1")
        bad = lead("gw-bad-2", "L-bad-2", potential=140)
        status, body, _ = self.st.request("POST", "/v1/events/leads", [good, bad],
                                          token=self.t["ingest"])
        self.assertEqual(status, 400, body)
        (err,) = body["errors"]
        self.assertEqual(err["index"], 1)
        self.assertEqual(err["path"], "/potential")
        self.assertIn("100", err["message"])
        status, body, _ = self.st.request("POST", "/v1/events/leads", "{not json",
                                          token=self.t["ingest"])
        self.assertEqual(status, 400)
        self.assertIn("not JSON", body["errors"][0]["message"])
        # A later valid request is seen, the refused ones never were.
        self.st.request("POST", "/v1/events/leads", lead("gw-bad-3", "L-bad-3"), token=self.t["ingest"])
        self.consume("leads.v1", {"gw-bad-3"})
        ids = {json.loads(m["value"])["event_id"] for m in self.st.kcat_consume_all("leads.v1")}
        self.assertNotIn("gw-bad-1", ids)
        self.assertNotIn("gw-bad-2", ids)

    def test_credentials_401_and_403(self):
        ev = lead("gw-auth-1", "L-auth-1")
        before = self.st.metric("cadence_gateway_auth_failures_total")
        self.assertEqual(self.st.request("POST", "/v1/events/leads", ev)[0], 401)
        self.assertEqual(self.st.request("POST", "/v1/events/leads", ev, token="nope")[0], 401)
        self.assertEqual(self.st.request("POST", "/v1/events/leads", ev, token=self.t["ana"])[0], 403)
        self.assertEqual(self.st.request("GET", "/v1/queue")[0], 401)
        self.assertEqual(self.st.request("GET", "/v1/stats?rep=rep.bob", token=self.t["ana"])[0], 403)
        self.assertEqual(self.st.request("GET", "/v1/queue", token=self.t["ingest"])[0], 403)
        self.assertGreaterEqual(self.st.metric("cadence_gateway_auth_failures_total") - before, 3)

    def test_body_over_the_limit_is_413(self):
        big = [lead(f"gw-big-{i}", f"L-big-{i}", company="x" * 190) for i in range(400)]
        body = json.dumps(big)
        self.assertGreater(len(body), MAX_BODY)
        status, _, _ = self.st.request("POST", "/v1/events/leads", body, token=self.t["ingest"])
        self.assertEqual(status, 413)

    def test_our_signature_and_its_replay_window(self):
        body = json.dumps(lead("gw-sig-1", "L-sig-1")).encode()
        ok = {"X-Cadence-Source": "crm", "X-Cadence-Signature": cadence_signature(SECRETS["crm"], body)}
        status, resp, _ = self.st.request("POST", "/v1/events/leads", body, headers=ok)
        self.assertEqual(status, 202, resp)
        stale = {"X-Cadence-Source": "crm",
                 "X-Cadence-Signature": cadence_signature(SECRETS["crm"], body, int(time.time()) - 301)}
        self.assertEqual(self.st.request("POST", "/v1/events/leads", body, headers=stale)[0], 401)
        future = {"X-Cadence-Source": "crm",
                  "X-Cadence-Signature": cadence_signature(SECRETS["crm"], body, int(time.time()) + 301)}
        self.assertEqual(self.st.request("POST", "/v1/events/leads", body, headers=future)[0], 401)
        unknown = {"X-Cadence-Source": "nobody", "X-Cadence-Signature": cadence_signature(SECRETS["crm"], body)}
        self.assertEqual(self.st.request("POST", "/v1/events/leads", body, headers=unknown)[0], 401)
        wrong = {"X-Cadence-Source": "crm", "X-Cadence-Signature": cadence_signature("other", body)}
        self.assertEqual(self.st.request("POST", "/v1/events/leads", body, headers=wrong)[0], 401)
        other_source = {"X-Cadence-Source": "segment",
                        "X-Cadence-Signature": cadence_signature(SECRETS["crm"], body)}
        self.assertEqual(self.st.request("POST", "/v1/events/leads", body, headers=other_source)[0], 401)
        tampered = dict(ok)
        self.assertEqual(self.st.request("POST", "/v1/events/leads", body.replace(b"60", b"61"),
                                         headers=tampered)[0], 401)
        self.assertGreater(self.st.metric("cadence_gateway_auth_failures_total", 'kind="signature_stale"'), 0)

    # ---- webhooks -----------------------------------------------------------------------

    def test_segment_page_identify_and_signature(self):
        page = {"type": "page", "messageId": "ajs-next-gw-1", "timestamp": "2026-11-20T15:00:00.000Z",
                "userId": "L-seg-1", "properties": {"url": "https://example.com/pricing",
                                                     "title": "Pricing", "referrer": "https://google.com/"},
                "context": {"page": {"url": "https://ignored.example/"}}}
        body = json.dumps(page).encode()
        sig = {"X-Signature": segment_signature(SECRETS["segment"], body)}
        status, resp, _ = self.st.request("POST", "/v1/webhooks/segment", body, headers=sig)
        self.assertEqual(status, 202, resp)
        self.assertEqual(resp["accepted"], ["ajs-next-gw-1"])
        # A retry of the same call carries the same event id (the worker applies it once).
        self.assertEqual(self.st.request("POST", "/v1/webhooks/segment", body, headers=sig)[0], 202)
        msgs = self.consume("site-visits.v1", {"ajs-next-gw-1"})
        v = json.loads(msgs[0]["value"])
        self.assertEqual(v, {"event_id": "ajs-next-gw-1", "type": "site_visit",
                             "occurred_at": "2026-11-20T15:00:00.000Z", "lead_id": "L-seg-1",
                             "url": "https://example.com/pricing", "title": "Pricing",
                             "referrer": "https://google.com/", "source": "segment"})
        self.assertEqual(msgs[0]["key"], "L-seg-1")
        self.assertTrue(all(json.loads(m["value"])["event_id"] == "ajs-next-gw-1" for m in msgs))
        # Anonymous visitor known by email only, page url from context.
        anon = {"type": "page", "messageId": "ajs-gw-2", "timestamp": "2026-11-20T15:01:00Z",
                "anonymousId": "a-1", "context": {"page": {"url": "https://example.com/demo"},
                                                   "traits": {"email": "Pat@Example.com"}}}
        b2 = json.dumps(anon).encode()
        status, resp, _ = self.st.request("POST", "/v1/webhooks/segment", b2,
                                          headers={"X-Signature": segment_signature(SECRETS["segment"], b2)})
        self.assertEqual(status, 202, resp)
        (m,) = self.consume("site-visits.v1", {"ajs-gw-2"})
        self.assertEqual(json.loads(m["value"])["email"], "Pat@Example.com")
        self.assertEqual(m["key"], "Pat@Example.com")
        # identify links the email to the lead in the worker's email index.
        ident = {"type": "identify", "messageId": "ajs-gw-3", "userId": "L-seg-9",
                 "traits": {"email": "Sam@Example.com"}, "timestamp": "2026-11-20T15:02:00Z"}
        b3 = json.dumps(ident).encode()
        status, resp, _ = self.st.request("POST", "/v1/webhooks/segment", b3,
                                          headers={"X-Signature": segment_signature(SECRETS["segment"], b3)})
        self.assertEqual(status, 202, resp)
        self.assertEqual(resp["linked"], 1)
        keys = self.st.redis_cli("--scan", "--pattern", "cad:{e*}:email:*").split()
        values = [self.st.redis_cli("GET", k).strip() for k in keys]
        self.assertIn("L-seg-9", values)
        # A batch of calls: pages become visits, other calls are ignored.
        batch = {"batch": [dict(page, messageId="ajs-gw-b1"), dict(page, messageId="ajs-gw-b2"),
                           {"type": "track", "event": "Clicked", "messageId": "ajs-gw-b3"}]}
        b5 = json.dumps(batch).encode()
        status, resp, _ = self.st.request("POST", "/v1/webhooks/segment", b5,
                                          headers={"X-Signature": segment_signature(SECRETS["segment"], b5)})
        self.assertEqual((status, resp["accepted"], resp["ignored"]), (202, ["ajs-gw-b1", "ajs-gw-b2"], 1))
        self.consume("site-visits.v1", {"ajs-gw-b1", "ajs-gw-b2"})
        # Signature checks.
        bad = {"X-Signature": segment_signature("wrong", body)}
        self.assertEqual(self.st.request("POST", "/v1/webhooks/segment", body, headers=bad)[0], 401)
        self.assertEqual(self.st.request("POST", "/v1/webhooks/segment", body)[0], 401)
        # A page without a url is refused with the validator's message.
        nourl = {"type": "page", "messageId": "ajs-gw-4", "timestamp": "2026-11-20T15:00:00Z", "userId": "L-1"}
        b4 = json.dumps(nourl).encode()
        status, resp, _ = self.st.request("POST", "/v1/webhooks/segment", b4,
                                          headers={"X-Signature": segment_signature(SECRETS["segment"], b4)})
        self.assertEqual(status, 400, resp)

    def test_mautic_page_hit_and_signature(self):
        payload = {"mautic.page_on_hit": [{"hit": {
            "id": 4711, "dateHit": "2026-11-20T16:00:00+00:00", "url": "https://example.com/pricing",
            "referer": "https://example.com/", "page": {"id": 3, "title": "Pricing"},
            "lead": {"id": 42, "email": "dana@example.com"}}, "timestamp": "2026-11-20T16:00:01+00:00"}]}
        body = json.dumps(payload).encode()
        status, resp, _ = self.st.request("POST", "/v1/webhooks/mautic", body,
                                          headers={"Webhook-Signature": mautic_signature(SECRETS["mautic"], body)})
        self.assertEqual(status, 202, resp)
        self.assertEqual(resp["accepted"], ["mautic-hit-4711"])
        (m,) = self.consume("site-visits.v1", {"mautic-hit-4711"})
        v = json.loads(m["value"])
        self.assertEqual((v["email"], v["url"], v["title"], v["source"], v["occurred_at"]),
                         ("dana@example.com", "https://example.com/pricing", "Pricing", "mautic",
                          "2026-11-20T16:00:00+00:00"))
        bad = {"Webhook-Signature": mautic_signature(SECRETS["segment"], body)}
        self.assertEqual(self.st.request("POST", "/v1/webhooks/mautic", body, headers=bad)[0], 401)

    # ---- reps and managers --------------------------------------------------------------

    def put_lead(self, lead_id, rep, compressed=False):
        """A lead in Redis: plain JSON on purpose (as older versions wrote it), or compressed
        as the worker writes it (stored.py)."""
        shard = self.shard(lead_id)
        state = {"format": 1, "status": "active", "lead_id": lead_id, "rep_id": rep, "first_name": "Ann"}
        entry = json.dumps({"at": "2026-11-02T14:00:00Z", "what": "lead"})
        if compressed:
            self.st.redis_cli("HSET", f"cad:{{s{shard}}}:lead:{lead_id}", "v", "1")
            self.st.redis_cli_x("HSET", f"cad:{{s{shard}}}:lead:{lead_id}", "s",
                                value=stored.encode(json.dumps(state)))
            self.st.redis_cli_x("LPUSH", f"cad:{{s{shard}}}:timeline:{lead_id}", value=stored.encode(entry))
            return
        self.st.redis_cli("HSET", f"cad:{{s{shard}}}:lead:{lead_id}", "v", "1", "s", json.dumps(state))
        self.st.redis_cli("LPUSH", f"cad:{{s{shard}}}:timeline:{lead_id}", entry)

    @staticmethod
    def shard(lead_id, shards=16):
        h = 2166136261
        for b in lead_id.encode():
            h = ((h ^ b) * 16777619) & 0xFFFFFFFF
        return h % shards

    def test_a_lead_stored_compressed_reads_like_a_plain_one(self):
        self.put_lead("L-zstd-ana", "rep.ana", compressed=True)
        status, body, _ = self.st.request("GET", "/v1/leads/L-zstd-ana", token=self.t["ana"])
        self.assertEqual(status, 200, body)
        self.assertEqual((body["state"]["rep_id"], body["state"]["first_name"]), ("rep.ana", "Ann"))
        self.assertEqual(body["timeline"], [{"at": "2026-11-02T14:00:00Z", "what": "lead"}])

    def test_a_rep_sees_only_their_own_leads(self):
        self.put_lead("L-iso-ana", "rep.ana")
        self.put_lead("L-iso-bob", "rep.bob")
        status, body, _ = self.st.request("GET", "/v1/leads/L-iso-ana", token=self.t["ana"])
        self.assertEqual(status, 200, body)
        self.assertEqual(body["state"]["rep_id"], "rep.ana")
        self.assertEqual(body["timeline"], [{"at": "2026-11-02T14:00:00Z", "what": "lead"}])
        self.assertEqual(self.st.request("GET", "/v1/leads/L-iso-bob", token=self.t["ana"])[0], 404)
        self.assertEqual(self.st.request("GET", "/v1/leads/L-iso-ana", token=self.t["bob"])[0], 404)
        self.assertEqual(self.st.request("GET", "/v1/leads/L-iso-bob", token=self.t["bob"])[0], 200)
        self.assertEqual(self.st.request("GET", "/v1/leads/L-iso-bob", token=self.t["manager"])[0], 200)
        self.assertEqual(self.st.request("GET", "/v1/leads/L-none", token=self.t["manager"])[0], 404)
        self.assertEqual(self.st.request("GET", "/v1/leads/..%2F..", token=self.t["manager"])[0], 404)

    def test_queue_holds_due_and_overdue_tasks_of_the_rep_only(self):
        now = int(time.time() * 1000)
        task = fixture("touches-due.v1", "first_time_call.json")
        for tid, due in (("T-over", now - 3600_000), ("T-due", now), ("T-later", now + 3 * 86400_000)):
            t = copy.deepcopy(task)
            t["task_id"] = tid
            self.st.redis_cli("ZADD", "cad:{r:rep.ana}:queue", str(due), tid)
            self.st.redis_cli("HSET", "cad:{r:rep.ana}:tasks", tid, json.dumps(t))
        status, body, _ = self.st.request("GET", "/v1/queue", token=self.t["ana"])
        self.assertEqual(status, 200, body)
        self.assertEqual([t["task_id"] for t in body["tasks"]], ["T-over", "T-due"])
        self.assertTrue(body["tasks"][0]["overdue"])
        self.assertEqual(body["tasks"][0]["task"]["task_id"], "T-over")
        status, body, _ = self.st.request("GET", "/v1/queue", token=self.t["bob"])
        self.assertEqual((status, body["tasks"]), (200, []))
        self.assertEqual(self.st.request("GET", "/v1/queue?rep=rep.ana", token=self.t["bob"])[0], 403)
        status, body, _ = self.st.request("GET", "/v1/queue?rep=rep.ana", token=self.t["manager"])
        self.assertEqual(len(body["tasks"]), 2)

    # ---- the rep's console: tasks, outcomes, search, messages, the rep's day ------------

    def queue_task(self, rep, task_id, lead_id, due_ms=None, channel="call"):
        """Puts a task into a rep's open queue as the scheduler would."""
        t = copy.deepcopy(fixture("touches-due.v1", "first_time_call.json"))
        t.update(task_id=task_id, event_id=task_id, lead_id=lead_id, rep_id=rep, channel=channel)
        due = int(time.time() * 1000) if due_ms is None else due_ms
        self.st.redis_cli("ZADD", f"cad:{{r:{rep}}}:queue", str(due), task_id)
        self.st.redis_cli("HSET", f"cad:{{r:{rep}}}:tasks", task_id, json.dumps(t))
        # the stack is shared by the class: leave the other tests' queues as they were
        self.addCleanup(self.st.redis_cli, "ZREM", f"cad:{{r:{rep}}}:queue", task_id)
        self.addCleanup(self.st.redis_cli, "HDEL", f"cad:{{r:{rep}}}:tasks", task_id)
        return t

    def test_outcome_of_an_own_task_is_published_with_what_the_gateway_fills(self):
        self.queue_task("rep.ana", "T-out-1", "L-out-1")
        body = {"disposition": "connected", "notes": "friendly",
                "conversation": {"problems": ["slow follow-up"], "next_steps": "demo on Friday",
                                 "role": "decision_maker",
                                 "qualification": {"problem": True, "decision_makers": True,
                                                   "timeline": False, "price": False},
                                 "next_contact_at": "2026-12-11T15:00:00Z"}}
        status, res, _ = self.st.request("POST", "/v1/tasks/T-out-1/outcome", body, token=self.t["ana"])
        self.assertEqual(status, 202, res)
        self.assertEqual((res["task_id"], res["lead_id"]), ("T-out-1", "L-out-1"))
        self.assertEqual(res["accepted"], [res["event_id"]])
        (m,) = self.consume("call-outcomes.v1", {res["event_id"]})
        ev = json.loads(m["value"])
        self.assertEqual(m["key"], "L-out-1")
        self.assertEqual((ev["type"], ev["lead_id"], ev["rep_id"], ev["channel"], ev["task_id"]),
                         ("call_outcome", "L-out-1", "rep.ana", "call", "T-out-1"))
        self.assertEqual(ev["conversation"], body["conversation"])
        self.assertEqual(ev["notes"], "friendly")
        self.assertTrue(ev["occurred_at"].endswith("Z"))
        # snooze (with a reason and a time to come back) and skip are outcomes of the task too
        self.queue_task("rep.ana", "T-out-2", "L-out-2", channel="email")
        until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 7200))
        status, res, _ = self.st.request("POST", "/v1/tasks/T-out-2/outcome",
                                         {"disposition": "snoozed", "snooze_until": until,
                                          "notes": "at a conference"}, token=self.t["ana"])
        self.assertEqual(status, 202, res)
        (m,) = self.consume("call-outcomes.v1", {res["event_id"]})
        ev = json.loads(m["value"])
        self.assertEqual((ev["disposition"], ev["snooze_until"], ev["channel"]), ("snoozed", until, "email"))
        status, res, _ = self.st.request("POST", "/v1/tasks/T-out-2/outcome", {"disposition": "skipped"},
                                         token=self.t["ana"])
        self.assertEqual(status, 202, res)

    def test_outcome_statuses_401_403_404_405_400_413(self):
        self.queue_task("rep.ana", "T-st-1", "L-st-1")
        path = "/v1/tasks/T-st-1/outcome"
        ok = {"disposition": "no_answer"}
        self.assertEqual(self.st.request("POST", path, ok)[0], 401)
        self.assertEqual(self.st.request("POST", path, ok, token="nope")[0], 401)
        self.assertEqual(self.st.request("POST", path, ok, token=self.t["manager"])[0], 403)
        self.assertEqual(self.st.request("POST", path, ok, token=self.t["ingest"])[0], 403)
        # another rep's task, an unknown task, a task no longer in the queue: all 404
        status, body, _ = self.st.request("POST", path, ok, token=self.t["bob"])
        self.assertEqual((status, body), (404, {"error": "no such open task"}))
        self.assertEqual(self.st.request("POST", "/v1/tasks/T-none/outcome", ok, token=self.t["ana"])[0], 404)
        self.st.redis_cli("HSET", "cad:{r:rep.ana}:tasks", "T-gone", json.dumps({"lead_id": "L-st-1"}))
        self.assertEqual(self.st.request("POST", "/v1/tasks/T-gone/outcome", ok, token=self.t["ana"])[0], 404)
        self.assertEqual(self.st.request("POST", "/v1/tasks/..%2F..%2Fx/outcome", ok, token=self.t["ana"])[0], 404)
        self.assertEqual(self.st.request("POST", "/v1/tasks/T-st-1/other", ok, token=self.t["ana"])[0], 404)
        self.assertEqual(self.st.request("GET", path, token=self.t["ana"])[0], 405)

        def bad(body, where):
            status, res, _ = self.st.request("POST", path, body, token=self.t["ana"])
            self.assertEqual(status, 400, res)
            self.assertEqual(res["errors"][0]["path"], where, res)
            return res["errors"][0]["message"]
        self.assertIn("not JSON", bad("{nope", ""))
        self.assertIn("object", bad("[1]", ""))
        bad({}, "/disposition")
        bad({"disposition": "teleported"}, "/disposition")
        self.assertIn("filled by the gateway", bad({"disposition": "no_answer", "lead_id": "L-x"}, "/lead_id"))
        self.assertIn("filled by the gateway", bad({"disposition": "no_answer", "rep_id": "rep.bob"}, "/rep_id"))
        self.assertIn("not an outcome field", bad({"disposition": "no_answer", "mood": "good"}, "/mood"))
        bad({"disposition": "snoozed", "notes": "later"}, "/snooze_until")
        bad({"disposition": "snoozed", "snooze_until": "2020-01-01T00:00:00Z"}, "/snooze_until")
        bad({"disposition": "no_answer", "snooze_until": "2099-01-01T00:00:00Z"}, "/snooze_until")
        bad({"disposition": "connected", "conversation": {"role": "boss"}}, "/conversation/role")
        bad({"disposition": "not_interested", "no_reason": "x" * 501}, "/no_reason")
        big = json.dumps({"disposition": "no_answer", "notes": "x" * (MAX_BODY + 10)})
        self.assertEqual(self.st.request("POST", path, big, token=self.t["ana"])[0], 413)
        # nothing of the above was produced; the task is still open and takes a good outcome
        status, res, _ = self.st.request("POST", path, ok, token=self.t["ana"])
        self.assertEqual(status, 202, res)

    def test_lead_search_finds_own_leads_by_prefix(self):
        def index(rep, lead_id, card, terms):
            for term in terms:
                self.st.redis_cli("ZADD", f"cad:{{r:{rep}}}:lead_index", "0", f"{term}\x01{lead_id}")
            self.st.redis_cli("HSET", f"cad:{{r:{rep}}}:lead_cards", lead_id, json.dumps(card))
        index("rep.ana", "L-s-1", {"lead_id": "L-s-1", "first_name": "Dana", "last_name": "Okafor",
                                   "company": "Northwind", "email": "dana@northwind.example"},
              ["dana", "okafor", "dana okafor", "northwind", "dana@northwind.example", "l-s-1"])
        index("rep.bob", "L-s-2", {"lead_id": "L-s-2", "first_name": "Dan", "company": "Other"}, ["dan"])
        for q in ("Dan", "okaf", "NORTHW", "dana@", "dana oka"):
            status, body, _ = self.st.request("GET", "/v1/leads?q=" + q.replace(" ", "%20"), token=self.t["ana"])
            self.assertEqual(status, 200, body)
            self.assertEqual([l["lead_id"] for l in body["leads"]], ["L-s-1"], q)
        self.assertEqual(body["leads"][0]["company"], "Northwind")
        status, body, _ = self.st.request("GET", "/v1/leads?q=zzz", token=self.t["ana"])
        self.assertEqual((status, body["leads"]), (200, []))
        status, body, _ = self.st.request("GET", "/v1/leads?q=dan", token=self.t["bob"])
        self.assertEqual([l["lead_id"] for l in body["leads"]], ["L-s-2"])
        status, body, _ = self.st.request("GET", "/v1/leads?q=dan&rep=rep.ana", token=self.t["manager"])
        self.assertEqual([l["lead_id"] for l in body["leads"]], ["L-s-1"])
        self.assertEqual(self.st.request("GET", "/v1/leads?q=dan")[0], 401)
        self.assertEqual(self.st.request("GET", "/v1/leads?q=dan", token=self.t["ingest"])[0], 403)
        self.assertEqual(self.st.request("GET", "/v1/leads?q=dan&rep=rep.bob", token=self.t["ana"])[0], 403)
        self.assertEqual(self.st.request("GET", "/v1/leads?q=dan", token=self.t["manager"])[0], 400)
        self.assertEqual(self.st.request("GET", "/v1/leads", token=self.t["ana"])[0], 400)
        self.assertEqual(self.st.request("GET", "/v1/leads?q=%20%20", token=self.t["ana"])[0], 400)
        self.assertEqual(self.st.request("GET", "/v1/leads?q=d&limit=0", token=self.t["ana"])[0], 400)
        self.assertEqual(self.st.request("GET", "/v1/leads?q=d&limit=1x", token=self.t["ana"])[0], 400)
        self.assertEqual(self.st.request("POST", "/v1/leads?q=d", {}, token=self.t["ana"])[0], 405)

    def test_messages_serve_the_playbooks_texts(self):
        status, body, _ = self.st.request("GET", "/v1/messages", token=self.t["ana"])
        self.assertEqual(status, 200, body)
        by_id = {m["message_id"]: m for m in body["messages"]}
        self.assertEqual(by_id["vm-1"]["kind"], "voicemail")
        self.assertIn("{first_name}", by_id["vm-1"]["text"])
        self.assertEqual(by_id["em-1"]["kind"], "email")
        self.assertTrue(by_id["em-1"]["subject"])
        self.assertEqual(self.st.request("GET", "/v1/messages")[0], 401)
        self.assertEqual(self.st.request("GET", "/v1/messages", token=self.t["ingest"])[0], 403)
        self.assertEqual(self.st.request("GET", "/v1/messages", token=self.t["manager"])[0], 200)

    def test_the_reps_day_follows_their_time_zone(self):
        status, body, _ = self.st.request("GET", "/v1/me", token=self.t["cy"])
        self.assertEqual((status, body["timezone"]), (200, "Pacific/Kiritimati"))
        status, body, _ = self.st.request("GET", "/v1/me", token=self.t["ana"])
        self.assertEqual(body["timezone"], "UTC")
        now = int(time.time() * 1000)
        status, body, _ = self.st.request("GET", "/v1/queue", token=self.t["cy"])
        day = body["today"]
        self.assertEqual(day["timezone"], "Pacific/Kiritimati")
        self.assertLessEqual(day["start_ms"], now)
        self.assertLess(now, day["end_ms"])
        self.assertEqual(day["end_ms"] - day["start_ms"], 86400_000)
        self.assertEqual(day["start_ms"] % 86400_000, 10 * 3600_000, "local midnight is 10:00 UTC")
        # a task due before the rep's local midnight is overdue, one later today is today's
        self.queue_task("rep.cy", "T-cy-old", "L-cy-1", due_ms=day["start_ms"] - 60_000)
        self.queue_task("rep.cy", "T-cy-now", "L-cy-2", due_ms=day["start_ms"] + 60_000)
        self.queue_task("rep.cy", "T-cy-tomorrow", "L-cy-3", due_ms=day["end_ms"] + 60_000)
        status, body, _ = self.st.request("GET", "/v1/queue", token=self.t["cy"])
        self.assertEqual([(t["task_id"], t["day"]) for t in body["tasks"]],
                         [("T-cy-old", "overdue"), ("T-cy-now", "today")])
        status, body, _ = self.st.request("GET", "/v1/queue?rep=rep.cy", token=self.t["manager"])
        self.assertEqual(body["today"]["timezone"], "Pacific/Kiritimati")

    def test_stats_sum_the_shards_for_managers(self):
        day = "2026-10-01"
        self.st.redis_cli("HSET", f"cad:{{s1}}:stats:{day}", "rep.ana|attempts:zero_to_ten:0:warm", "10",
                          "rep.ana|connects:zero_to_ten:0:warm", "4", "rep.ana|won_deals", "2",
                          "rep.ana|follow_ups_to_close", "5", "rep.ana|voicemails_left", "8",
                          "rep.ana|callbacks_received", "2", "rep.ana|leads:warm", "12")
        self.st.redis_cli("HSET", f"cad:{{s7}}:stats:{day}", "rep.bob|attempts:zero_to_ten:0:warm", "10",
                          "rep.bob|wins:zero_to_ten:0:warm", "1", "rep.bob|won_deals", "2",
                          "rep.bob|follow_ups_to_close", "3", "rep.bob|first_contacts", "4",
                          "rep.bob|attempts_before_first_contact", "10")
        status, body, _ = self.st.request("GET", f"/v1/stats?from={day}&to={day}", token=self.t["manager"])
        self.assertEqual(status, 200, body)
        m = body["measures"]
        self.assertAlmostEqual(m["follow_ups_per_won_deal"], 2.0)
        self.assertAlmostEqual(m["callbacks_per_voicemail"], 0.25)
        self.assertAlmostEqual(m["attempts_before_first_contact"], 2.5)
        (row,) = [r for r in body["by_step"] if r["cadence"] == "zero_to_ten" and r["step"] == "0"]
        self.assertEqual((row["attempts"], row["connects"], row["wins"], row["lead_type"]), (20, 4, 1, "warm"))
        self.assertAlmostEqual(row["connect_rate"], 0.2)
        self.assertEqual(body["by_lead_type"]["warm"]["leads"], 12)
        self.assertEqual(sorted(body["by_rep"]), ["rep.ana", "rep.bob"])

    # ---- alerts -------------------------------------------------------------------------

    def alert(self, alert_id, rep="rep.ana", lead_id="L-1001"):
        a = fixture("alerts.v1", "former_no_revisit.json")
        a.update(event_id=alert_id, alert_id=alert_id, rep_id=rep, lead_id=lead_id)
        return a

    def test_alert_stream_resumes_with_last_event_id_and_keeps_reps_apart(self):
        ana = SSEReader(self.st.gw_port, self.t["ana"])
        self.assertEqual(ana.status, 200)
        self.assertIn("text/event-stream", ana.headers)
        a1 = self.alert("alert:sse:1")
        self.st.kcat_produce("alerts.v1", [("L-1001", a1), ("L-1001", a1)])  # a duplicate too
        self.st.kcat_produce("alerts.v1", [("L-2002", self.alert("alert:sse:bob", rep="rep.bob", lead_id="L-2002"))])
        (e1,) = ana.events(1)
        self.assertEqual(e1["event"], "call_now")
        self.assertEqual(json.loads(e1["data"])["alert_id"], "alert:sse:1")
        ana.close()
        wait_for(lambda: self.st.redis_cli("XLEN", "cad:{r:rep.bob}:alerts").strip() == "1",
                 what="bob's alert in his stream")
        self.assertEqual(self.st.redis_cli("XLEN", "cad:{r:rep.ana}:alerts").strip(), "1",
                         "the duplicate alert_id is appended once")
        # Alerts while disconnected, then a reconnect with Last-Event-ID gets exactly those.
        self.st.kcat_produce("alerts.v1", [("L-1001", self.alert("alert:sse:2")),
                                           ("L-1001", self.alert("alert:sse:3"))])
        wait_for(lambda: self.st.redis_cli("XLEN", "cad:{r:rep.ana}:alerts").strip() == "3",
                 what="two more alerts in ana's stream")
        again = SSEReader(self.st.gw_port, self.t["ana"], last_event_id=e1["id"])
        evs = again.events(2)
        self.assertEqual([json.loads(e["data"])["alert_id"] for e in evs], ["alert:sse:2", "alert:sse:3"])
        self.assertGreater(evs[0]["id"], e1["id"])
        # Live delivery after the catch-up, and nothing of bob's.
        self.st.kcat_produce("alerts.v1", [("L-1001", self.alert("alert:sse:4"))])
        (e4,) = again.events(1)
        self.assertEqual(json.loads(e4["data"])["alert_id"], "alert:sse:4")
        again.close()
        # A rep cannot listen to another rep's stream.
        other = SSEReader(self.st.gw_port, self.t["ana"], query="?rep=rep.bob")
        self.assertEqual(other.status, 403)
        other.close()
        mgr = SSEReader(self.st.gw_port, self.t["manager"], query="?rep=rep.bob")
        (eb,) = mgr.events(1)
        self.assertEqual(json.loads(eb["data"])["rep_id"], "rep.bob")
        mgr.close()
        wait_for(lambda: self.st.metric("cadence_gateway_sse_clients") == 0, what="SSE clients gauge back to 0")

    def test_an_alert_update_reaches_the_rep_once_per_revision(self):
        stream = SSEReader(self.st.gw_port, self.t["ana"])
        first = self.alert("alert:rev:1")
        update = dict(first, event_id="alert:rev:1-r2", revision=2)
        # The first alert, its update, and a re-delivery of each.
        self.st.kcat_produce("alerts.v1", [("L-1001", first), ("L-1001", update),
                                           ("L-1001", first), ("L-1001", update)])
        # The stream opens with the rep's recent alerts (other tests' too): keep only this test's.
        def ours(n):
            got = []
            while len(got) < n:
                (e,) = stream.events(1)
                data = json.loads(e["data"])
                if data["alert_id"].startswith("alert:rev:"):
                    got.append((data["alert_id"], data.get("revision", 1)))
            return got
        self.assertEqual(ours(2), [("alert:rev:1", 1), ("alert:rev:1", 2)])
        # A later alert proves the re-deliveries were consumed and dropped, not still on the way.
        self.st.kcat_produce("alerts.v1", [("L-1001", self.alert("alert:rev:after"))])
        self.assertEqual(ours(1), [("alert:rev:after", 1)])
        stream.close()

    # ---- operations ---------------------------------------------------------------------

    def test_sighup_rereads_the_tokens_file(self):
        new = add_token(self.st.tokens_file, "rep", "rep.cy")
        self.assertEqual(self.st.request("GET", "/v1/queue", token=new)[0], 401)
        self.st.gateway.send_signal(signal.SIGHUP)
        wait_for(lambda: self.st.request("GET", "/v1/queue", token=new)[0] == 200,
                 what="the new token accepted after SIGHUP")

    def test_console_health_metrics_and_unknown_routes(self):
        status, text, hdrs = self.st.request("GET", "/")
        self.assertEqual(status, 200)
        self.assertIn("text/html", hdrs["Content-Type"])
        for path in ("/app.js", "/style.css"):
            self.assertEqual(self.st.request("GET", path)[0], 200, path)
        self.assertEqual(self.st.request("GET", "/healthz")[0], 200)
        self.assertEqual(self.st.request("GET", "/nope")[0], 404)
        self.assertEqual(self.st.request("GET", "/v1/events/leads")[0], 405)
        _, text, _ = self.st.request("GET", "/metrics")
        self.assertIn('cadence_gateway_requests_total{route="console",status="200"}', text)
        self.assertIn("cadence_gateway_sse_clients", text)

    def test_cli_token_file_is_private_and_rejects_bad_roles(self):
        path = os.path.join(self.st.dir, "new-tokens")
        tok = add_token(path, "manager")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        self.assertRegex(tok, r"^[A-Za-z0-9_-]{43}$")
        r = subprocess.run([os.path.join(os.environ.get("CADENCE_BIN_DIR", ""), "cadence"), "token", "add",
                            "--role", "admin"], capture_output=True, text=True,
                           env=dict(os.environ, CADENCE_TOKENS_FILE=path))
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
