from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The shared kernel: base models, tenancy, API-key auth, pagination, error shape."""

    name = "salesassist.core"
    label = "core"
    verbose_name = "Core"
