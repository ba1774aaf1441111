"""Every service binary: --help documents the configuration table, a bad configuration value
stops start-up with a message naming the variable and exit status 2, and the README's
configuration table lists exactly the variables the code reads."""
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import SOURCE_DIR, Stack, binary, redis_cluster_wanted, wait_for  # noqa: E402

SERVICES = ["cadence-worker", "cadence-scheduler", "cadence-gateway", "cadence-loadgen"]


def run(argv, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADENCE_") or k in
           ("CADENCE_BIN_DIR", "CADENCE_SOURCE_DIR")}
    env.update(env_extra or {})
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=30)


def config_vars_from_help():
    out = run([binary("cadence-worker"), "--help"]).stdout
    return re.findall(r"^  (CADENCE_[A-Z_]+)", out, re.M)


class ServiceStartupTest(unittest.TestCase):
    def test_help_lists_the_configuration(self):
        for svc in SERVICES:
            r = run([binary(svc), "--help"])
            self.assertEqual(r.returncode, 0, svc)
            self.assertIn("CADENCE_KAFKA_BROKERS", r.stdout, svc)
            self.assertIn("CADENCE_REDIS_URL", r.stdout, svc)

    def test_bad_values_stop_start_up_naming_the_variable(self):
        cases = [("CADENCE_REDIS_URL", "http://nope"), ("CADENCE_LOG_LEVEL", "loud"),
                 ("CADENCE_HTTP_ADDR", "nocolon"), ("CADENCE_KAFKA_CONFIG", "/nonexistent.conf"),
                 ("CADENCE_SHARDS", "0")]
        for svc in SERVICES:
            for var, value in cases:
                r = run([binary(svc)], {var: value})
                self.assertEqual(r.returncode, 2, f"{svc} with {var}={value}: {r.stderr}")
                self.assertIn(var, r.stderr, f"{svc} with {var}={value}")

    def test_unknown_argument_is_a_usage_error(self):
        for svc in SERVICES + ["cadence-devbroker"]:
            r = run([binary(svc), "--no-such-flag"])
            self.assertEqual(r.returncode, 2, svc)
            self.assertIn("--no-such-flag", r.stderr, svc)

    def test_devbroker_refuses_bad_partitions(self):
        r = run([binary("cadence-devbroker"), "--partitions", "0"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("--partitions", r.stderr)

    def test_readme_documents_every_variable_and_no_other(self):
        with open(os.path.join(SOURCE_DIR, "README.md")) as f:
            readme = f.read()
        table = set(re.findall(r"^\| `(CADENCE_[A-Z_]+)` \|", readme, re.M))
        code = set(config_vars_from_help())
        self.assertTrue(code, "no variables found in --help")
        self.assertEqual(table, code, "README configuration table and config.c disagree")


if __name__ == "__main__":
    unittest.main(verbosity=2)


class RedisSettingsTest(unittest.TestCase):
    """The worker reads hash-max-listpack-value once connected and warns when a lead's hash
    cannot stay compact (redis/cadence.conf sets it); with the recommended setting it is quiet."""

    WARNING = "hash-max-listpack-value is below"

    @unittest.skipIf(redis_cluster_wanted(), "one redis-server is enough to read a setting")
    def test_the_worker_warns_about_a_redis_setting_that_costs_memory(self):
        with Stack("settings") as st:
            st.start_redis()
            st.start_devbroker()
            good = st.start_worker("worker-good")
            wait_for(lambda: "Redis settings checked" in st.log_of(good), timeout=20,
                     what="the worker's check of the Redis settings")
            st.redis_cli("CONFIG", "SET", "hash-max-listpack-value", "64")
            bad = st.start_worker("worker-bad")
            wait_for(lambda: self.WARNING in st.log_of(bad), timeout=20,
                     what="the worker's warning about hash-max-listpack-value")
            self.assertIn('"recommended":1024', st.log_of(bad).replace(" ", ""))
            self.assertNotIn(self.WARNING, st.log_of(good))
