from django.apps import AppConfig


class CrmConfig(AppConfig):
    """Companies (tenants), their staff and API keys, leads, visitors and lead receivers."""

    name = "crm"
    verbose_name = "CRM"

    def ready(self):
        from .models import LeadReceiverAttempt
        from .retention import RetentionRule, retention_rule_register

        # Nothing refers to a raw call: once its time is up the row goes.
        calls, key = LeadReceiverAttempt.objects.all, "inbound_call_retention_days"
        retention_rule_register(RetentionRule("raw lead receiver calls", key, calls, "company_id"))
