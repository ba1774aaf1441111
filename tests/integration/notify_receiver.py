"""A small HTTP receiver on loopback for the notifier's tests and benchmark: records every POST
(path, headers, body, arrival time) and answers from a per-path script of responses (then 200).
It can be stopped and started again on the same port to play a receiver that is down."""
import hashlib
import hmac
import http.server
import json
import socketserver
import threading
import time


class Receiver:
    def __init__(self, port=0, delay=0.0):
        self.lock = threading.Lock()
        self.requests = []   # dicts: path, headers, body (bytes), at (time.time()), status
        self.scripts = {}    # path -> list of (status, headers) answered first, in order
        self.delay = delay
        self.port = port
        self.server = None
        self.thread = None
        self.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, path, responses):
        with self.lock:
            self.scripts[path] = list(responses)

    def start(self):
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: the notifier reuses connections
            disable_nagle_algorithm = True  # headers and body written apart: no 40 ms stall

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                if rec.delay:
                    time.sleep(rec.delay)
                with rec.lock:
                    script = rec.scripts.get(self.path) or []
                    status, headers = script.pop(0) if script else (200, {})
                    rec.requests.append({"path": self.path, "headers": dict(self.headers.items()),
                                         "body": body, "at": time.time(), "status": status})
                reply = b"ok" if status < 300 else b"error"
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def got(self, path=None, status=None):
        with self.lock:
            return [r for r in self.requests if (path is None or r["path"] == path)
                    and (status is None or r["status"] == status)]


def verify_signature(secret, header, body, now=None, window=300):
    """True when X-Cadence-Signature `header` signs `body` with `secret` (the receiver side)."""
    parts = dict(p.strip().split("=", 1) for p in header.split(",") if "=" in p)
    t = int(parts["t"])
    if abs((now or time.time()) - t) > window:
        return False
    want = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, parts.get("v1", ""))


def alert(i, rep="rep-1", revision=None, **kw):
    """An alerts.v1 call_now alert (former no, back on pricing)."""
    a = {"event_id": f"A-{i}", "type": "call_now", "occurred_at": "2026-11-12T14:00:00Z",
         "alert_id": f"A-{i}", "reason": "former_no_revisit", "lead_id": f"L-{i}", "rep_id": rep,
         "trigger": {"event_id": f"visit-{i}", "occurred_at": "2026-11-12T14:00:00Z",
                     "url": "https://example.com/pricing"},
         "lead": {"first_name": "Ann", "last_name": "Lee", "company": "Acme & Sons",
                  "phone": "+1 (555) 010-2000", "timezone": "America/New_York", "status": "re_evaluate"},
         "suggested_opener": "Hi Ann, you looked at pricing again <3",
         "no": {"at": "2026-11-03T15:00:00Z", "reason": "no budget this year"}}
    if revision is not None:
        a["revision"] = revision
    a.update(kw)
    return a


def dumps(v):
    return json.dumps(v, separators=(",", ":"))
