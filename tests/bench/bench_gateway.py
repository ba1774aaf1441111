#!/usr/bin/python3
"""bench_gateway — cadence-gateway throughput and fan-out, each with a same-run baseline.

1. Ingest: `wrk` POSTs one lead event per request (unique event ids, an ingest bearer token) to
   /v1/events/leads — every 202 means Kafka (the devbroker) acknowledged the event. Baseline:
   the same wrk settings against /healthz on the same gateway (no auth, no Kafka), i.e. what
   evhttp itself can do on this machine.
2. SSE fan-out: N reps (default 1,000), one SSE connection each, one token each. One alert per
   rep is published to alerts.v1 in a single burst; we time, per client, (a) from the moment the
   entry was appended to the rep's Redis stream (its stream id's ms) to delivery, and (b) from
   the Kafka publish to delivery, and report p50 / p99 / max and the time until *all* clients
   had theirs. Baseline: the same burst XADDed straight into the streams with redis-cli-like
   pipelining (no Kafka, no fan-in), timed from the XADD.

Run (release build recommended):
    cmake --preset release && cmake --build --preset release -j
    CADENCE_BIN_DIR=build/release python3 tests/bench/bench_gateway.py [--reps 1000] [--seconds 10]
"""
import argparse
import asyncio
import hashlib
import json
import os
import re
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
os.environ.setdefault("CADENCE_SOURCE_DIR", os.path.abspath(os.path.join(HERE, "..", "..")))
from gateway_harness import GatewayStack  # noqa: E402
from harness import SOURCE_DIR  # noqa: E402

WRK_LUA = r"""
local n = 0
local token = os.getenv("BENCH_TOKEN")
local tid = tostring(math.random(1, 1e9))
request = function()
  n = n + 1
  local id = "bench-" .. tid .. "-" .. n
  local body = '{"event_id":"' .. id .. '","type":"lead","occurred_at":"2026-11-02T14:00:00Z",' ..
               '"lead_id":"L-' .. (n % 5000) .. '","rep_id":"rep.bench","lead_type":"cold","potential":60}'
  return wrk.format("POST", "/v1/events/leads",
                    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end
done = function(summary, latency, requests)
  io.write(string.format("non2xx=%d\n", summary.errors.status))
end
"""


