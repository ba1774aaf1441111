"""The web console in headless Chromium, end to end, with the gateway, the worker and the
scheduler on redis-server and the devbroker (tests/browser/console_test.mjs drives the page):

- a former "no" views the pricing page (published with kcat), the worker raises a call-now
  alert, the gateway fans it into the rep's stream and the page shows it within a second of the
  entry reaching the stream, with a desktop notification, a sound and the count in the title;
- a second hot page inside the cooldown updates the alert (revision 2): the card is refreshed,
  not doubled;
- an overdue task shows what to say (the voicemail script filled in, a tel: link); logging an
  outcome through POST /v1/tasks/{id}/outcome takes it out of the queue and the next touch
  appears on the lead's page;
- a lead search by a name prefix (the index the worker keeps) opens the lead's page with its
  history in words;
- phone width has no sideways overflow; the alert stream reconnects after a gateway restart;
- a manager sees the statistics chart.

Needs /usr/bin/chromium and node/npm (scripts/install-deps); playwright-core is installed into
tests/browser/node_modules by this test (npm ci) when missing. Screenshots are kept under
build/test/artifacts/ (or $CADENCE_ARTIFACTS_DIR)."""
import datetime
import json
import os
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from gateway_harness import GatewayStack, binary  # noqa: E402
from harness import SOURCE_DIR, wait_for  # noqa: E402

BROWSER_DIR = os.path.join(SOURCE_DIR, "tests", "browser")
ARTIFACTS = os.environ.get("CADENCE_ARTIFACTS_DIR") or os.path.join(
    os.environ.get("CADENCE_BIN_DIR", os.path.join(SOURCE_DIR, "build", "test")), "artifacts")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def npm_deps():
    if os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")):
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BROWSER_DIR, check=True, timeout=300)


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")


