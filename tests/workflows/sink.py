"""A real HTTP server on 127.0.0.1 that records what webhooks send it and answers as a test scripts it."""
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    """One scripted answer: status, headers, body (or `body_size` bytes of filler), after `delay` seconds."""

    status: int = 200
    headers: dict = field(default_factory=dict)
    body: bytes = b"ok"
    body_size: int | None = None
    delay: float = 0.0


@dataclass
class Received:
    method: str
    path: str
    headers: dict  # lower-cased names
    body: bytes
    received_at: float  # time.time()
    status: int  # what the sink answered (or began to answer)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # the status line, headers and body are separate writes
    server: "_Server"

    def log_message(self, format, *args):  # keep test output clean
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        sink = self.server.sink
        reply = sink.next_reply(self.path)
        sink.record(
            Received(
                method=self.command,
                path=self.path,
                headers={name.lower(): value for name, value in self.headers.items()},
                body=body,
                received_at=time.time(),
                status=reply.status,
            )
        )
        if reply.delay and sink.closing.wait(reply.delay):
            return
        payload = reply.body if reply.body_size is None else None
        size = len(payload) if payload is not None else reply.body_size
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if payload is not None:
                self.wfile.write(payload)
            else:
                chunk = b"x" * 65536
                sent = 0
                while sent < size:
                    piece = chunk[: min(len(chunk), size - sent)]
                    self.wfile.write(piece)
                    sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_POST = _handle
    do_GET = _handle
    do_PUT = _handle
    do_PATCH = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def handle_error(self, request, client_address):  # a client that hung up is not a test failure
        pass


class Sink:
    """Start with `Sink()`; `sink.url("/path")`; `sink.script(Reply(500), Reply(200))`; `sink.requests`."""

    def __init__(self, *, fail_ratio: float = 0.0, seed: int = 1, port: int = 0):
        self.requests: list[Received] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self.default = Reply()
        self.fail_ratio = fail_ratio
        self._random = random.Random(seed)
        self.closing = threading.Event()
        self.arrived = threading.Condition(self._lock)
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.sink = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def next_reply(self, path: str) -> Reply:
        with self._lock:
            if self._script:
                return self._script.popleft()
            if self.fail_ratio and self._random.random() < self.fail_ratio:
                return Reply(status=503, body=b"try later")
            return self.default

    def record(self, received: Received) -> None:
        with self.arrived:
            self.requests.append(received)
            self.arrived.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Block until `count` requests arrived (or the timeout); return them all."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.requests) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.arrived.wait(remaining)
            return list(self.requests)

    def close(self) -> None:
        self.closing.set()
        self._server.shutdown()
        self._server.server_close()
