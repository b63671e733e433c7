"""`./dev`: every command uses the settings file the run used, so a newcomer's second command (an API key)
lands in the database the running server reads."""

import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
DEV = str(ROOT / "dev")
RUN_PORT = free_port()
# What the test process itself was given (pytest-env, CI's DATABASE_URL): a newcomer's shell has none of it.
NOT_INHERITED = ("DATABASE_URL", "PARENT_HOST", "PORT", "DEBUG", "SECRET_KEY", "ENV_FILE")


def newcomer_env(env_file: Path, **given: str) -> dict:
    env = {name: value for name, value in os.environ.items() if name not in NOT_INHERITED}
    return {**env, "ENV_FILE": str(env_file), **given}


def dev(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([DEV, *args], env=env, capture_output=True, text=True, timeout=120, check=True)


def test_manage_reads_database_and_port_from_the_env_file(tmp_path):
    env_file = tmp_path / ".env"
    database = tmp_path / "dev.sqlite3"
    env_file.write_text(f"DEBUG=true\nDATABASE_URL=sqlite:///{database}\nPORT=18752\n")
    shown = dev(
        "manage",
        "shell",
        "-c",
        "from django.conf import settings; from django.db import connection; "
        "print(connection.vendor, settings.DATABASES['default']['NAME'], settings.PARENT_HOST, settings.HOST_PORT)",
        env=newcomer_env(env_file),
    )
    # The last line: Django's shell first says what it imported.
    assert shown.stdout.splitlines()[-1].split() == ["sqlite", str(database), "localhost", "18752"]


def _get(url: str, **headers) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _wait_for_server(log: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if _get(f"http://127.0.0.1:{RUN_PORT}/healthz/live", Host=f"localhost:{RUN_PORT}")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"./dev run did not answer:\n{log.read_text()}")


@pytest.mark.timeout(420)
def test_a_key_made_after_dev_run_on_another_database_works_against_that_run(tmp_path):
    env_file = tmp_path / ".env"  # none yet: ./dev run writes it, as on a fresh clone
    database_url = f"sqlite:///{tmp_path / 'run.sqlite3'}"
    log = tmp_path / "run.log"
    with log.open("w") as output:
        run = subprocess.Popen(
            [DEV, "run"],
            env=newcomer_env(env_file, DATABASE_URL=database_url, PORT=str(RUN_PORT)),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for_server(log, run)
        assert f"Database:                                {database_url}" in log.read_text()
        # The newcomer's next command, without DATABASE_URL or PORT: .env now says both.
        made = dev("manage", "create_api_key", "--company", "acme-demo", env=newcomer_env(env_file))
        key = made.stdout.strip().splitlines()[-1]
        status, body = _get(
            f"http://127.0.0.1:{RUN_PORT}/v1/leads/",
            Host=f"api.crm.localhost:{RUN_PORT}",
            Authorization=f"Bearer {key}",
        )
        assert status == 200, body
    finally:
        run.send_signal(signal.SIGTERM)
        try:
            run.wait(timeout=90)
        finally:
            worker = re.search(r"django-q2 worker pid (\d+)", log.read_text())
            for group in filter(None, [run.pid, int(worker.group(1)) if worker else None]):
                try:
                    os.killpg(group, signal.SIGKILL)
                except ProcessLookupError:
                    pass
    saved = env_file.read_text()
    assert f"DATABASE_URL={database_url}\n" in saved and f"PORT={RUN_PORT}\n" in saved
