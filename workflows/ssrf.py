"""SSRF protection: a webhook may only reach public addresses, checked when it is saved and at every send.

The host name is resolved once per send, every address it resolves to is checked, and the connection is
made to the checked address (see transport.py), so a DNS answer that changes between the check and the
connection (DNS rebinding) cannot redirect a delivery to an internal service.
"""
import ipaddress
import os
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna
from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Ranges that ipaddress's flags do not all cover: shared address space (CGNAT), "this network", the
# IETF protocol assignments, benchmarking, and NAT64 (which reaches IPv4 through a translator).
_EXTRA_BLOCKED_NETWORKS = [
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",
        "100.64.0.0/10",
        "192.0.0.0/24",
        "198.18.0.0/15",
        "240.0.0.0/4",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

# getaddrinfo has no timeout of its own (the system resolver may wait for many seconds per server and
# retry): lookups run in a small pool per process and the caller waits at most DNS_TIMEOUT for one.
DNS_TIMEOUT = 5.0
_DNS_THREADS = 8
_dns_pool: ThreadPoolExecutor | None = None
_dns_pool_pid: int | None = None
_dns_pool_lock = threading.Lock()


def _dns_executor() -> ThreadPoolExecutor:
    global _dns_pool, _dns_pool_pid
    with _dns_pool_lock:
        if _dns_pool is None or _dns_pool_pid != os.getpid():  # never a pool inherited through a fork
            _dns_pool = ThreadPoolExecutor(max_workers=_DNS_THREADS, thread_name_prefix="workflow-dns")
            _dns_pool_pid = os.getpid()
        return _dns_pool


def _getaddrinfo(host: str, port: int, timeout: float):
    """socket.getaddrinfo, waited for at most `timeout` seconds (socket.timeout after that)."""
    future = _dns_executor().submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        return future.result(timeout=max(0.0, timeout))
    except FutureTimeout:
        future.cancel()
        raise socket.timeout(f"no answer within {timeout:g} s") from None


class BlockedTarget(Exception):
    """The target is not allowed: a bad URL, an unresolvable host, or an internal address."""

    def __init__(self, message: str, *, unresolvable: bool = False):
        super().__init__(message)
        self.unresolvable = unresolvable


@dataclass(frozen=True)
class Target:
    """A checked target: connect to `address`, but speak HTTP (Host, SNI) to `host`."""

    scheme: str
    host: str
    port: int
    address: str
    path: str  # path and query, as sent

    @property
    def pinned_url(self) -> str:
        """The URL with the checked address in place of the host name."""
        ip = ipaddress.ip_address(self.address)
        netloc = f"[{ip}]" if ip.version == 6 else str(ip)
        return f"{self.scheme}://{netloc}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        default_port = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default_port else f"{host}:{self.port}"


def _unwrap(ip: IPAddress) -> IPAddress:
    """The IPv4 address inside an IPv4-mapped, IPv4-compatible, 6to4 or NAT64 IPv6 address."""
    if ip.version == 6:
        if ip.ipv4_mapped:
            return ip.ipv4_mapped
        if ip.sixtofour:
            return ip.sixtofour
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        # ::a.b.c.d (deprecated IPv4-compatible form); :: and ::1 themselves stay IPv6.
        if int(ip) >> 32 == 0 and int(ip) > 1:
            return ipaddress.IPv4Address(int(ip))
    return ip


def address_is_blocked(address: str | IPAddress) -> bool:
    """True for every address a webhook must not reach: private, loopback, link-local (cloud metadata),
    CGNAT, multicast, reserved, unspecified, IPv6 ULA and link-local, and IPv4 inside IPv6."""
    ip = _unwrap(ipaddress.ip_address(address) if isinstance(address, str) else address)
    if (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    ):
        return True
    return any(ip.version == network.version and ip in network for network in _EXTRA_BLOCKED_NETWORKS)


def parse_url(url: str):
    """The URL split into parts, or BlockedTarget when it is not an absolute http(s) URL we can send to."""
    if not isinstance(url, str) or not url.strip():
        raise BlockedTarget("Enter an http or https URL.")
    if any(ch in url for ch in "\r\n\t ") or len(url) > 2000:
        raise BlockedTarget("The URL has spaces or control characters, or is too long.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BlockedTarget(f"Not a valid URL: {exc}.") from exc
    if parts.scheme not in ("http", "https"):
        raise BlockedTarget("Only http and https URLs can receive webhooks.")
    if not parts.hostname:
        raise BlockedTarget("The URL has no host name.")
    if parts.username is not None or parts.password is not None:
        raise BlockedTarget("Credentials in the URL are not supported; send them in a custom header.")
    if parts.fragment:
        raise BlockedTarget("The URL must not have a #fragment.")
    return parts, port or (443 if parts.scheme == "https" else 80)


def _ascii_host(host: str) -> str:
    """An internationalised host name in its IDNA (punycode) form, as DNS, the Host header and SNI need it
    (IDNA 2008 with the UTS #46 mapping, as browsers and httpx do)."""
    if host.isascii():
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except (UnicodeError, ValueError) as exc:  # idna.IDNAError is a UnicodeError
        raise BlockedTarget(f"{host!r} is not a valid international host name.") from exc


def resolve_target(url: str, *, allow_private: bool | None = None, timeout: float | None = None) -> Target:
    """Resolve the URL's host, check every address it resolves to, and return the one to connect to.

    The lookup takes at most `timeout` seconds (DNS_TIMEOUT by default); a host that does not answer in
    time is unresolvable.
    """
    timeout = DNS_TIMEOUT if timeout is None else min(timeout, DNS_TIMEOUT)
    if allow_private is None:
        allow_private = settings.WORKFLOW_ALLOW_PRIVATE_TARGETS
    parts, port = parse_url(url)
    host = _ascii_host(parts.hostname.rstrip(".").lower())
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            infos = _getaddrinfo(host, port, timeout)
        except socket.timeout as exc:
            raise BlockedTarget(
                f"The host name {host!r} did not resolve within {timeout:g} s.", unresolvable=True
            ) from exc
        except (socket.gaierror, UnicodeError, OSError) as exc:
            raise BlockedTarget(f"The host name {host!r} does not resolve.", unresolvable=True) from exc
        # The scope id of a link-local IPv6 answer ("fe80::1%eth0") is dropped before the check.
        addresses = list(dict.fromkeys(info[4][0].split("%", 1)[0] for info in infos))
        if not addresses:
            raise BlockedTarget(f"The host name {host!r} does not resolve.", unresolvable=True)
    if not allow_private:
        blocked = [address for address in addresses if address_is_blocked(address)]
        if blocked:
            raise BlockedTarget(
                f"{host!r} resolves to {blocked[0]}, a private, loopback, link-local or reserved address."
            )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=parts.scheme, host=host, port=port, address=addresses[0], path=path)
