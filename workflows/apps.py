from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    """Workflows that deliver engagements to third parties, with every delivery and attempt."""

    name = "workflows"
    verbose_name = "Workflows"
