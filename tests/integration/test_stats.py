"""The managers' numbers end to end: a known history (stats_history.py) goes through Kafka
(kcat) → cadence-worker → Redis → cadence-gateway, and GET /v1/stats must answer every figure:
the team's measures, activity per local day, per cadence step and lead type, per rep; a range
that leaves days out; one rep (?rep=); a rep token reading its own numbers only; 400 for bad
parameters; and the daily hashes expiring after CADENCE_STATS_RETENTION_DAYS."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import stats_history as H  # noqa: E402
from gateway_harness import GatewayStack  # noqa: E402


class StatsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.st = GatewayStack("stats")
        cls.st.__enter__()
        cls.st.start_gateway(worker=True)
        cls.t = cls.st.tokens
        H.feed(cls.st, cls.t["manager"])

    @classmethod
    def tearDownClass(cls):
        try:
            assert cls.st.stop(cls.st.worker) == 0
            assert cls.st.stop(cls.st.gateway) == 0
            cls.st.check_sanitizers()
        finally:
            cls.st.__exit__(None, None, None)

    def stats(self, query="", token=None):
        status, body, _ = self.st.request("GET", "/v1/stats" + query, token=token or self.t["manager"])
        self.assertEqual(status, 200, body)
        return body

    def assert_measures(self, got, want, where):
        for k, v in want.items():
            if v is None:
                self.assertIsNone(got[k], f"{where}: {k}")
            elif isinstance(v, float):
                self.assertAlmostEqual(got[k], v, msg=f"{where}: {k}")
            else:
                self.assertEqual(got[k], v, f"{where}: {k}")

    def test_the_whole_range_answers_every_figure(self):
        b = self.stats(f"?from={H.FROM}&to={H.TO}")
        self.assertEqual((b["from"], b["to"], b["days"], b["rep"]), (H.FROM, H.TO, 8, None))
        self.assert_measures(b["measures"], H.MEASURES, "team")
        self.assertEqual({d["day"]: (d["dials"], d["connects"], d["voicemails"], d["meetings"])
                          for d in b["by_day"]}, H.BY_DAY)
        self.assertEqual([d["day"] for d in b["by_day"]], sorted(H.BY_DAY))
        self.assertEqual(set(b["by_rep"]), set(H.BY_REP))
        for rep, want in H.BY_REP.items():
            self.assert_measures(b["by_rep"][rep], want, rep)
        steps = {(r["cadence"], r["step"], r["lead_type"]): (r["attempts"], r["connects"], r["wins"])
                 for r in b["by_step"]}
        self.assertEqual(steps, H.BY_STEP)
        for r in b["by_step"]:
            self.assertLessEqual(r["connect_rate"], 1.0, r)
            self.assertAlmostEqual(r["connect_rate"], r["connects"] / r["attempts"])
            self.assertAlmostEqual(r["win_rate"], r["wins"] / r["attempts"])
        for lt, want in H.BY_LEAD_TYPE.items():
            for k, v in want.items():
                self.assertEqual(b["by_lead_type"][lt][k], v, f"{lt}.{k}")
        self.assertEqual(b["totals"]["dials"], 10)

    def test_a_range_that_leaves_days_out(self):
        b = self.stats(f"?from={H.MIDDLE[0]}&to={H.MIDDLE[1]}")
        self.assertEqual(b["days"], 3)
        self.assert_measures(b["measures"], H.MIDDLE_MEASURES, "middle")
        self.assertEqual([(d["day"], d["dials"]) for d in b["by_day"]],
                         [("2026-11-03", 2), ("2026-11-04", 2), ("2026-11-05", 1)])
        # the 22:30 local no_answer (03:30Z on the 5th) is on the 4th
        b = self.stats("?from=2026-11-05&to=2026-11-05")
        self.assertEqual(b["measures"]["dials"], 1)
        b = self.stats("?from=2026-11-07&to=2026-11-08")
        self.assertEqual(b["measures"]["dials"], 0)
        self.assertIsNone(b["measures"]["connect_rate"])
        self.assertEqual((b["by_rep"], b["by_step"]), ({}, []))

    def test_one_rep(self):
        b = self.stats(f"?from={H.FROM}&to={H.TO}&rep=rep.bob")
        self.assertEqual(b["rep"], "rep.bob")
        self.assertEqual(list(b["by_rep"]), ["rep.bob"])
        self.assert_measures(b["measures"], H.BY_REP["rep.bob"], "rep.bob")
        self.assertEqual({(r["cadence"], r["step"]) for r in b["by_step"]},
                         {("zero_to_ten_warm", "0"), ("zero_to_ten_warm", "1")})

    def test_a_rep_reads_only_their_own_numbers(self):
        b = self.stats(f"?from={H.FROM}&to={H.TO}", token=self.t["ana"])
        self.assertEqual(b["rep"], "rep.ana")
        self.assertEqual(list(b["by_rep"]), ["rep.ana"])
        self.assert_measures(b["measures"], H.BY_REP["rep.ana"], "ana's own")
        self.assertEqual(self.stats(f"?from={H.FROM}&to={H.TO}&rep=rep.ana", token=self.t["ana"])["rep"],
                         "rep.ana")
        status, body, _ = self.st.request("GET", f"/v1/stats?from={H.FROM}&rep=rep.bob", token=self.t["ana"])
        self.assertEqual(status, 403, body)
        self.assertIn("error", body)
        self.assertEqual(self.st.request("GET", "/v1/stats", token=self.t["ingest"])[0], 403)
        self.assertEqual(self.st.request("GET", "/v1/stats")[0], 401)

    def test_bad_parameters_are_400_with_a_json_error(self):
        for q in ["?from=2026-02-30", "?to=2026-11", "?from=2026-11-09&to=2026-11-02",
                  "?from=2024-01-01&to=2026-11-02", "?rep=rep%20ana", "?day=2026-11-02",
                  "?from=2026-11-02&from=2026-11-03", "?to=10000-01-01", "?from=1969-12-31"]:
            status, body, _ = self.st.request("GET", "/v1/stats" + q, token=self.t["manager"])
            self.assertEqual(status, 400, q)
            self.assertIsInstance(body.get("error"), str, q)
            self.assertNotIn("/", body["error"].replace("YYYY-MM-DD", ""), q)

    def test_the_default_range_is_the_last_30_days(self):
        b = self.stats()
        self.assertEqual(b["days"], 30)
        self.assertEqual(len(b["by_day"]), 30)

    def test_daily_hashes_expire_after_the_retention(self):
        keys = self.st.redis_cli("KEYS", "cad:*:stats:2026-11-02").split()
        self.assertTrue(keys)
        for k in keys:
            # 2026-11-02 is day 20759; default retention 400 days (+ 2)
            self.assertEqual(int(self.st.redis_cli("EXPIRETIME", k)), (20759 + 402) * 86400, k)


if __name__ == "__main__":
    unittest.main(verbosity=2)
