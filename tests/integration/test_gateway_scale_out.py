"""Two gateways side by side: they share the alerts.v1 consumer group, each alert is appended
once to its rep's Redis stream by whichever gateway consumed it, and a rep connected to either
gateway gets every alert, in stream order, exactly once."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from gateway_harness import GatewayStack, SSEReader  # noqa: E402
from harness import SOURCE_DIR, binary, free_port, wait_for  # noqa: E402


def alert(i):
    with open(os.path.join(SOURCE_DIR, "tests/fixtures/valid/alerts.v1/former_no_revisit.json")) as f:
        a = json.load(f)
    aid = f"alert:scale:{i}"
    a.update(event_id=aid, alert_id=aid, lead_id=f"L-scale-{i}", rep_id="rep.ana")
    return a


class GatewayScaleOutTest(unittest.TestCase):
    def test_two_gateways_serve_every_alert_of_a_rep_once(self):
        with GatewayStack("gateway-scale") as st:
            st.start_gateway(partitions=4)
            env2 = dict(st.gw_env, CADENCE_HTTP_ADDR=f"127.0.0.1:{free_port()}")
            port2 = int(env2["CADENCE_HTTP_ADDR"].rsplit(":", 1)[1])
            g2 = st.spawn("gateway2", [binary("cadence-gateway")], env=env2)
            wait_for(lambda: st.get_status(port2, "/healthz") == 200, timeout=30, what="second gateway up")
            on_1 = SSEReader(st.gw_port, st.tokens["ana"])
            on_2 = SSEReader(port2, st.tokens["ana"])
            alerts = [alert(i) for i in range(12)]
            # Keys spread over the partitions, so both gateways consume some once the group settles.
            st.kcat_produce("alerts.v1", [(a["lead_id"], a) for a in alerts])
            st.kcat_produce("alerts.v1", [(a["lead_id"], a) for a in alerts[:4]])  # re-deliveries
            want = [a["alert_id"] for a in alerts]
            for reader in (on_1, on_2):
                evs = reader.events(12, timeout=40)
                got = [json.loads(e["data"])["alert_id"] for e in evs]
                self.assertEqual(sorted(got), sorted(want))
                ids = [tuple(map(int, e["id"].split("-"))) for e in evs]
                self.assertEqual(ids, sorted(ids), "stream order")
            self.assertEqual(st.redis_cli("XLEN", "cad:{r:rep.ana}:alerts").strip(), "12")
            on_1.close()
            on_2.close()
            self.assertEqual(st.stop(g2), 0)
            self.assertEqual(st.stop(st.gateway), 0)
            st.check_sanitizers()


if __name__ == "__main__":
    unittest.main(verbosity=2)
