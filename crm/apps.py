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
        from .lead_data import lead_data_sections
        from .services.lead_lifecycle import CRM_LEAD_DATA_SECTIONS

        # A lead's data held in crm's own tables, exported and erased with the rest.
        for section in CRM_LEAD_DATA_SECTIONS:
            lead_data_sections.register(section)
