"""`manage.py qcluster_alive`, the worker pods' liveness probe, against a real `manage.py qcluster` that
reports to the real Redis on 127.0.0.1:6379: alive while it runs, dead once it hangs (SIGSTOP), and no
verdict (passing) when the cache does not answer."""
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from tests.core.test_health import closed_port
from tests.processes import database_url_for_processes

REDIS_URL = "redis://127.0.0.1:6379/14"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="a qcluster in another process needs a shared database: PostgreSQL",
    ),
]


@pytest.fixture
def shared_cache(settings):
    prefix = f"liveness-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": prefix}
    }
    return prefix


@pytest.fixture
def qcluster(shared_cache, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_processes(),
        "CACHE_URL": f"{REDIS_URL}?key_prefix={shared_cache}",
        "SECRET_KEY": settings.SECRET_KEY,  # the cluster signs its status with it
        "Q_WORKERS": "1",
    }
    log = tmp_path / "qcluster.log"
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield process
    os.killpg(process.pid, signal.SIGCONT)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def alive() -> bool:
    try:
        call_command("qcluster_alive")
    except CommandError:
        return False
    return True


def wait_for(expected: bool, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive() is expected:
            return
        time.sleep(0.25)
    raise AssertionError(f"qcluster_alive did not turn {expected} within {timeout} s")


def test_alive_while_the_cluster_reports_and_dead_once_it_hangs(qcluster):
    # Generous bounds: the cluster starts in seconds on a loaded machine, and its status expires after 3 s.
    wait_for(True, timeout=60)
    os.killpg(qcluster.pid, signal.SIGSTOP)  # every process of the cluster stops: a hang, not an exit
    wait_for(False, timeout=15)


def test_no_cluster_on_this_host_is_dead(shared_cache):
    with pytest.raises(CommandError, match="no running django-q2 cluster"):
        call_command("qcluster_alive")


def test_an_unreachable_cache_passes_rather_than_restart_every_worker(settings, capsys):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    call_command("qcluster_alive")
    assert "cannot tell" in capsys.readouterr().out


def test_a_process_local_cache_is_refused(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with pytest.raises(CommandError, match="CACHE_URL"):
        call_command("qcluster_alive")
