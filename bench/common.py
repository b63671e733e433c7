"""What the benchmarks share (they run as scripts, so this folder is on sys.path: `from common import …`)."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
API_HOST = "api.action-engine.localhost"


def bench_database_url(server_url: str, name: str) -> str:
    """Create (drop first) the benchmark's own database on the server of DATABASE_URL."""
    import psycopg

    parts = urlsplit(server_url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_env(database_url: str, port: int) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=env.get("SECRET_KEY", "bench-only-secret-key"),
        DEBUG="false",
        PARENT_HOST=f"localhost:{port}",
        BENCH_BASELINE_ENDPOINT="1",
        LOG_LEVEL="WARNING",
        # The rate limits guard against abuse; the benchmark is not abuse.
        THROTTLE_PUBLIC_IP="100000000/min",
        THROTTLE_PUBLIC_ACTION="100000000/min",
        STATIC_MANIFEST="false",
        SECURE_SSL_REDIRECT="false",  # plain HTTP on 127.0.0.1
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
    )
    return env


def start_gunicorn(env: dict, port: int, workers: int, threads: int = 1) -> subprocess.Popen:
    """`workers` processes of `threads` threads each: sync workers for 1, else gthread (as deploy/gunicorn.conf.py)."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "salesassist.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync" if threads == 1 else "gthread",
            "--threads",
            str(threads),
            "--log-level",
            "warning",
            "--timeout",
            "60",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 120  # a loaded machine imports slowly
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", headers={"Host": f"localhost:{port}"}, timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    gunicorn_stop(process)
    raise SystemExit("gunicorn did not start")


def gunicorn_stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