def wrk(url, seconds, conns, threads, script=None, env=None):
    argv = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{seconds}s", "--latency"]
    if script:
        argv += ["-s", script]
    out = subprocess.run(argv + [url], capture_output=True, text=True, env=env, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+([\d.]+\w+)", out).group(1)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, p50, p99, int(non2xx.group(1)) if non2xx else 0, " ".join(argv + [url])


class SSEClient:
    def __init__(self, rep):
        self.rep = rep
        self.got = {}  # alert_id → (stream id ms, receive time ms)
        self.ready = asyncio.Event()

    async def run(self, port, token):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write((f"GET /v1/alerts/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                      "Accept: text/event-stream\r\n\r\n").encode())
        await writer.drain()
        self.writer = writer
        buf = b""
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                return
            now = time.time() * 1000
            buf += chunk
            if b"connected as" in buf:
                self.ready.set()
            for m in re.finditer(rb"id: (\d+)-\d+\nevent: call_now\ndata: (.*?)\n\n", buf):
                alert = json.loads(m.group(2))
                self.got.setdefault(alert["alert_id"], (int(m.group(1)), now))
            cut = buf.rfind(b"\n\n")
            if cut >= 0:
                buf = buf[cut + 2:]


def alert_for(rep, round_no):
    with open(os.path.join(SOURCE_DIR, "tests/fixtures/valid/alerts.v1/former_no_revisit.json")) as f:
        a = json.load(f)
    aid = f"alert:bench:{round_no}:{rep}"
    a.update(event_id=aid, alert_id=aid, rep_id=rep, lead_id=f"L-{rep}")
    return a


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


async def fanout(st, reps, rounds):
    tokens = {}
    with open(st.tokens_file, "a") as f:
        for i in range(reps):
            rep = f"rep.b{i:04d}"
            tok = secrets.token_urlsafe(32)
            tokens[rep] = tok
            f.write(f"{hashlib.sha256(tok.encode()).hexdigest()} rep {rep}\n")
    st.gateway.send_signal(1)  # SIGHUP: load the new tokens
    await asyncio.sleep(0.5)
    clients = [SSEClient(rep) for rep in tokens]
    tasks = [asyncio.create_task(c.run(st.gw_port, tokens[c.rep])) for c in clients]
    await asyncio.wait_for(asyncio.gather(*(c.ready.wait() for c in clients)), 60)
    connected = st.metric("cadence_gateway_sse_clients")
    results = []
    for r in range(rounds + 1):
        kafka = r < rounds  # the last round is the baseline: XADD straight into the streams
        alerts = [alert_for(c.rep, r) for c in clients]
        t0 = time.time() * 1000
        if kafka:
            lines = "".join(f"{a['lead_id']}\t{json.dumps(a, separators=(',', ':'))}\n" for a in alerts)
            subprocess.run(["kcat", "-b", st.bootstrap, "-P", "-t", "alerts.v1", "-K", "\t", "-z", "none"],
                           input=lines, text=True, check=True, timeout=60)
        else:
            pipe = "".join(
                "XADD cad:{r:%s}:alerts * alert %s\n" % (a["rep_id"], json.dumps(json.dumps(a, separators=(",", ":"))))
                for a in alerts)
            subprocess.run(["redis-cli", "-p", str(st.redis_port)], input=pipe, text=True, check=True,
                           capture_output=True, timeout=60)
        deadline = time.time() + 60
        while time.time() < deadline and not all(a["alert_id"] in c.got for c, a in zip(clients, alerts)):
            await asyncio.sleep(0.01)
        got = [c.got.get(a["alert_id"]) for c, a in zip(clients, alerts)]
        missing = sum(1 for g in got if g is None)
        got = [g for g in got if g]
        from_stream = [recv - sid for sid, recv in got]
        from_publish = [recv - t0 for _, recv in got]
        results.append({
            "round": r, "path": "kafka→fan-in→stream→SSE" if kafka else "baseline: XADD→SSE",
            "delivered": len(got), "missing": missing,
            "stream_to_client_ms": {"p50": pct(from_stream, 50), "p99": pct(from_stream, 99), "max": max(from_stream)},
            "publish_to_client_ms": {"p50": pct(from_publish, 50), "p99": pct(from_publish, 99),
                                     "all": max(from_publish)},
        })
    for c in clients:
        c.writer.close()
    for t in tasks:
        t.cancel()
    return connected, results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if not shutil.which("wrk"):
        sys.exit("bench_gateway: needs wrk (apt-get install wrk)")
    with GatewayStack("bench-gateway") as st:
        st.start_gateway(partitions=8, extra_env={"CADENCE_LOG_LEVEL": "warn"})
        print(f"# cadence-gateway {os.environ.get('CADENCE_BIN_DIR', '')}, {os.cpu_count()} CPUs", flush=True)
        lua = os.path.join(st.dir, "ingest.lua")
        with open(lua, "w") as f:
            f.write(WRK_LUA)
        base = f"http://127.0.0.1:{st.gw_port}"
        env = dict(os.environ, BENCH_TOKEN=st.tokens["ingest"])
        h = wrk(base + "/healthz", args.seconds, args.connections, args.threads)
        i = wrk(base + "/v1/events/leads", args.seconds, args.connections, args.threads, lua, env)
        print(f"baseline GET /healthz            : {h[0]:>9.0f} req/s  p50 {h[1]:>8}  p99 {h[2]:>8}  (non-2xx {h[3]})")
        print(f"ingest POST /v1/events/leads     : {i[0]:>9.0f} req/s  p50 {i[1]:>8}  p99 {i[2]:>8}  (non-2xx {i[3]})")
        print(f"  = {i[0] / h[0] * 100:.0f}% of the baseline; each 202 waited for the Kafka ack")
        print(f"  command: {i[4]}   (lua script: see WRK_LUA in this file)")
        connected, results = asyncio.run(fanout(st, args.reps, args.rounds))
        print(f"SSE fan-out: {args.reps} reps, one client each ({connected:.0f} connected per /metrics)")
        for r in results:
            s, p = r["stream_to_client_ms"], r["publish_to_client_ms"]
            print(f"  {r['path']:<26} delivered {r['delivered']}/{args.reps}  "
                  f"stream→client p50 {s['p50']:.0f} ms p99 {s['p99']:.0f} ms max {s['max']:.0f} ms | "
                  f"publish→client p50 {p['p50']:.0f} ms p99 {p['p99']:.0f} ms all {p['all']:.0f} ms")
        print(f"# reproduce: CADENCE_BIN_DIR={os.environ.get('CADENCE_BIN_DIR', 'build/release')} "
              f"python3 tests/bench/bench_gateway.py --reps {args.reps} --seconds {args.seconds}")
        st.stop(st.gateway)


if __name__ == "__main__":
    main()