class ConsoleBrowserTest(unittest.TestCase):
    @unittest.skipUnless(os.path.exists(CHROMIUM) and shutil.which("node") and shutil.which("npm"),
                         "needs chromium, node and npm (scripts/install-deps)")
    def test_a_rep_works_alerts_tasks_and_leads_and_a_manager_sees_the_chart(self):
        npm_deps()
        with GatewayStack("gateway-browser") as st:
            st.start_gateway(worker=True)
            st.scheduler = st.spawn("scheduler", [binary("cadence-scheduler")], env=st.env())
            t = st.tokens
            # A lead of rep.ana who said no a while ago.
            st.kcat_produce("leads.v1", [("L-br-1", {
                "event_id": "br-lead-1", "type": "lead", "occurred_at": "2026-11-02T14:00:00Z",
                "lead_id": "L-br-1", "rep_id": "rep.ana", "lead_type": "cold", "potential": 60,
                "first_name": "Dana", "last_name": "Okafor", "company": "Northwind Freight",
                "email": "dana@northwind.example", "timezone": "America/New_York"})])
            st.kcat_produce("call-outcomes.v1", [("L-br-1", {
                "event_id": "br-vm-1", "type": "call_outcome", "occurred_at": "2026-11-02T15:00:00Z",
                "lead_id": "L-br-1", "rep_id": "rep.ana", "channel": "call",
                "disposition": "voicemail_left"}), ("L-br-1", {
                "event_id": "br-no-1", "type": "call_outcome", "occurred_at": "2026-11-03T15:00:00Z",
                "lead_id": "L-br-1", "rep_id": "rep.ana", "channel": "call",
                "disposition": "not_interested", "no_reason": "no budget this year"})])

            # A second lead reached at the first attempt, so the chart has a connect rate.
            st.kcat_produce("leads.v1", [("L-br-2", {
                "event_id": "br-lead-2", "type": "lead", "occurred_at": "2026-11-02T14:00:00Z",
                "lead_id": "L-br-2", "rep_id": "rep.bob", "lead_type": "cold", "potential": 60,
                "first_name": "Lee", "timezone": "America/New_York"})])
            st.kcat_produce("call-outcomes.v1", [("L-br-2", {
                "event_id": "br-conn-2", "type": "call_outcome", "occurred_at": "2026-11-02T15:00:00Z",
                "lead_id": "L-br-2", "rep_id": "rep.bob", "channel": "call", "disposition": "connected",
                "conversation": {"problems": ["manual dispatch"], "next_steps": "demo", "role": "decision_maker"}})])

            def nurtured():
                status, body, _ = st.request("GET", "/v1/leads/L-br-1", token=t["manager"])
                return status == 200 and body["state"].get("status") == "nurture"
            wait_for(nurtured, timeout=30, what="the lead in nurture after the no")

            def connected():
                status, body, _ = st.request("GET", "/v1/stats?from=2026-11-01&to=2026-11-30",
                                             token=t["manager"])
                return status == 200 and any(r["connects"] > 0 for r in body["by_step"])
            wait_for(connected, timeout=30, what="a first conversation in the stats")

            # The worker indexed the lead for rep.ana's search (and only for her).
            def found():
                status, body, _ = st.request("GET", "/v1/leads?q=okaf", token=t["ana"])
                return status == 200 and [x["lead_id"] for x in body["leads"]] == ["L-br-1"]
            wait_for(found, timeout=30, what="the lead in rep.ana's search index")
            self.assertEqual(st.request("GET", "/v1/leads?q=okaf", token=t["bob"])[1]["leads"], [])

            out_path = os.path.join(st.dir, "browser.out")
            with open(out_path, "wb") as out:
                node = st.spawn("browser", ["node", os.path.join(BROWSER_DIR, "console_test.mjs"),
                                            f"http://127.0.0.1:{st.gw_port}", t["ana"], t["manager"],
                                            ARTIFACTS], stdout=out, stdin=subprocess.PIPE)

            def output():
                with open(out_path) as f:
                    return f.read()

            def ack(what):
                node.stdin.write((what + "\n").encode())
                node.stdin.flush()

            def wait_line(line, timeout=120):
                wait_for(lambda: line in output().splitlines() or node.poll() is not None,
                         timeout=timeout, what=f"the browser test at {line!r}")
                self.assertIn(line, output().splitlines(), output() + st.log_of(node))

            wait_line("READY", 60)
            wait_line("WAIT visit")
            published = time.time()
            st.kcat_produce("site-visits.v1", [("", {
                "event_id": "br-visit-1", "type": "site_visit", "occurred_at": iso(published),
                "email": "Dana@Northwind.example", "url": "https://www.example.com/pricing",
                "title": "Pricing", "source": "segment"})])
            ack("visit")
            wait_line("WAIT update")
            st.kcat_produce("site-visits.v1", [("", {
                "event_id": "br-visit-2", "type": "site_visit", "occurred_at": iso(time.time()),
                "email": "dana@northwind.example", "url": "https://www.example.com/demo",
                "title": "Book a demo", "source": "segment"})])
            ack("update")
            wait_line("WAIT task")
            # A lead of three days ago: its first touch is overdue, the scheduler queues it.
            st.kcat_produce("leads.v1", [("L-br-3", {
                "event_id": "br-lead-3", "type": "lead", "occurred_at": iso(time.time() - 3 * 86400),
                "lead_id": "L-br-3", "rep_id": "rep.ana", "lead_type": "cold", "potential": 70,
                "first_name": "Mia", "last_name": "Schulz", "company": "Contoso", "phone": "+49 30 1234567",
                "email": "mia@contoso.example", "timezone": "Europe/Berlin"})])

            def queued():
                status, body, _ = st.request("GET", "/v1/queue", token=t["ana"])
                return status == 200 and any(x["task"]["lead_id"] == "L-br-3" for x in body["tasks"])
            wait_for(queued, timeout=30, what="Mia's first touch in rep.ana's queue")
            ack("task")
            wait_line("WAIT restart", 180)
            self.assertEqual(st.stop(st.gateway), 0, st.log_of(st.gateway))
            wait_line("STREAM DOWN", 60)
            st.gateway = st.spawn("gateway-2", [binary("cadence-gateway")], env=st.gw_env)
            wait_for(lambda: st.healthy(), timeout=30, what="the restarted gateway")
            # The restarted gateway fans alerts in again (and has joined its group before it
            # is stopped: librdkafka 2.0.2 asserts when a consumer closes before its first
            # assignment).
            st.kcat_produce("site-visits.v1", [("", {
                "event_id": "br-visit-3", "type": "site_visit", "occurred_at": iso(time.time()),
                "email": "dana@northwind.example", "url": "https://www.example.com/pricing",
                "title": "Pricing", "source": "segment"})])
            wait_for(lambda: st.metric("cadence_gateway_alerts_fanned_total") > 0, timeout=60,
                     what="an alert fanned in by the restarted gateway")

            self.assertEqual(node.wait(timeout=120), 0, output() + st.log_of(node))
            result = json.loads([line for line in output().splitlines() if line.startswith("{")][-1])
            print(json.dumps({k: v for k, v in result.items() if k not in ("search_lead", "lead_history")},
                             indent=1), flush=True)

            stream_ms = int(result["stream_id"].split("-")[0])
            latency_ms = result["received_ms"] - stream_ms
            total_ms = result["received_ms"] - published * 1000
            print(f"alert {result['alert_id']}: stream → page {latency_ms} ms; "
                  f"kcat publish → page {total_ms:.0f} ms", flush=True)
            self.assertLess(latency_ms, 1000, "alert on the page within a second of reaching the stream")
            self.assertGreaterEqual(latency_ms, -50)
            # 1. loud
            self.assertIn("Dana Okafor", result["text"])
            self.assertIn("no budget this year", result["text"])
            self.assertIn("pricing", result["text"])
            self.assertEqual(len(result["notifications"]), 1, result["notifications"])
            self.assertIn("Call now: Dana Okafor", result["notifications"][0]["title"])
            self.assertEqual(result["notifications"][0]["tag"], result["alert_id"])
            self.assertGreaterEqual(result["sounds"], 1)
            self.assertTrue(result["title"].startswith("(1) "), result["title"])
            self.assertIn(result["ago"], ("just now", "1 minute ago"))
            # 2. updated in place
            self.assertEqual(result["alert_cards"], 1)
            self.assertIn("demo", result["updated_text"])
            self.assertIn("updated", result["updated_text"].lower())
            self.assertEqual(result["notifications_after_update"], 2)
            self.assertFalse(result["title_after_done"].startswith("("), result["title_after_done"])
            # 3. what to say, the outcome, the next touch
            self.assertTrue(result["task_overdue"])
            self.assertRegex(result["task_when"], r"[A-Za-z]{3}|\d+/\d+", "an overdue row carries its date")
            self.assertIn("Hi Mia", result["task_card"], "the voicemail script, filled in")
            self.assertNotIn("{first_name}", result["task_card"])
            self.assertIn("their time", result["task_card"])
            self.assertEqual(result["tel"], "tel:+49301234567")
            self.assertEqual(result["script_choice"], "vm-1")
            self.assertNotEqual(result["next_task_id"], result["old_task_id"])
            self.assertEqual(result["task_still_queued"], 0)
            self.assertIn("left a voicemail", result["lead_history"])
            self.assertIn("left vm-1, will email", result["lead_history"])
            # 4. search and history in words (no engine jargon)
            self.assertIn("They said no", result["search_lead"])
            self.assertIn("no budget this year", result["search_lead"])
            self.assertNotIn("call_outcome", result["search_lead"])
            self.assertGreaterEqual(result["timeline_entries"], 3)
            # 5. phone, 6. reconnect
            self.assertLessEqual(result["phone_overflow"], 1)
            self.assertTrue(result["reconnected"])
            self.assertGreater(result["retry_ms"], 0)
            # the manager
            self.assertIn("Follow-ups to close", result["measures"])
            self.assertTrue(any("step 0, cold" in b and "(0/" not in b for b in result["chart_bars"]),
                            result["chart_bars"])
            errors = [e for e in result["console_errors"]
                      if "ERR_CONNECTION_REFUSED" not in e and "Failed to load resource" not in e]
            self.assertEqual(errors, [])
            for name in ("console-rep-alert.png", "console-rep-alert-update.png", "console-rep-task.png",
                         "console-rep-next-touch.png", "console-rep-lead.png", "console-rep-phone.png"):
                self.assertTrue(os.path.exists(os.path.join(ARTIFACTS, name)), name)
            self.assertEqual(st.stop(st.scheduler), 0)
            self.assertEqual(st.stop(st.worker), 0)
            self.assertEqual(st.stop(st.gateway), 0)
            st.check_sanitizers()


if __name__ == "__main__":
    unittest.main(verbosity=2)
