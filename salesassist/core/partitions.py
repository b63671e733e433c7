"""Monthly partitions by created_at, on PostgreSQL, for tables whose old rows go whole (the raw inbound calls).

A partitioned table has one partition per calendar month (UTC), `<table>_pYYYYMM`, and a default partition,
`<table>_default`, that catches any row no month partition holds yet, so an insert never fails for want of a
partition. `partitions_ensure` creates the months ahead (a daily schedule and `manage.py ensure_partitions`
run it); retention drops a month whole once every company's setting has expired it (crm.services.retention).

PostgreSQL wants the partition key in every unique index: the table's primary key becomes (id, created_at)
and each unique constraint gains created_at. Django keeps `id` as the model's primary key: ids come from one
identity sequence, so `id` alone still names one row for the ORM, the admin and the API. A uuid is unique per
created_at only (uuid4 values do not collide in practice; nothing else relies on the database for it).
On other databases (SQLite in development) tables stay as they are and these functions do nothing.
"""
from datetime import UTC, datetime

from django.conf import settings
from django.db import OperationalError, transaction
from django.db import connection as default_connection

DEFAULT_SUFFIX = "_default"
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock_timeout that ran out


def _month_start(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def _month_after(start: datetime) -> datetime:
    return datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)


def partition_name(table: str, month: datetime) -> str:
    return f"{table}_p{month.year:04d}{month.month:02d}"


def table_is_partitioned(table: str, *, connection=default_connection) -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
            "WHERE c.relname = %s AND pg_table_is_visible(c.oid)",
            [table],
        )
        return cursor.fetchone() is not None


def partitioned_tables(*, connection=default_connection) -> list[str]:
    """The partitioned tables of the database (none but on PostgreSQL)."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
            "WHERE pg_table_is_visible(c.oid) AND NOT c.relispartition ORDER BY c.relname"
        )
        return [row[0] for row in cursor.fetchall()]


def month_partitions(table: str, *, connection=default_connection) -> list[tuple[str, datetime, datetime]]:
    """The table's month partitions, oldest first: (name, from, to); the default partition is not one."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass ORDER BY c.relname",
            [table],
        )
        names = [row[0] for row in cursor.fetchall()]
    months = []
    prefix = f"{table}_p"
    for name in names:
        digits = name[len(prefix) :]
        if name.startswith(prefix) and len(digits) == 6 and digits.isdigit():
            start = datetime(int(digits[:4]), int(digits[4:]), 1, tzinfo=UTC)
            months.append((name, start, _month_after(start)))
    return months


def partitions_ensure(
    *, table: str, until: datetime, since: datetime | None = None, connection=default_connection
) -> list[str]:
    """Create the table's month partitions from the one holding `since` (default: now) through the one holding
    `until`; returns the names created. Rows the default partition caught for such a month move into it."""
    if connection.vendor != "postgresql":
        return []
    existing = {name for name, _, _ in month_partitions(table, connection=connection)}
    created = []
    month = _month_start(since or datetime.now(UTC))
    while month <= until:
        name = partition_name(table, month)
        if name not in existing:
            _partition_create(table, name, month, _month_after(month), connection=connection)
            created.append(name)
        month = _month_after(month)
    return created


def _partition_create(table: str, name: str, start: datetime, end: datetime, *, connection) -> None:
    default = f"{table}{DEFAULT_SUFFIX}"
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(
            f'SELECT EXISTS (SELECT 1 FROM "{default}" WHERE created_at >= %s AND created_at < %s)', [start, end]
        )
        if not cursor.fetchone()[0]:
            cursor.execute(f'CREATE TABLE "{name}" PARTITION OF "{table}" FOR VALUES FROM (%s) TO (%s)', [start, end])
            return
        # PostgreSQL refuses a partition for rows the default holds: move them into a table, then attach it.
        cursor.execute(f'CREATE TABLE "{name}" (LIKE "{table}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)')
        cursor.execute(
            f'WITH moved AS (DELETE FROM "{default}" WHERE created_at >= %s AND created_at < %s RETURNING *) '
            f'INSERT INTO "{name}" SELECT * FROM moved',
            [start, end],
        )
        cursor.execute(f'ALTER TABLE "{table}" ATTACH PARTITION "{name}" FOR VALUES FROM (%s) TO (%s)', [start, end])


