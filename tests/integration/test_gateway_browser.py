"""The web console in headless Chromium, end to end: a rep signs in, a former "no" views the
pricing page (published with kcat), the worker raises a call-now alert on alerts.v1, the gateway
fans it into the rep's Redis stream and the page shows it — within a second of the entry
reaching the stream (measured: the stream id's milliseconds vs the page's receive time). Then
the lead's history opens from the alert, and a manager sees the statistics chart.

Needs /usr/bin/chromium and node/npm (scripts/install-deps); playwright-core is installed into
tests/browser/node_modules by this test (npm ci) when missing. Screenshots are kept under
tests/artifacts/ (git-ignored)."""
import datetime
import json
import os
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from gateway_harness import GatewayStack  # noqa: E402
from harness import SOURCE_DIR, wait_for  # noqa: E402

BROWSER_DIR = os.path.join(SOURCE_DIR, "tests", "browser")
ARTIFACTS = os.path.join(SOURCE_DIR, "tests", "artifacts")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def npm_deps():
    if os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")):
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BROWSER_DIR, check=True, timeout=300)


class ConsoleBrowserTest(unittest.TestCase):
    @unittest.skipUnless(os.path.exists(CHROMIUM) and shutil.which("node") and shutil.which("npm"),
                         "needs chromium, node and npm (scripts/install-deps)")
    def test_a_rep_sees_a_call_now_alert_live_and_a_manager_sees_the_chart(self):
        npm_deps()
        with GatewayStack("gateway-browser") as st:
            st.start_gateway(worker=True)
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

            out_path = os.path.join(st.dir, "browser.out")
            with open(out_path, "wb") as out:
                node = st.spawn("browser", ["node", os.path.join(BROWSER_DIR, "console_test.mjs"),
                                            f"http://127.0.0.1:{st.gw_port}", t["ana"], t["manager"],
                                            ARTIFACTS], stdout=out)

            def output():
                with open(out_path) as f:
                    return f.read()
            wait_for(lambda: "READY" in output() or node.poll() is not None, timeout=60,
                     what="the console signed in with a live stream")
            self.assertIn("READY", output(), st.log_of(node))

            now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            published = time.time()
            st.kcat_produce("site-visits.v1", [("", {
                "event_id": "br-visit-1", "type": "site_visit", "occurred_at": now,
                "email": "Dana@Northwind.example", "url": "https://www.example.com/pricing",
                "title": "Pricing", "source": "segment"})])
            self.assertEqual(node.wait(timeout=120), 0, output() + st.log_of(node))
            result = json.loads([line for line in output().splitlines() if line.startswith("{")][-1])

            stream_ms = int(result["stream_id"].split("-")[0])
            latency_ms = result["received_ms"] - stream_ms
            total_ms = result["received_ms"] - published * 1000
            print(f"alert {result['alert_id']}: stream → page {latency_ms} ms; "
                  f"kcat publish → page {total_ms:.0f} ms", flush=True)
            self.assertLess(latency_ms, 1000, "alert on the page within a second of reaching the stream")
            self.assertGreaterEqual(latency_ms, -50)
            self.assertIn("Dana Okafor", result["text"])
            self.assertIn("no budget this year", result["text"])
            self.assertIn("pricing", result["text"])
            self.assertGreaterEqual(result["timeline_entries"], 3)
            self.assertIn("Follow-ups to close", result["measures"])
            # A bar for cold leads at step 0 with a non-zero connect rate.
            self.assertTrue(any("step 0, cold" in b and "(0/" not in b for b in result["chart_bars"]),
                            result["chart_bars"])
            self.assertEqual(result["console_errors"], [])
            self.assertTrue(os.path.exists(os.path.join(ARTIFACTS, "console-rep-alert.png")))
            self.assertEqual(st.stop(st.worker), 0)
            self.assertEqual(st.stop(st.gateway), 0)
            st.check_sanitizers()


if __name__ == "__main__":
    unittest.main(verbosity=2)
