"""scripts/bench-apply: drives the real apply script (common/store/lua/apply_event.lua) with the
arguments the store sends, so a change to the script's contract that the bench did not follow
fails here (every apply must answer "ok"), and the figures it prints are all there: the apply,
its arguments alone, the price of one call from a script, and the calls inside an apply."""
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import SOURCE_DIR  # noqa: E402

BENCH = os.path.join(SOURCE_DIR, "scripts", "bench-apply")


def run(*args, **env):
    return subprocess.run(["/usr/bin/python3", BENCH, *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


class BenchApplyTest(unittest.TestCase):
    def test_every_apply_is_applied_and_every_figure_printed(self):
        r = run("40", "400")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"baseline +one-SET script: Redis CPU [0-9.]+ us per call")
        self.assertRegex(r.stdout, r"apply +[0-9.]+ us per apply = [0-9.]+ baseline calls")
        self.assertRegex(r.stdout, r"args only +[0-9.]+ us")
        # a call outcome's apply, as the worker sends it: the lead and the new task written,
        # the old task dropped, two counters, one timeline entry
        calls = dict((k, float(v)) for k, v in re.findall(r"(\w+) ([0-9.]+)",
                                                           r.stdout.split("calls inside each apply:")[1]))
        self.assertEqual(calls["hincrby"], 2.0, r.stdout)
        self.assertEqual(calls["lpush"], 1.0, r.stdout)
        self.assertEqual(calls["hmget"], 1.0, r.stdout)
        self.assertEqual(calls["hset"], 2.0, r.stdout)

    def test_a_script_that_refuses_the_apply_fails_the_bench(self):
        # a script that answers with a conflict, as a script whose contract moved would
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"bench-apply-refuse-{os.getpid()}.lua")
        with open(path, "w") as f:
            f.write("return {'conflict', '0'}\n")
        try:
            r = run("10", "50", SCRIPT=path)
        finally:
            os.unlink(path)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("was not applied", r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
