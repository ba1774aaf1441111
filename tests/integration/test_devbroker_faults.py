"""cadence-devbroker's fault control: SIGUSR1 takes the mock broker down (clients are refused),
SIGUSR2 brings it up with injected request errors, which a producer retries through."""
import os
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import Stack, wait_for  # noqa: E402

from confluent_kafka import Producer  # noqa: E402


def metadata_ok(bootstrap):
    r = subprocess.run(["kcat", "-b", bootstrap, "-L", "-m", "2"], capture_output=True, text=True, timeout=30)
    return r.returncode == 0 and "leads.v1" in r.stdout


class DevbrokerFaults(unittest.TestCase):
    def test_down_refuses_clients_and_up_injects_errors_that_are_retried(self):
        os.environ.pop("CADENCE_TEST_BROKER", None)
        with Stack("devbroker-faults") as st:
            p = st.start_devbroker(partitions=2)
            self.assertTrue(metadata_ok(st.bootstrap))
            p.send_signal(signal.SIGUSR1)
            wait_for(lambda: "devbroker brokers down" in st.log_of(p), what="brokers down")
            self.assertFalse(metadata_ok(st.bootstrap), "a down broker must refuse clients")
            p.send_signal(signal.SIGUSR2)
            wait_for(lambda: "request errors injected" in st.log_of(p), what="brokers up")
            wait_for(lambda: metadata_ok(st.bootstrap), timeout=30, what="metadata after up")
            prod = Producer({"bootstrap.servers": st.bootstrap, "enable.idempotence": True})
            for i in range(5):
                prod.produce("leads.v1", key=f"k{i}", value=f"v{i}")
            self.assertEqual(prod.flush(30), 0, "produce retried through the injected errors")
            del prod
            got = subprocess.run(["kcat", "-b", st.bootstrap, "-C", "-t", "leads.v1", "-e", "-q", "-f", "%s\\n"],
                                 capture_output=True, text=True, timeout=30).stdout.split()
            self.assertEqual(sorted(got), [f"v{i}" for i in range(5)], "each message once")
            self.assertEqual(st.stop(p), 0)
            st.check_sanitizers()


if __name__ == "__main__":
    unittest.main(verbosity=2)
