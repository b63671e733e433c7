"""SSRF protection: every internal range refused when private targets are not allowed, at save and at send."""
import pytest
from django.test import override_settings

from tests.workflows.conftest import attach_webhook, record_engagement
from workflows.choices import AttemptError, DeliveryStatus
from workflows.kinds import kind_handler
from workflows.models import DeliveryAttempt
from workflows.services import deliveries_attempt
from workflows.ssrf import BlockedTarget, address_is_blocked, resolve_target
from salesassist.core.exceptions import InvalidInput

BLOCKED = {
    "private 10/8": "10.1.2.3",
    "private 172.16/12": "172.16.0.1",
    "private 192.168/16": "192.168.1.10",
    "loopback": "127.0.0.1",
    "loopback elsewhere in 127/8": "127.5.5.5",
    "link-local / cloud metadata": "169.254.169.254",
    "CGNAT 100.64/10": "100.64.0.1",
    "multicast": "224.0.0.251",
    "reserved 240/4": "240.0.0.1",
    "broadcast": "255.255.255.255",
    "unspecified": "0.0.0.0",
    "this network 0/8": "0.1.2.3",
    "benchmarking 198.18/15": "198.18.0.1",
    "IPv6 loopback": "::1",
    "IPv6 unspecified": "::",
    "IPv6 ULA": "fd12:3456::1",
    "IPv6 link-local": "fe80::1",
    "IPv6 multicast": "ff02::1",
    "IPv4-mapped loopback": "::ffff:127.0.0.1",
    "IPv4-mapped private": "::ffff:10.0.0.1",
    "IPv4-mapped metadata": "::ffff:169.254.169.254",
    "6to4 of loopback": "2002:7f00:1::1",
    "NAT64 of private": "64:ff9b::a00:1",
    "IPv6 documentation": "2001:db8::1",
}


@pytest.mark.parametrize("address", BLOCKED.values(), ids=BLOCKED.keys())
def test_internal_addresses_are_blocked(address):
    assert address_is_blocked(address)
    netloc = f"[{address}]" if ":" in address else address
    with pytest.raises(BlockedTarget):
        resolve_target(f"http://{netloc}:8080/hook", allow_private=False)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:93.184.216.34"])
def test_public_addresses_pass(address):
    assert not address_is_blocked(address)
    netloc = f"[{address}]" if ":" in address else address
    target = resolve_target(f"https://{netloc}/hook?a=1", allow_private=False)
    assert target.path == "/hook?a=1" and target.port == 443


def test_a_host_name_resolving_to_a_blocked_address_is_refused():
    with pytest.raises(BlockedTarget, match="resolves to"):
        resolve_target("http://localhost:8000/hook", allow_private=False)


def test_the_setting_allows_private_targets_and_the_connection_stays_pinned():
    target = resolve_target("http://localhost:8000/hook", allow_private=True)
    assert target.address in ("127.0.0.1", "::1")
    assert target.host_header == "localhost:8000"
    assert target.pinned_url.startswith(("http://127.0.0.1:8000/hook", "http://[::1]:8000/hook"))


@pytest.mark.parametrize(
    "url",
    ["", "example.com/hook", "ftp://93.184.216.34/", "http:///nohost", "http://93.184.216.34/a b", "javascript:alert(1)",
     "http://u:p@93.184.216.34/", "http://93.184.216.34:99999/", "http://no-such-host.invalid/"],
)
def test_unusable_urls_are_refused(url):
    with pytest.raises(BlockedTarget):
        resolve_target(url, allow_private=True)


@override_settings(WORKFLOW_ALLOW_PRIVATE_TARGETS=False)
def test_config_validation_refuses_blocked_urls_at_save():
    with pytest.raises(InvalidInput) as error:
        kind_handler("webhook").config_validate({"url": "http://[::ffff:127.0.0.1]/"})
    assert "config.url" in error.value.errors


@pytest.mark.django_db
def test_every_send_checks_again(action_company, sink, settings, fast_retries):
    """Saved while private targets were allowed; the setting is now off: the send is refused, nothing arrives."""
    attach_webhook(action_company, sink.url())
    engagement = record_engagement(action_company)
    settings.WORKFLOW_ALLOW_PRIVATE_TARGETS = False
    delivery = engagement.deliveries.get()

    (attempt,) = deliveries_attempt(delivery_ids=[delivery.pk])
    assert attempt.error_class == AttemptError.BLOCKED_TARGET and "127.0.0.1" in attempt.error_message
    assert sink.requests == []
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert DeliveryAttempt.objects.count() == 1


@pytest.mark.django_db
def test_a_host_name_is_sent_to_the_checked_address_with_its_host_header(action_company, sink):
    attach_webhook(action_company, f"http://localhost:{sink.port}/named")
    engagement = record_engagement(action_company)
    (attempt,) = deliveries_attempt(delivery_ids=[engagement.deliveries.get().pk])
    if not attempt.succeeded:  # localhost resolved to ::1 first and the sink listens on IPv4 only
        pytest.skip(attempt.error_message)
    (request,) = sink.requests
    assert request.headers["host"] == f"localhost:{sink.port}"
    assert request.path == "/named"
