"""The managers' statistics view in headless Chromium, end to end: the known history
(stats_history.py) goes through Kafka → worker → Redis → gateway; a manager picks its date
range in the console and sees every team figure, the per-rep table ("—" where a rep has no
data), the per-step table, charts whose axis labels all lie inside the drawing; a range that
leaves days out; an empty range; a bad range's message; rep.bob's queue and live alert feed
opened from the table; the same page at phone width. No source path appears on the page.

Needs /usr/bin/chromium and node/npm (scripts/install-deps); playwright-core is installed into
tests/browser/node_modules when missing. Screenshots: tests/artifacts/console-stats-*.png."""
import json
import os
import re
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import stats_history as H  # noqa: E402
from gateway_harness import GatewayStack  # noqa: E402
from harness import SOURCE_DIR, wait_for  # noqa: E402
from test_gateway_browser import ARTIFACTS, BROWSER_DIR, CHROMIUM, npm_deps  # noqa: E402

TASK = {"event_id": "task-st-bob-1", "type": "touch_due", "occurred_at": "2026-11-03T15:00:00Z",
        "task_id": "task-st-bob-1", "lead_id": "L-st-2", "rep_id": "rep.bob",
        "due_at": "2026-11-04T09:00:00-05:00", "channel": "call", "voicemail": False, "email": False,
        "objective": "first_time_call", "ftc_attempt": 3, "lead": {"first_name": "Blair"}}


def cells(rows, first):
    (row,) = [r for r in rows if r and r[0] == first]
    return row


class StatsBrowserTest(unittest.TestCase):
    @unittest.skipUnless(os.path.exists(CHROMIUM) and shutil.which("node") and shutil.which("npm"),
                         "needs chromium, node and npm (scripts/install-deps)")
    def test_a_manager_reads_the_numbers_of_a_range_and_opens_a_reps_queue(self):
        npm_deps()
        with GatewayStack("stats-browser") as st:
            st.start_gateway(worker=True)
            t = st.tokens
            H.feed(st, t["manager"])
            # rep.bob's queue as the scheduler leaves it (the scheduler is not part of this test)
            st.redis_cli("ZADD", "cad:{r:rep.bob}:queue", "1793800800000", TASK["task_id"])
            st.redis_cli("HSET", "cad:{r:rep.bob}:tasks", TASK["task_id"], json.dumps(TASK))
            # L-st-2 is a warm lead: its warm_inbound alert reaches rep.bob's feed
            wait_for(lambda: st.redis_cli("XLEN", "cad:{r:rep.bob}:alerts").strip() not in ("", "0"),
                     timeout=30, what="rep.bob's warm_inbound alert in the feed")

            out_path = os.path.join(st.dir, "browser.out")
            with open(out_path, "wb") as out:
                node = st.spawn("browser", ["node", os.path.join(BROWSER_DIR, "stats_test.mjs"),
                                            f"http://127.0.0.1:{st.gw_port}", t["manager"], ARTIFACTS],
                                stdout=out)
            rc = node.wait(timeout=180)
            with open(out_path) as f:
                output = f.read()
            self.assertEqual(rc, 0, output + st.log_of(node))
            r = json.loads([line for line in output.splitlines() if line.startswith("{")][-1])

            # the one 400 is the bad range's answer, asked for below (Chromium logs it)
            self.assertEqual([e for e in r["console_errors"] if "status of 400" not in e], [])
            self.assertEqual(len(r["console_errors"]), 1, r["console_errors"])
            # the team's measures over the whole range
            m = r["measures"]
            for label, value in [("Dials", "10"), ("Connects", "4"), ("Connect rate", "40.0 %"),
                                 ("Meetings booked", "1"), ("Won deals", "1"),
                                 ("Follow-ups to close, per won deal", "1.00"),
                                 ("Attempts before first contact", "1.50"),
                                 ("Callbacks per voicemail", "0.50")]:
                self.assertRegex(m, re.escape(label) + r"\s*\n\s*" + re.escape(value), label)
            # per rep, "—" where a rep has no data
            ana, bob = cells(r["reps"], "rep.ana"), cells(r["reps"], "rep.bob")
            self.assertEqual(ana[1:10], ["8", "3", "37.5 %", "2", "0.50", "1", "1", "2.00", "1.00"])
            self.assertEqual(bob[1:10], ["2", "1", "50.0 %", "0", "—", "0", "0", "1.00", "—"])
            # per step: every row of the history, connect rate never above 100 %
            steps = {(s[0], s[1], s[2]): (int(s[3]), int(s[4]), int(s[5])) for s in r["steps"]}
            want = {(c, "follow-up" if s == "follow_up" else s, lt): v for (c, s, lt), v in H.BY_STEP.items()}
            self.assertEqual(steps, want)
            (warm1,) = [s for s in r["steps"] if s[:2] == ["zero_to_ten_warm", "1"]]
            self.assertEqual(warm1[6:8], ["100.0 %", "0.0 %"])
            self.assertTrue(all(float(s[6].rstrip(" %")) <= 100 for s in r["steps"]), r["steps"])
            # charts: labelled axes, nothing clipped, at desktop and phone width
            for charts in (r["charts"], r["phone_charts"]):
                self.assertEqual(sorted(c["id"] for c in charts), ["activity-chart", "chart"])
                for c in charts:
                    self.assertEqual(c["clipped"], [], c)
                    self.assertEqual(len(c["axis_titles"]), 2, c)
                    self.assertLessEqual(c["width"], c["page_width"], c)
            self.assertIn("2026-11-03: 2 dials", r["activity_bars"])
            self.assertIn("2026-11-06: 1 connects", r["activity_bars"])
            self.assertLessEqual(r["phone_overflow"], 0, "no horizontal scrolling of the page at 390 px")
            # never a source path
            self.assertIsNone(re.search(r"\b(common|services|tests)/|\.(c|h|lua)\b", r["text"]), r["text"])
            # a range that leaves days out
            self.assertRegex(r["middle_measures"], r"Dials\s*\n\s*5\b")
            self.assertRegex(r["middle_measures"], r"Follow-ups to close, per won deal\s*\n\s*—")
            self.assertEqual(cells(r["middle_reps"], "rep.ana")[1], "4")
            # an empty range
            self.assertRegex(r["empty_measures"], r"Connect rate\s*\n\s*—")
            self.assertIn("No activity in this range —", r["empty_reps"][0][0])
            self.assertTrue(all("—" in c for c in r["empty_charts"]), r["empty_charts"])
            self.assertIn("from is after to", r["bad_range_error"])
            # rep.bob's queue and live feed, opened by the manager
            self.assertIn("Blair", r["rep_queue"][0][1])
            self.assertTrue(any("warm inbound" in a for a in r["rep_alerts"]), r["rep_alerts"])
            self.assertEqual(r["rep_feed_state"], "live")
            for name in ("console-stats-range.png", "console-stats-rep.png", "console-stats-phone.png"):
                self.assertTrue(os.path.exists(os.path.join(ARTIFACTS, name)), name)
            self.assertEqual(st.stop(st.worker), 0)
            self.assertEqual(st.stop(st.gateway), 0)
            st.check_sanitizers()


if __name__ == "__main__":
    unittest.main(verbosity=2)
