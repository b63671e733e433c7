"""What the benchmarks share (they run as scripts, so this folder is on sys.path: `from common import …`)."""

from urllib.parse import urlsplit, urlunsplit


def bench_database_url(server_url: str, name: str) -> str:
    """Create (drop first) the benchmark's own database on the server of DATABASE_URL."""
    import psycopg

    parts = urlsplit(server_url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))
