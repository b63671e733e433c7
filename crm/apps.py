from django.apps import AppConfig


class CrmConfig(AppConfig):
    """Companies (tenants), their staff and API keys, leads, visitors and lead receivers."""

    name = "crm"
    verbose_name = "CRM"

    def ready(self):
        from .models import LeadReceiverAttempt
        from .retention import RetentionRule, retention_rule_register

        # Nothing refers to a raw call: once its time is up the row goes.
        retention_rule_register(
            RetentionRule(
                name="raw lead receiver calls",
                setting="inbound_call_retention_days",
                rows=LeadReceiverAttempt.objects.all,
                company_field="company_id",
            )
        )
