"""What the benchmarks share (they run as scripts, so this folder is on sys.path: `from common import …`)."""

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
API_HOST = "api.action-engine.localhost"


def _server_connection(server_url: str):
    import psycopg

    parts = urlsplit(server_url)
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)


def bench_database_url(server_url: str, name: str) -> str:
    """Create (drop first) the benchmark's own database on the server of DATABASE_URL."""
    with _server_connection(server_url) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


def bench_database_drop(server_url: str, name: str) -> None:
    with _server_connection(server_url) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def in_process_database(name: str) -> tuple[str, str]:
    """For a benchmark that runs Django in its own process: a new, empty database `name` on the PostgreSQL
    server of DATABASE_URL (127.0.0.1 only), and this process's environment pointed at it. Answers the server's
    URL (to drop the database afterwards) and the database's."""
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url.startswith(("postgres://", "postgresql://", "pgsql://")):
        sys.exit("DATABASE_URL must point at PostgreSQL (postgres://user@host:port/any-database).")
    if urlsplit(server_url).hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("The benchmark only talks to 127.0.0.1.")
    database_url = bench_database_url(server_url, name)
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesassist.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    return server_url, database_url


def secondary_indexes_drop(cursor, tables) -> list[str]:
    """Drop the tables' indexes that no constraint owns (primary and unique keys stay), for a bulk load; answers
    their definitions, to build them again once the rows are in: far quicker than keeping them up to date row by
    row."""
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
        [list(tables)],
    )
    indexes = cursor.fetchall()
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    # A partitioned table's index is defined ON ONLY the table; built again, it is built on every partition.
    return [definition.replace(" ON ONLY ", " ON ") for _, definition in indexes]


@contextmanager
def indexes_dropped(cursor, tables):
    """Load inside this without the tables' secondary indexes (secondary_indexes_drop); they are built after."""
    definitions = secondary_indexes_drop(cursor, tables)
    yield
    for definition in definitions:
        cursor.execute(definition)


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


def engagement_request(*, action: str, link: dict, number: int, key_prefix: str) -> tuple[str, dict, dict]:
    """The public engagement request number `number` for a lead's link ({"lead", "visitor", "token"}): odd ones a
    submitted form with a message, even ones an opened page, each with its own Idempotency-Key."""
    body = {
        "action": action,
        "lead": link["lead"],
        "visitor": link["visitor"],
        "token": link["token"],
        "stage": "submitted" if number % 2 else "opened",
        "message": {"data": {"name": f"Lead {number}", "email": f"{key_prefix}{number}@bench.example"}}
        if number % 2
        else {},
    }
    return "/v1/public/engagements", body, {"Idempotency-Key": f"{key_prefix}-{number}"}


def baseline_request(request: tuple[str, dict, dict], company_id: int) -> tuple[str, dict, dict]:
    """The same body and headers, to the one-INSERT baseline endpoint (routed only with BENCH_BASELINE_ENDPOINT=1)."""
    _, body, headers = request
    return f"/v1/public/bench/baseline/{company_id}", body, headers
