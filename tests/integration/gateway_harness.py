"""Helpers for the gateway's tests: a Stack with a running cadence-gateway, tokens made with
`cadence token add`, webhook secrets, HTTP calls, signatures, and an SSE reader."""
import base64
import hashlib
import hmac
import http.client
import json
import os
import socket
import subprocess
import time

from harness import Stack, binary, wait_for  # noqa: F401

SECRETS = {"segment": "seg-secret-1", "mautic": "mautic-secret-2", "crm": "crm-secret-3"}


def add_token(tokens_file, role, rep=None, tz=None):
    """Makes a token with the real CLI; returns the token text."""
    argv = [binary("cadence"), "token", "add", "--role", role] + (["--rep", rep] if rep else [])
    argv += ["--timezone", tz] if tz else []
    out = subprocess.run(argv, capture_output=True, text=True, check=True,
                         env=dict(os.environ, CADENCE_TOKENS_FILE=tokens_file), timeout=30)
    return out.stdout.strip()


class GatewayStack(Stack):
    """Redis + devbroker + a gateway with tokens for rep.ana, rep.bob, rep.cy (time zone
    Pacific/Kiritimati, UTC+14), a manager and ingest."""

    def start_gateway(self, partitions=2, extra_env=None, worker=False):
        self.start_redis()
        self.start_devbroker(partitions=partitions)
        self.tokens_file = os.path.join(self.dir, "tokens")
        self.tokens = {
            "ana": add_token(self.tokens_file, "rep", "rep.ana"),
            "bob": add_token(self.tokens_file, "rep", "rep.bob"),
            "cy": add_token(self.tokens_file, "rep", "rep.cy", tz="Pacific/Kiritimati"),
            "manager": add_token(self.tokens_file, "manager"),
            "ingest": add_token(self.tokens_file, "ingest"),
        }
        self.secrets_file = os.path.join(self.dir, "secrets")
        with open(self.secrets_file, "w") as f:
            for k, v in SECRETS.items():
                f.write(f"{k} {v}\n")
        env = self.env(CADENCE_TOKENS_FILE=self.tokens_file,
                       CADENCE_WEBHOOK_SECRETS=self.secrets_file,
                       CADENCE_SCHEMAS_DIR=os.path.join(os.environ.get("CADENCE_SOURCE_DIR", "."), "schemas"),
                       CADENCE_SESSION_TIMEOUT_MS=6000, **(extra_env or {}))
        self.gw_env = env
        self.gw_port = int(env["CADENCE_HTTP_ADDR"].rsplit(":", 1)[1])
        self.gateway = self.spawn("gateway", [binary("cadence-gateway")], env=env)
        wait_for(lambda: self.healthy(), timeout=30, what="gateway /healthz 200")
        if worker:
            wenv = self.env(CADENCE_PLAYBOOK=os.path.join(os.environ.get("CADENCE_SOURCE_DIR", "."),
                                                          "examples/playbook.json"),
                            CADENCE_SESSION_TIMEOUT_MS=6000)
            self.worker = self.spawn("worker", [binary("cadence-worker")], env=wenv)
            wport = int(wenv["CADENCE_HTTP_ADDR"].rsplit(":", 1)[1])
            wait_for(lambda: self.get_status(wport, "/healthz") == 200, timeout=30,
                     what="worker /healthz 200")
        return self.gateway

    def get_status(self, port, path):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", path)
            return c.getresponse().status
        except OSError:
            return None

    def healthy(self):
        if self.gateway.poll() is not None:
            raise AssertionError("gateway exited: " + self.log_of(self.gateway))
        return self.get_status(self.gw_port, "/healthz") == 200

    def request(self, method, path, body=None, token=None, headers=None, raw=False):
        """Returns (status, parsed JSON body or text, headers)."""
        c = http.client.HTTPConnection("127.0.0.1", self.gw_port, timeout=30)
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        if body is not None:
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        if raw:
            return r.status, data, dict(r.getheaders())
        try:
            return r.status, json.loads(data), dict(r.getheaders())
        except ValueError:
            return r.status, data.decode("utf-8", "replace"), dict(r.getheaders())

    def metric(self, name, labels=""):
        _, text, _ = self.request("GET", "/metrics")
        total = 0.0
        for line in text.splitlines():
            if (line.startswith(name + "{") or line.startswith(name + " ")) and labels in line:
                total += float(line.rsplit(" ", 1)[1])
        return total


def cadence_signature(secret, body, t=None):
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def segment_signature(secret, body):
    return hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def mautic_signature(secret, body):
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class SSEReader:
    """A raw-socket SSE client: reads events (id, event, data) with deadlines."""

    def __init__(self, port, token, last_event_id=None, query=""):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        hdrs = [f"GET /v1/alerts/stream{query} HTTP/1.1", f"Host: 127.0.0.1:{port}",
                f"Authorization: Bearer {token}", "Accept: text/event-stream"]
        if last_event_id:
            hdrs.append(f"Last-Event-ID: {last_event_id}")
        self.sock.sendall(("\r\n".join(hdrs) + "\r\n\r\n").encode())
        self.buf = b""
        self.status = None
        self.text = ""
        self._read_headers()

    def _recv(self, timeout):
        self.sock.settimeout(max(timeout, 0.01))
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return False
        if not chunk:
            raise EOFError("stream closed")
        self.buf += chunk
        return True

    def _read_headers(self):
        deadline = time.monotonic() + 10
        while b"\r\n\r\n" not in self.buf:
            if time.monotonic() > deadline:
                raise AssertionError("no SSE response headers")
            self._recv(deadline - time.monotonic())
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.status = int(head.split(b" ")[1])
        self.headers = head.decode()
        self.chunked = b"chunked" in head.lower()

    def _dechunk(self):
        """Moves complete chunks from buf to text."""
        if not self.chunked:
            self.text += self.buf.decode()
            self.buf = b""
            return
        while True:
            if b"\r\n" not in self.buf:
                return
            size_line, rest = self.buf.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            if len(rest) < size + 2:
                return
            self.text += rest[:size].decode()
            self.buf = rest[size + 2:]
            if size == 0:
                raise EOFError("stream ended")

    def events(self, n, timeout=10.0):
        """Waits for n events; returns them as dicts (id, event, data)."""
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            self._dechunk()
            while "\n\n" in self.text and len(out) < n:
                block, self.text = self.text.split("\n\n", 1)
                ev = {}
                for line in block.split("\n"):
                    if line.startswith(":") or not line:
                        continue
                    k, _, v = line.partition(":")
                    v = v[1:] if v.startswith(" ") else v
                    ev[k] = ev[k] + "\n" + v if k in ev and k == "data" else v
                if "data" in ev:
                    out.append(ev)
            if len(out) >= n:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"got {len(out)} of {n} SSE events in {timeout}s: {out}")
            self._recv(min(0.2, deadline - time.monotonic()))
        return out

    def close(self):
        self.sock.close()
