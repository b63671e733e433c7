"""Webhook configs accepted at save time can be sent: international host names go out in IDNA form."""
import socket

import pytest

from salesassist.core.webhook_signing import secret_generate
from tests.workflows.sink import Reply
from workflows import ssrf
from workflows.kinds.outbound import PreparedRequest
from workflows.kinds.webhook import WebhookKind


@pytest.fixture
def idn_resolves_to_localhost(monkeypatch, settings):
    settings.WORKFLOW_ALLOW_PRIVATE_TARGETS = True
    asked = []

    def getaddrinfo(host, port, *args, **kwargs):
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(ssrf.socket, "getaddrinfo", getaddrinfo)
    return asked


def test_an_idn_host_is_sent_in_its_idna_form(sink, idn_resolves_to_localhost):
    url = f"http://bücher.example:{sink.port}/hook"
    WebhookKind().config_validate({"url": url})  # accepted at save
    sink.script(Reply(200))
    outcome = WebhookKind().send(
        PreparedRequest(url=url, body=b"{}", message_id="msg_idn", secrets=[secret_generate()])
    )
    assert outcome.succeeded, outcome.error_message
    (request,) = sink.requests
    assert request.headers["host"] == f"xn--bcher-kva.example:{sink.port}"
    assert "xn--bcher-kva.example" in idn_resolves_to_localhost
    assert all(host.isascii() for host in idn_resolves_to_localhost)


def test_an_invalid_international_host_is_refused_at_save(idn_resolves_to_localhost):
    with pytest.raises(ssrf.BlockedTarget):
        ssrf.resolve_target("http://a\u200db.example/")  # a zero-width joiner: not a valid IDNA label