def partitions_drop_before(*, table: str, before: datetime, connection=default_connection) -> tuple[int, list[str]]:
    """Drop the table's month partitions that end on or before `before`: (their rows, their names). Each drop
    waits at most PARTITION_LOCK_TIMEOUT for its brief exclusive lock on the table; one that cannot get it
    stays for the next run."""
    if connection.vendor != "postgresql":
        return 0, []
    rows, dropped = 0, []
    for name, _, end in month_partitions(table, connection=connection):
        if end > before:
            break
        try:
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [settings.PARTITION_LOCK_TIMEOUT])
                cursor.execute(f'SELECT COUNT(*) FROM "{name}"')
                count = cursor.fetchone()[0]
                cursor.execute(f'DROP TABLE "{name}"')
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            continue  # the table was busy: the next run drops it
        rows += count
        dropped.append(name)
    return rows, dropped


def partitions_ensure_scheduled() -> dict[str, list[str]]:
    """The daily maintenance: every partitioned table's months through PARTITION_MONTHS_AHEAD from now."""
    until = _month_start(datetime.now(UTC))
    for _ in range(settings.PARTITION_MONTHS_AHEAD):
        until = _month_after(until)
    return {table: partitions_ensure(table=table, until=until) for table in partitioned_tables()}


def _constraints(cursor, table: str, kinds: str) -> list[tuple[str, str, str]]:
    cursor.execute(
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = ANY(%s) ORDER BY conname",
        [table, list(kinds)],
    )
    return cursor.fetchall()


def _rebuild(cursor, table: str, *, partitioned: bool, months: list[datetime]) -> None:
    """The table again with the same columns, rows, indexes and constraints, partitioned by month or not."""
    cursor.execute(
        "SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
        [table, table],
    )
    indexes = [row[0] for row in cursor.fetchall()]
    others = _constraints(cursor, table, "fc")  # foreign keys and checks: the same either way
    keys = _constraints(cursor, table, "pu")
    old = f"{table}_unpartitioned" if partitioned else f"{table}_partitioned"
    cursor.execute(f'ALTER TABLE "{table}" RENAME TO "{old}"')
    clause = " PARTITION BY RANGE (created_at)" if partitioned else ""
    cursor.execute(
        f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING STORAGE){clause}'
    )
    if partitioned:
        for month in months:
            end = _month_after(month)
            cursor.execute(
                f'CREATE TABLE "{partition_name(table, month)}" PARTITION OF "{table}" FOR VALUES FROM (%s) TO (%s)',
                [month, end],
            )
        cursor.execute(f'CREATE TABLE "{table}{DEFAULT_SUFFIX}" PARTITION OF "{table}" DEFAULT')
    cursor.execute(f'INSERT INTO "{table}" SELECT * FROM "{old}"')
    # The ids go on from where the old sequence was, so no id is ever given twice.
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id'), pg_get_serial_sequence(%s, 'id')", [old, table])
    old_sequence, sequence = cursor.fetchone()
    cursor.execute(f"SELECT last_value, is_called FROM {old_sequence}")
    last_value, is_called = cursor.fetchone()
    cursor.execute("SELECT setval(%s, %s, %s)", [sequence, last_value, is_called])
    cursor.execute(f'DROP TABLE "{old}"')  # fails if anything referred to it
    for name, kind, definition in keys:
        # Unique keys hold the partition key (created_at) on a partitioned table, and only their own columns
        # on a plain one.
        columns = [column.strip().strip('"') for column in definition[definition.index("(") + 1 : -1].split(",")]
        columns = [column for column in columns if column != "created_at"]
        if partitioned:
            columns.append("created_at")
        kind_sql = "PRIMARY KEY" if kind == "p" else "UNIQUE"
        cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {kind_sql} ({", ".join(columns)})')
    for name, _, definition in others:
        cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    for definition in indexes:
        cursor.execute(definition)


def table_partition(schema_editor, *, table: str, months_ahead: int) -> None:
    """Migration step: the table partitioned by month of created_at, its rows kept, with month partitions from
    its oldest row's month through `months_ahead` months from now, and the default one. PostgreSQL only."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f'SELECT MIN(created_at) FROM "{table}"')
        oldest = cursor.fetchone()[0]
        month = _month_start(oldest or datetime.now(UTC))
        last = _month_start(datetime.now(UTC))
        for _ in range(months_ahead):
            last = _month_after(last)
        months = []
        while month <= last:
            months.append(month)
            month = _month_after(month)
        _rebuild(cursor, table, partitioned=True, months=months)


def table_unpartition(schema_editor, *, table: str) -> None:
    """The reverse migration step: one plain table again, with its rows, indexes and constraints."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        _rebuild(cursor, table, partitioned=False, months=[])
