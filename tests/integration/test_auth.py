"""The documented security settings against real servers: Redis AUTH as an ACL user
(CADENCE_REDIS_URL=redis://user:password@host:port) and Kafka SASL/PLAIN (CADENCE_KAFKA_CONFIG
with security.protocol=SASL_PLAINTEXT, sasl.mechanism=PLAIN, sasl.username, sasl.password)
against Apache Kafka (scripts/kafka-broker --sasl-plain). A worker applies an event through
both; with a wrong password for either, it is not ready and says why."""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import SOURCE_DIR, Stack, binary, free_port, http_get, metric, wait_for, wait_processed  # noqa: E402
from real_kafka import Broker  # noqa: E402
from test_worker import Feed, lead  # noqa: E402


class Auth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = Broker(partitions=2, extra_args=["--sasl-plain", "cadence-svc:k-secret"])
        try:
            cls.broker.start()
        except Exception:
            cls.broker.remove()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()
        cls.broker.remove()

    def start_acl_redis(self, st):
        st.redis_port = free_port()
        st.spawn("redis", ["redis-server", "--port", str(st.redis_port), "--bind", "127.0.0.1",
                           "--save", "", "--appendonly", "no", "--dir", st.dir,
                           "--user", "cadence", "on", ">r-secret", "~*", "&*", "+@all",
                           "--user", "default", "off"])

        def up():
            r = subprocess.run(["redis-cli", "-p", str(st.redis_port), "--user", "cadence", "--pass", "r-secret",
                                "--no-auth-warning", "ping"], capture_output=True, text=True)
            return r.stdout.strip() == "PONG"
        wait_for(up, what="redis-server with an ACL user")
        r = subprocess.run(["redis-cli", "-p", str(st.redis_port), "ping"], capture_output=True, text=True)
        self.assertIn("NOAUTH", r.stdout + r.stderr, "the default user must be off")

    def kafka_conf(self, st, password):
        path = os.path.join(st.dir, f"kafka-{password}.conf")
        with open(path, "w") as f:
            f.write("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n"
                    f"sasl.username=cadence-svc\nsasl.password={password}\n")
        return path

    def worker(self, st, name, redis_password, kafka_password):
        env = st.env(CADENCE_KAFKA_BROKERS=self.broker.lines["sasl_bootstrap"],
                     CADENCE_KAFKA_CONFIG=self.kafka_conf(st, kafka_password),
                     CADENCE_REDIS_URL=f"redis://cadence:{redis_password}@127.0.0.1:{st.redis_port}",
                     CADENCE_SCHEMAS_DIR=os.path.join(SOURCE_DIR, "schemas"),
                     CADENCE_PLAYBOOK=os.path.join(SOURCE_DIR, "examples", "playbook.json"),
                     CADENCE_SESSION_TIMEOUT_MS=6000)
        p = st.spawn(name, [binary("cadence-worker")], env=env)
        p.http_addr = env["CADENCE_HTTP_ADDR"]
        return p

    def test_a_worker_applies_events_through_redis_acl_and_kafka_sasl_plain(self):
        with Stack("auth") as st:
            self.start_acl_redis(st)
            st.bootstrap = self.broker.bootstrap  # the plain listener, for the test's own clients
            w = self.worker(st, "worker", "r-secret", "k-secret")
            wait_for(lambda: w.poll() is None and http_get(w.http_addr, "/readyz")[0] == 200, timeout=60,
                     what="the worker ready through ACL auth and SASL/PLAIN")
            Feed(st.bootstrap).send([lead(9001)])
            wait_processed(st.bootstrap, timeout=60)
            self.assertGreaterEqual(metric(w.http_addr, "cadence_worker_events_total", 'topic="leads.v1",result="applied"'), 1)
            keys = subprocess.run(["redis-cli", "-p", str(st.redis_port), "--user", "cadence", "--pass", "r-secret",
                                   "--no-auth-warning", "--scan", "--pattern", "*lead:L-9001"],
                                  capture_output=True, text=True, check=True).stdout.split()
            self.assertEqual(len(keys), 1, "the lead's state is in Redis")
            self.assertEqual(st.stop(w), 0)
            st.check_sanitizers()

    def test_wrong_passwords_keep_the_worker_unready_and_say_why(self):
        with Stack("auth-bad") as st:
            self.start_acl_redis(st)
            bad_redis = self.worker(st, "worker-bad-redis", "wrong", "k-secret")
            wait_for(lambda: http_get(bad_redis.http_addr, "/livez")[0] == 200 or bad_redis.poll() is not None,
                     timeout=30, what="worker with a wrong Redis password alive or exited")
            if bad_redis.poll() is None:
                self.assertEqual(http_get(bad_redis.http_addr, "/readyz")[0], 503)
            wait_for(lambda: "WRONGPASS" in st.log_of(bad_redis) or "invalid username-password" in st.log_of(bad_redis),
                     timeout=30, what="the Redis auth error in the worker's log")
            bad_kafka = self.worker(st, "worker-bad-kafka", "r-secret", "wrong")
            wait_for(lambda: "Authentication failed" in st.log_of(bad_kafka) or "SASL" in st.log_of(bad_kafka),
                     timeout=60, what="the SASL authentication error in the worker's log")
            for p in (bad_redis, bad_kafka):
                if p.poll() is None:
                    st.stop(p)


if __name__ == "__main__":
    unittest.main(verbosity=2)
