from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Project wiring, not a domain: the `seed_demo` command, which fills every domain with demo data."""

    name = "salesassist.demo"
    label = "demo"
    verbose_name = "Demo data"
