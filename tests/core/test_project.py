"""Project-level guarantees: migrations match the models, settings refuse unsafe production starts."""
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_every_model_change_has_its_migration():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)


def _settings_import(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "salesassist.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_secret_key():
    result = _settings_import(DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_debug_starts_with_a_development_key():
    assert _settings_import(DEBUG="true").returncode == 0


def test_production_starts_with_a_secret_key():
    assert _settings_import(DEBUG="false", SECRET_KEY="x" * 50).returncode == 0


def test_the_former_tls_proxy_switch_stops_the_start_and_names_its_replacement():
    # Ignored, it would leave SECURE_SSL_REDIRECT redirecting every request the proxy forwards.
    result = _settings_import(DEBUG="false", SECRET_KEY="x" * 50, BEHIND_TLS_PROXY="true")
    assert result.returncode != 0
    assert "SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https" in result.stderr


def test_a_proxy_ssl_header_without_its_value_is_refused():
    result = _settings_import(DEBUG="false", SECRET_KEY="x" * 50, SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO")
    assert result.returncode != 0
    assert "SECURE_PROXY_SSL_HEADER is a header and a value" in result.stderr


def test_a_dotenv_file_supplies_settings_and_the_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=false\nSECRET_KEY=from-the-file\n")
    started = _settings_import(ENV_FILE=str(env_file))
    assert started.returncode == 0, started.stderr
    overridden = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "salesassist.settings", "ENV_FILE": str(env_file), "DEBUG": "true"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert overridden.stdout.strip() == "True", overridden.stderr


# Two connections to one SQLite file, as the web server and the worker of `./dev run` have: the second
# reads, then writes, while the first holds the write lock.
SQLITE_WRITERS = """
import threading
import time
import django
django.setup()
from django.db import connection, connections, transaction
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE beat (name TEXT PRIMARY KEY, n INTEGER)")
    cursor.execute("INSERT INTO beat VALUES ('worker', 0)")
holding = threading.Event()
def first():
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE beat SET n = n + 1")
        holding.set()
        time.sleep(1)
    connections.close_all()
def second():
    holding.wait()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT n FROM beat WHERE name = 'worker'")
        cursor.execute("UPDATE beat SET n = n + 1")
    connections.close_all()
errors = []
def run(target):
    try:
        target()
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=run, args=(target,)) for target in (first, second)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
with connection.cursor() as cursor:
    cursor.execute("SELECT n FROM beat")
    print(errors, cursor.fetchone()[0])
"""


def test_sqlite_writers_wait_for_each_other_instead_of_failing(tmp_path):
    """A transaction that reads before it writes must wait for the other writer, not fail at once with
    "database is locked" (what the worker's heartbeat hit under `./dev run`)."""
    result = subprocess.run(
        [sys.executable, "-c", SQLITE_WRITERS],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "salesassist.settings",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[]", "2"]
