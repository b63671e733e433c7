from django.apps import AppConfig
from django.db.backends.signals import connection_created


class CoreConfig(AppConfig):
    """The shared kernel: base models, tenancy, API-key auth, pagination, error shape."""

    name = "salesassist.core"
    label = "core"
    verbose_name = "Core"

    def ready(self):
        # drf-spectacular finds its extensions by import: these make the schemas describe the strict input.
        from . import schema  # noqa: F401
        from .aggregates import sqlite_median_register

        connection_created.connect(sqlite_median_register, dispatch_uid="sqlite_median_register")
