from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    """Workflows that deliver engagements to third parties, with every delivery and attempt."""

    name = "workflows"
    verbose_name = "Workflows"

    def ready(self):
        from action_engine.events import engagement_recorded

        from .services import engagement_fanout

        # Every recorded engagement gets its deliveries in its own transaction.
        engagement_recorded.subscribe(engagement_fanout)

        from crm.lead_data import lead_data_sections

        from .services.lead_data import WORKFLOWS_LEAD_DATA_SECTIONS

        # A lead's deliveries and their attempts, exported and erased with the rest.
        for section in WORKFLOWS_LEAD_DATA_SECTIONS:
            lead_data_sections.register(section)
