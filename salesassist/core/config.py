"""Configuration cached per process, checked against one version row on every request.

The hot path (an engagement) reads the same configuration on every request: the company action with its
system, modules and workflows. Each app keeps what it reads in a `ConfigCache`, and every write of a model
that such a cache is built from sets `ConfigVersion` to a new value in the write's transaction (the models
inherit `ConfigVersionedModel` or one of its kinds: their save, delete and queryset writes all call
`config_version_bump`). A cache that sees a version it was not built for drops everything and reloads.

A request reads the version once (`ConfigVersionMiddleware` pins it for the request's duration), so the
caches of several apps cost one statement together; outside a request each read is a statement.

A value handed out by a cache is shared by every thread of the process: it must not be changed. The apps
keep frozen values, or hand out copies (see `ConfigCache`).
"""
import copy
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection
from django.db.models import JSONField, Model

CONFIG_VERSION_TABLE = "core_configversion"
CONFIG_VERSION_ROW = 1

# The version this request read ([None] until it is read), when the request pins one.
_pinned: ContextVar[list | None] = ContextVar("config_version_pinned", default=None)


def _version_read() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value FROM {CONFIG_VERSION_TABLE} WHERE id = %s", [CONFIG_VERSION_ROW])
        row = cursor.fetchone()
    return str(row[0]) if row else None


# The version as a scalar subquery, for a caller that folds its read into a statement it makes anyway (and
# then hands the value to `config_version_seen`).
CONFIG_VERSION_SQL = f"(SELECT value FROM {CONFIG_VERSION_TABLE} WHERE id = {CONFIG_VERSION_ROW})"


def config_version_seen(value) -> None:
    """Take `value`, read by one of the caller's own statements (CONFIG_VERSION_SQL), as this request's version,
    unless the request read one already. Outside a pinned scope it is not kept."""
    pinned = _pinned.get()
    if pinned is not None and pinned[0] is None and value is not None:
        pinned[0] = str(value)


def config_version() -> str | None:
    """The configuration version now (once per pinned scope); None when the row is missing (a flushed
    database), and then nothing is cached."""
    pinned = _pinned.get()
    if pinned is None:
        return _version_read()
    if pinned[0] is None:
        pinned[0] = _version_read()
    return pinned[0]


def config_version_bump() -> None:
    """Give the configuration a new version, in the caller's transaction: every process reloads what it cached
    once that commits (and not before, so none caches the old configuration under the new version)."""
    value = uuid.uuid4().hex
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {CONFIG_VERSION_TABLE} SET value = %s WHERE id = %s", [value, CONFIG_VERSION_ROW])
        if cursor.rowcount == 0:
            # A flushed database (a test's TransactionTestCase): the first change brings the row back.
            cursor.execute(
                f"INSERT INTO {CONFIG_VERSION_TABLE} (id, value) VALUES (%s, %s)", [CONFIG_VERSION_ROW, value]
            )
    pinned = _pinned.get()
    if pinned is not None:
        # What this request reads from now on must see its own change.
        pinned[0] = None


@contextmanager
def config_version_pinned():
    """Read the version at most once inside this block (nested blocks share the outer one's)."""
    if _pinned.get() is not None:
        yield
        return
    token = _pinned.set([None])
    try:
        yield
    finally:
        _pinned.reset(token)


class ConfigVersionMiddleware:
    """Every request reads the configuration version at most once, whichever caches it uses."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with config_version_pinned():
            return self.get_response(request)


class ConfigCache:
    """Values built by `loader(key)` from configuration, kept per process while the version stays the same.

    Thread-safe (a lock guards the entries; a load runs outside it, so two threads may load one key at
    once and both get a correct value). At most `max_entries` keys, the least recently used dropped first.
    A loader that returns None (nothing has that key) or raises stores nothing: random keys cannot fill it.
    What the loader returns is shared: it must be immutable, or the caller must copy it.
    """

    def __init__(self, loader: Callable[[Hashable], object], *, max_entries: int = 2048):
        self._loader = loader
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self._version: str | None = None
        self._entries: OrderedDict = OrderedDict()

    def peek(self, key: Hashable):
        """What is cached for `key`, whatever version it was built for (None if nothing): a guess to be checked
        against the version, never an answer."""
        with self._lock:
            return self._entries.get(key)

    def get(self, key: Hashable):
        version = config_version()
        if version is None:
            return self._loader(key)
        with self._lock:
            if self._version != version:
                self._entries.clear()
                self._version = version
            elif key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        value = self._loader(key)
        if value is None:
            return None
        with self._lock:
            if self._version == version:
                self._entries[key] = value
                while len(self._entries) > self._max_entries:
                    self._entries.popitem(last=False)
        return value


def model_graph_copy(instance: Model) -> Model:
    """A copy of a model instance and of the related instances it holds (select_related), each with its own
    state and its own JSON values: what a caller changes on it never reaches the cached original.

    Cheaper than copy.deepcopy (which also copies each field's internals), which matters on the hot path."""
    clone = copy.copy(instance)  # Django gives the copy its own _state and fields cache (shallow)
    for field in instance._meta.concrete_fields:
        if isinstance(field, JSONField):
            setattr(clone, field.attname, copy.deepcopy(getattr(instance, field.attname)))
    related = clone._state.fields_cache
    for name, value in related.items():
        related[name] = model_graph_copy(value) if value is not None else None
    return clone
