"""cadence-gateway against hostile and careless clients, over raw sockets: request-line and
header limits (414/431), malformed heads (400/501), a 3 MB body answered with a 413 the client
reads, slow and idle connections closed by the read and idle timeouts, the connection cap (503),
and hundreds of slow/idle connections plus header floods with the gateway's RSS bounded while
healthy clients are still served. Every refusal is the API's JSON error and counted."""
import json
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from gateway_harness import GatewayStack  # noqa: E402
from harness import wait_for  # noqa: E402

MAX_LINE = 4096
MAX_HEADERS = 8192
READ_TIMEOUT_MS = 1500
IDLE_TIMEOUT_MS = 2500
MAX_CONNECTIONS = 300
# The documented bound (README, Gateway): each open connection costs at most its head limits
# plus libevent's buffers; this test allows 64 KiB per connection over the idle process
# (the sanitizer build's own overhead included) plus 16 MiB of slack.
RSS_PER_CONNECTION = 64 * 1024
RSS_SLACK = 16 * 1024 * 1024


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def raw(port, data, timeout=10.0, shut=False):
    """Sends `data` on a new connection and reads until the server closes or a full response
    (head + Content-Length body) arrived. Returns (status, headers text, body bytes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        return read_response(s, timeout)
    finally:
        s.close()


def read_response(s, timeout=10.0):
    buf = b""
    deadline = time.monotonic() + timeout
    while True:
        if b"\r\n\r\n" in buf:
            head, body = buf.split(b"\r\n\r\n", 1)
            length = 0
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    length = int(v.strip())
            if len(body) >= length:
                return int(head.split(b" ")[1]), head.decode("latin-1"), body[:length]
        s.settimeout(max(0.05, deadline - time.monotonic()))
        chunk = s.recv(65536)
        if not chunk:
            if buf:
                raise AssertionError(f"connection closed mid-response: {buf[:200]!r}")
            raise EOFError("closed without a response")
        buf += chunk
        if time.monotonic() > deadline:
            raise AssertionError("no complete response")


def closed_within(s, seconds):
    """True when the server closes `s` within `seconds` (EOF or reset)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        s.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            if not s.recv(65536):
                return True
        except socket.timeout:
            continue
        except ConnectionResetError:
            return True
    return False


class GatewayLimitsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.st = GatewayStack("gateway-limits")
        try:
            cls.st.start_gateway(extra_env={
                "CADENCE_MAX_BODY_BYTES": 65536,
                "CADENCE_HTTP_MAX_REQUEST_LINE": MAX_LINE,
                "CADENCE_HTTP_MAX_HEADER_BYTES": MAX_HEADERS,
                "CADENCE_HTTP_READ_TIMEOUT_MS": READ_TIMEOUT_MS,
                "CADENCE_HTTP_IDLE_TIMEOUT_MS": IDLE_TIMEOUT_MS,
                "CADENCE_HTTP_LINGER_MS": 2000,
                "CADENCE_HTTP_MAX_CONNECTIONS": MAX_CONNECTIONS,
            })
        except BaseException:
            cls.st.dump_logs()
            cls.st.__exit__(None, None, None)
            raise
        cls.port = cls.st.gw_port

    @classmethod
    def tearDownClass(cls):
        st = cls.st
        try:
            code = st.stop(st.gateway)
            st.check_sanitizers()
            assert code == 0, f"gateway exit status {code}"
        finally:
            st.__exit__(None, None, None)

    def assert_json_error(self, status, body, want):
        self.assertEqual(status, want, body)
        self.assertIsInstance(json.loads(body)["error"], str)

    def counted(self, status):
        return self.st.metric("cadence_gateway_requests_total", f'status="{status}"')

    def test_long_request_line_is_414_and_big_headers_431(self):
        before414, before431 = self.counted(414), self.counted(431)
        status, _, body = raw(self.port, b"GET /" + b"a" * (MAX_LINE + 10) + b" HTTP/1.1\r\n\r\n")
        self.assert_json_error(status, body, 414)
        flood = b"".join(b"X-F%d: %s\r\n" % (i, b"v" * 100) for i in range(100))
        status, _, body = raw(self.port, b"GET /v1/me HTTP/1.1\r\nHost: x\r\n" + flood + b"\r\n")
        self.assert_json_error(status, body, 431)
        # The flood is refused as it arrives: a never-ending header gets 431 too.
        status, _, body = raw(self.port, b"GET / HTTP/1.1\r\nX-Long: " + b"a" * (MAX_HEADERS + 1))
        self.assert_json_error(status, body, 431)
        self.assertEqual(self.counted(414), before414 + 1)
        self.assertEqual(self.counted(431), before431 + 2)

    def test_malformed_heads_are_json_400_and_unknown_methods_501(self):
        cases = [
            (b"GET /v1/me HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", 400),
            (b"POST /v1/events/leads HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", 400),
            (b"POST /v1/events/leads HTTP/1.1\r\nContent-Length: +5\r\n\r\nhello", 400),
            (b"GET /v1/me HTTP/1.1\r\nX-A: a\x00b\r\n\r\n", 400),
            (b"GET /v1/me HTTP/1.1\r\nX-A: a\rb\r\n\r\n", 400),
            (b"GET /v1/me HTTP/1.1\r\nX-A: a\r\n folded\r\n\r\n", 400),
            (b"GET /v1/me\r\n\r\n", 400),
            (b"POST /v1/events/leads HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
             b"Content-Length: 5\r\n\r\n", 400),
            (b"POST /v1/events/leads HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411),
            (b"PUT /v1/me HTTP/1.1\r\n\r\n", 501),
            (b"BREW /pot HTTP/1.1\r\n\r\n", 501),
        ]
        for data, want in cases:
            with self.subTest(data=data):
                status, _, body = raw(self.port, data)
                self.assert_json_error(status, body, want)
        # Equal duplicates too (no second reading of the length anywhere); one is fine.
        status, _, body = raw(self.port, b"GET /v1/me HTTP/1.1\r\nContent-Length: 0\r\n"
                                         b"Content-Length: 0\r\n\r\n")
        self.assert_json_error(status, body, 400)
        status, _, _ = raw(self.port, b"GET /v1/me HTTP/1.1\r\nContent-Length: 0\r\n"
                                      b"Connection: close\r\n\r\n")
        self.assertEqual(status, 401)

    def test_head_answers_headers_only_and_keeps_the_connection_in_sync(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        try:
            s.sendall(b"HEAD /v1/me HTTP/1.1\r\nHost: x\r\n\r\n")
            s.settimeout(2)
            first = s.recv(65536)
            self.assertTrue(first.startswith(b"HTTP/1.1 401"), first)
            self.assertTrue(first.endswith(b"\r\n\r\n"), f"HEAD answer carried a body: {first!r}")
            s.sendall(b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
            status, _, body = read_response(s)
            self.assert_json_error(status, body, 404)
        finally:
            s.close()

    def test_a_3mb_body_gets_a_413_the_client_reads(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        try:
            head = (b"POST /v1/events/leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n" % (3 * 1024 * 1024))
            s.sendall(head)
            sent = 0
            chunk = b"x" * 65536
            # Keep sending like a client that does not wait for 100-continue; the answer must
            # still be readable afterwards (the gateway drains, it does not reset).
            s.settimeout(5)
            while sent < 3 * 1024 * 1024:
                sent += s.send(chunk)
            status, _, body = read_response(s)
            self.assert_json_error(status, body, 413)
        finally:
            s.close()

    def test_slow_client_is_cut_by_the_read_timeout_and_idle_one_by_the_idle_timeout(self):
        slow = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        idle = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        try:
            t0 = time.monotonic()
            slow.sendall(b"GET /v1/me HTTP/1.1\r\n")
            # One header byte every 300 ms: never idle, never finished.
            status = None
            for _ in range(40):
                try:
                    slow.sendall(b"X")
                except OSError:
                    break
                slow.settimeout(0.3)
                try:
                    data = slow.recv(65536)
                except socket.timeout:
                    continue
                if data:
                    status = int(data.split(b" ")[1])
                break
            self.assertEqual(status, 408)
            self.assertLess(time.monotonic() - t0, READ_TIMEOUT_MS / 1000 + 2)
            self.assertTrue(closed_within(idle, IDLE_TIMEOUT_MS / 1000 + 2),
                            "idle connection still open after the idle timeout")
        finally:
            slow.close()
            idle.close()

    def test_connection_cap_answers_503_and_frees_on_close(self):
        opened = []
        try:
            # More idle connections than the cap: those past it are answered 503 at once.
            for _ in range(MAX_CONNECTIONS + 10):
                opened.append(socket.create_connection(("127.0.0.1", self.port), timeout=10))
            status, _, body = read_response(opened[-1])
            self.assert_json_error(status, body, 503)
            self.assertIn(b"CADENCE_HTTP_MAX_CONNECTIONS", body)
        finally:
            for s in opened:
                s.close()
        wait_for(lambda: self.st.get_status(self.port, "/healthz") == 200, timeout=10,
                 what="served again after the connections closed")

    def test_hundreds_of_slow_and_idle_connections_and_floods_keep_rss_bounded(self):
        pid = self.st.gateway.pid
        wait_for(lambda: self.st.get_status(self.port, "/healthz") == 200, timeout=10,
                 what="healthy before the flood")
        base = rss_bytes(pid)
        n = MAX_CONNECTIONS - 20
        socks = []
        try:
            for i in range(n):
                s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                if i % 3 == 0:
                    s.sendall(b"GET /v1/me HTTP/1.1\r\n")  # slow: head never finished
                elif i % 3 == 1:
                    # header flood up to just under the limit, never finished
                    s.sendall(b"GET / HTTP/1.1\r\nX-F: " + b"f" * (MAX_HEADERS - 100))
                socks.append(s)  # else idle
            # Healthy clients are served meanwhile.
            for _ in range(10):
                status, _, _ = raw(self.port, b"GET /v1/me HTTP/1.1\r\nConnection: close\r\n\r\n")
                self.assertEqual(status, 401)
            peak = rss_bytes(pid)
            bound = base + n * RSS_PER_CONNECTION + RSS_SLACK
            print(f"rss: idle {base / 1e6:.1f} MB, with {n} hostile connections "
                  f"{peak / 1e6:.1f} MB, bound {bound / 1e6:.1f} MB", file=sys.stderr)
            self.assertLess(peak, bound)
            # All of them are closed by the timeouts, without the clients doing anything.
            deadline = IDLE_TIMEOUT_MS / 1000 + READ_TIMEOUT_MS / 1000 + 5
            wait_for(lambda: self.st.metric("cadence_gateway_connections") <= 1,
                     timeout=deadline, what="hostile connections closed by the timeouts")
        finally:
            for s in socks:
                s.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
