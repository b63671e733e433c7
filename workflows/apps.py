from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    """Workflows that deliver events (engagements, leads, dead deliveries) to third parties, with every
    delivery and attempt."""

    name = "workflows"
    verbose_name = "Workflows"

    def ready(self):
        from action_engine.events import engagement_recorded
        from crm.events import lead_created, lead_erased, lead_updated

        from .services import engagement_fanout, lead_created_fanout, lead_erased_fanout, lead_updated_fanout

        # Every event gets its deliveries in its own transaction (the outbox).
        engagement_recorded.subscribe(engagement_fanout)
        lead_created.subscribe(lead_created_fanout)
        lead_updated.subscribe(lead_updated_fanout)
        lead_erased.subscribe(lead_erased_fanout)

        from crm.retention import RetentionRule, retention_rule_register

        from .models import DeliveryAttempt

        # An attempt's row stays (the delivery's history); what it sent and got back is emptied.
        attempts, bodies = DeliveryAttempt.objects.all, {"request_body": "", "response_body": ""}
        key = "attempt_body_retention_days"
        retention_rule_register(RetentionRule("delivery attempt bodies", key, attempts, "delivery__company_id", bodies))

        from crm.lead_data import lead_data_sections

        from .services.lead_data import WORKFLOWS_LEAD_DATA_SECTIONS

        # A lead's deliveries and their attempts, exported and erased with the rest.
        for section in WORKFLOWS_LEAD_DATA_SECTIONS:
            lead_data_sections.register(section)
