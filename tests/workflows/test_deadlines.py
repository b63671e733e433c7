"""Every send ends by its deadline: a target that trickles its headers, a resolver that does not answer."""
import socket
import threading
import time

import pytest

from salesassist.core.webhook_signing import secret_generate
from workflows import ssrf, transport
from workflows.choices import AttemptError
from workflows.kinds import outbound
from workflows.kinds.outbound import PreparedRequest
from workflows.kinds.webhook import WebhookKind


class TricklingServer:
    """A raw HTTP server on 127.0.0.1 that sends its status line, then one header line per `interval`."""

    def __init__(self, *, lines: int = 10, interval: float = 1.0):
        self.lines, self.interval = lines, interval
        self.stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.listener.settimeout(10)
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                for n in range(self.lines):
                    if self.stop.wait(self.interval):
                        return
                    conn.sendall(f"X-Line-{n}: {n}\r\n".encode())
                conn.sendall(b"Content-Length: 2\r\n\r\nok")
            except OSError:
                pass

    def close(self):
        self.stop.set()
        self.listener.close()
        self.thread.join(5)


@pytest.fixture
def trickling():
    server = TricklingServer()
    yield server
    server.close()


def prepared(url):
    return PreparedRequest(url=url, body=b"{}", message_id="msg_test", secrets=[secret_generate()])


def test_headers_trickled_one_line_a_second_end_at_the_total_deadline(trickling, monkeypatch, settings):
    settings.WORKFLOW_ALLOW_PRIVATE_TARGETS = True
    monkeypatch.setattr(outbound, "TOTAL_TIMEOUT", 2.5)
    started = time.monotonic()
    outcome = WebhookKind().send(prepared(f"http://127.0.0.1:{trickling.port}/hook"))
    took = time.monotonic() - started
    assert outcome.error_class == AttemptError.TIMEOUT, outcome
    assert not outcome.succeeded and outcome.throttled
    assert took < 2.5 + 0.5


def test_a_resolver_that_does_not_answer_is_given_up_on(monkeypatch, settings):
    settings.WORKFLOW_ALLOW_PRIVATE_TARGETS = True
    monkeypatch.setattr(ssrf, "DNS_TIMEOUT", 0.5)

    def slow_getaddrinfo(*args, **kwargs):
        time.sleep(3)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80))]

    monkeypatch.setattr(ssrf.socket, "getaddrinfo", slow_getaddrinfo)
    started = time.monotonic()
    outcome = WebhookKind().send(prepared("http://slow-dns.example/hook"))
    assert time.monotonic() - started < 1.5
    assert outcome.error_class == AttemptError.DNS and "within" in outcome.error_message
    with pytest.raises(ssrf.BlockedTarget):
        ssrf.resolve_target("http://slow-dns.example/hook")


@pytest.mark.parametrize(
    "value, seconds",
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("²", None),  # str.isdigit() is True for it, float() is not
        ("١٢", None),  # Arabic-Indic digits
        ("9" * 5000, 86400.0),  # absurd: the cap
        ("99999999", 86400.0),
        ("x" * 10000, None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_values(value, seconds):
    assert transport.retry_after_seconds(value) == seconds


def test_a_retry_after_date_far_in_the_future_is_capped():
    assert transport.retry_after_seconds("Fri, 31 Dec 2999 23:59:59 GMT") == 86400.0
