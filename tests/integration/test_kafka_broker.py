"""scripts/kafka-broker: a real Apache Kafka broker (KRaft) with every topic of the contract,
its bootstrap address on the first line, a clean stop on SIGTERM, and a restart on the same
directory that keeps the data."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from real_kafka import Broker, contract_topics  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402


class KafkaBrokerScript(unittest.TestCase):
    def test_topics_round_trip_clean_stop_and_restart(self):
        b = Broker(partitions=3)
        try:
            t0 = time.monotonic()
            bootstrap = b.start()
            print(f"broker ready in {time.monotonic() - t0:.1f}s on {bootstrap}", file=sys.stderr)
            self.assertRegex(bootstrap, r"^127\.0\.0\.1:\d+$")

            # Exactly the topics of the contract (the C table's header), each with 3 partitions.
            from confluent_kafka.admin import AdminClient
            md = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10)
            want = contract_topics()
            self.assertIn("leads.v1", want)
            self.assertEqual(sorted(t for t in md.topics if not t.startswith("__")), sorted(want))
            for t in want:
                self.assertEqual(len(md.topics[t].partitions), 3, t)

            p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
            for i in range(20):
                p.produce("leads.v1", key=f"k{i}", value=f"v{i}")
            self.assertEqual(p.flush(30), 0)
            del p

            t0 = time.monotonic()
            self.assertEqual(b.stop(), 0, "SIGTERM is a clean stop")
            print(f"clean stop in {time.monotonic() - t0:.1f}s", file=sys.stderr)
            self.assertFalse(os.path.exists(os.path.join(b.dir, "broker.pid")))

            self.assertEqual(b.start(), bootstrap, "a restart on the same directory keeps the port")
            c = Consumer({"bootstrap.servers": bootstrap, "group.id": "script-test",
                          "auto.offset.reset": "earliest", "enable.auto.commit": False})
            c.assign([TopicPartition("leads.v1", i, 0) for i in range(3)])
            got = set()
            deadline = time.monotonic() + 30
            while len(got) < 20 and time.monotonic() < deadline:
                m = c.poll(0.5)
                if m is not None and not m.error():
                    got.add(m.value().decode())
            c.close()
            self.assertEqual(got, {f"v{i}" for i in range(20)}, "the restart kept every message")
            self.assertEqual(b.stop(), 0)
        except Exception:
            sys.stderr.write(b.tail())
            raise
        finally:
            b.remove()


if __name__ == "__main__":
    unittest.main(verbosity=2)
