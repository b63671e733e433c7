"""What the tests that run the app in other processes (gunicorn, qcluster, manage.py worker) share."""
import socket

from django.db import connection


def database_url_for_processes() -> str:
    """This test run's PostgreSQL database as a DATABASE_URL, so another process works on the same rows."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now: for a server a test starts, or a target that refuses."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
