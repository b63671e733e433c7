"""Rate limits that hold across processes (a shared Redis cache), and a limit on failed API-key
authentications per client address."""
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import redis
from django.conf import settings
from django_hosts.resolvers import reverse_host

from conftest import host_client
from salesassist.hosts import ACTION_ENGINE_API, CRM_API
from tests.action_engine.public_fixtures import forms_action, lead, page_query  # noqa: F401  (fixtures)
from tests.processes import database_url_for_processes
from tests.security.conftest import REDIS_URL

BASE_DIR = Path(settings.BASE_DIR)
LEADS_URL = "/v1/leads/"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """`gunicorn salesassist.wsgi` with two worker processes on 127.0.0.1, on this test database."""

    def __init__(self, tmp_path: Path, **environment: str):
        self.port = _free_port()
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url_for_processes(),
            "SECRET_KEY": settings.SECRET_KEY,
            **environment,
        }
        self.log = tmp_path / "gunicorn.log"
        self.process = None

    def start(self):
        command = [
            sys.executable, "-m", "gunicorn", "salesassist.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}", "--workers", "2", "--preload",
        ]
        self.process = subprocess.Popen(
            command, cwd=BASE_DIR, env=self.env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            # The application is loaded before the fork (--preload): a booted worker serves at once.
            if self.log.read_text().count("Booting worker") == 2:
                try:
                    httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=5)
                    return
                except httpx.TransportError:
                    pass
            time.sleep(0.2)
        raise AssertionError(f"gunicorn did not start:\n{self.log.read_text()}")

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def gunicorn(tmp_path):
    servers = []

    def start(**environment):
        server = Gunicorn(tmp_path, **environment)
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="gunicorn's workers in other processes need a shared database: PostgreSQL",
)
def test_a_rate_limit_holds_across_two_gunicorn_workers(gunicorn, forms_action, lead, redis_prefix):  # noqa: F811
    server = gunicorn(
        CACHE_URL=f"{REDIS_URL}?key_prefix={redis_prefix}",
        THROTTLE_PUBLIC_IP="300/min",
        THROTTLE_PUBLIC_ACTION="100000/min",
        CONN_MAX_AGE="0",
    )
    url = f"http://127.0.0.1:{server.port}/v1/public/actions/{forms_action.uuid}"
    headers = {"Host": reverse_host(ACTION_ENGINE_API)}
    threads = 16
    query = page_query(forms_action, lead)

    def send(count: int) -> list[httpx.Response]:
        with httpx.Client(headers=headers, timeout=30) as client:
            return [client.get(url, params=query) for _ in range(count)]

    with ThreadPoolExecutor(threads) as pool:
        batches = pool.map(send, [1000 // threads + (n < 1000 % threads) for n in range(threads)])
        responses = [response for batch in batches for response in batch]

    assert len(responses) == 1000
    assert Counter(response.status_code for response in responses) == {200: 300, 429: 700}
    for refused in (response for response in responses if response.status_code == 429):
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"] == "urn:salesassist:problem:throttled"
        assert 1 <= int(refused.headers["retry-after"]) <= 60


def _redis_keys(prefix: str) -> list[bytes]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        return list(client.scan_iter(match=f"{prefix}:*"))
    finally:
        client.close()


def _leads(token: str, client_address: str):
    # Behind one proxy (NUM_PROXIES=1), which appends the address it saw to X-Forwarded-For.
    return host_client(CRM_API, token).get(LEADS_URL, HTTP_X_FORWARDED_FOR=f"192.0.2.250, {client_address}")


@pytest.mark.django_db
def test_failed_api_keys_from_one_address_lock_it_out_even_with_the_right_key(redis_cache, settings, api_key):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    limit = int(settings.PUBLIC_THROTTLE_RATES["api_key_failures"].split("/")[0])
    wrong = [_leads(f"sa_{uuid.uuid4().hex[:8]}_{uuid.uuid4().hex}", "203.0.113.5") for _ in range(limit)]
    assert [response.status_code for response in wrong] == [401] * limit

    refused = _leads(api_key.token, "203.0.113.5")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:salesassist:problem:throttled"
    assert 1 <= int(refused["Retry-After"]) <= 60
    # The count is in the shared cache, under this run's prefix: another process would see it too.
    assert any(b"api_key_failures" in key for key in _redis_keys(redis_cache))

    assert _leads(api_key.token, "203.0.113.6").status_code == 200
    assert _leads("sa_nope_nope", "203.0.113.6").status_code == 401


@pytest.mark.django_db
def test_the_api_key_lockout_ends_with_its_window(redis_cache, settings, api_key):
    settings.PUBLIC_THROTTLE_RATES = {**settings.PUBLIC_THROTTLE_RATES, "api_key_failures": "3/s"}
    client = host_client(CRM_API, "sa_wrong_key")
    assert [client.get(LEADS_URL).status_code for _ in range(3)] == [401, 401, 401]
    good = host_client(CRM_API, api_key.token)
    assert good.get(LEADS_URL).status_code == 429
    time.sleep(1.1)
    assert good.get(LEADS_URL).status_code == 200


@pytest.mark.django_db
def test_an_unreachable_cache_leaves_the_limits_open_and_says_so(
    settings, forms_action, lead, api_key, caplog  # noqa: F811
):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_free_port()}/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    started = time.monotonic()
    page = host_client(ACTION_ENGINE_API).get(f"/v1/public/actions/{forms_action.uuid}", page_query(forms_action, lead))
    assert page.status_code == 200
    assert host_client(CRM_API, "sa_wrong_key").get(LEADS_URL).status_code == 401
    assert host_client(CRM_API, api_key.token).get(LEADS_URL).status_code == 200
    # A refused connection fails at once; without a connect timeout and with retries it would take seconds.
    assert time.monotonic() - started < 5
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert any("public_ip not applied: the cache is unavailable" in message for message in warnings)
    assert any("API-key failure limit not applied" in message for message in warnings)
