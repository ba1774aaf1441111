#!/usr/bin/python3
"""bench_stats — how long GET /v1/stats takes over a full history, against a same-run baseline.

Fills Redis with the daily counter hashes of `--reps` reps over `--days` days on every shard
(`--fields` counters per rep, shard and day: a rep's leads spread over all shards), then times
GET /v1/stats for the team over 7, 30, 92 and 366 days and for one rep over 366 days (median of
5 requests each). Baseline: the same HGETALLs sent by redis-cli in one pipeline (`--pipe`
timing of the raw reads, no fold, no HTTP), i.e. what Redis alone needs to hand the fields out.

Run (release build recommended):
    cmake --preset release && cmake --build --preset release -j
    CADENCE_BIN_DIR=build/release python3 tests/bench/bench_stats.py [--reps 50] [--fields 20]
"""
import argparse
import datetime
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
os.environ.setdefault("CADENCE_SOURCE_DIR", os.path.abspath(os.path.join(HERE, "..", "..")))
from gateway_harness import GatewayStack  # noqa: E402

COUNTERS = ["dials", "connects", "voicemails_left", "meetings", "callbacks_received",
            "first_contacts", "attempts_before_first_contact", "won_deals", "follow_ups_to_close"]


def counter(i):
    if i < len(COUNTERS):
        return COUNTERS[i]
    j = i - len(COUNTERS)
    return f"{['attempts', 'connects', 'wins'][j % 3]}:zero_to_ten:{j // 3}:cold"


def resp(*args):
    out = [f"*{len(args)}\r\n"]
    for a in args:
        b = str(a)
        out.append(f"${len(b.encode())}\r\n{b}\r\n")
    return "".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--fields", type=int, default=20)
    ap.add_argument("--days", type=int, default=366)
    ap.add_argument("--shards", type=int, default=16)
    a = ap.parse_args()
    end = datetime.date(2026, 11, 30)
    days = [(end - datetime.timedelta(days=d)).isoformat() for d in range(a.days)]
    with GatewayStack("bench-stats") as st:
        st.start_gateway(extra_env={"CADENCE_SHARDS": a.shards})
        t0 = time.time()
        cmds = []
        for day in days:
            for s in range(a.shards):
                args = ["HSET", f"cad:{{s{s}}}:stats:{day}"]
                for r in range(a.reps):
                    for i in range(a.fields):
                        args += [f"rep.{r}|{counter(i)}", (r + i) % 7 + 1]
                cmds.append(resp(*args))
        subprocess.run(["redis-cli", "-p", str(st.redis_port), "--pipe"], input="".join(cmds),
                       text=True, check=True, capture_output=True)
        fields = a.days * a.shards * a.reps * a.fields
        print(f"filled {a.days * a.shards} hashes, {fields} fields in {time.time() - t0:.1f} s; "
              f"used_memory {st.redis_cli('INFO', 'memory').split('used_memory_human:')[1].split()[0]}")

        def timed(query, token):
            ts = []
            for _ in range(5):
                t = time.perf_counter()
                status, body, _ = st.request("GET", "/v1/stats" + query, token=token)
                ts.append(time.perf_counter() - t)
                assert status == 200, body
            return statistics.median(ts) * 1000

        def baseline(n):
            reads = "".join(resp("HGETALL", f"cad:{{s{s}}}:stats:{day}")
                            for day in days[:n] for s in range(a.shards))
            ts = []
            for _ in range(5):
                t = time.perf_counter()
                subprocess.run(["redis-cli", "-p", str(st.redis_port), "--pipe"], input=reads,
                               text=True, check=True, capture_output=True)
                ts.append(time.perf_counter() - t)
            return statistics.median(ts) * 1000

        print(f"| range | hashes | fields read | GET /v1/stats p50 | redis-cli --pipe HGETALLs p50 |")
        print("|---|---|---|---|---|")
        for n in (7, 30, 92, 366):
            if n > a.days:
                continue
            q = f"?from={days[n - 1]}&to={days[0]}"
            ms = timed(q, st.tokens["manager"])
            print(f"| team, {n} days | {n * a.shards} | {n * a.shards * a.reps * a.fields} | "
                  f"{ms:.0f} ms | {baseline(n):.0f} ms |", flush=True)
        n = min(366, a.days)
        ms = timed(f"?from={days[n - 1]}&to={days[0]}&rep=rep.1", st.tokens["manager"])
        print(f"| one rep, {n} days | {n * a.shards} | {n * a.shards * a.reps * a.fields} | {ms:.0f} ms | — |")
        st.stop(st.gateway)


if __name__ == "__main__":
    main()
