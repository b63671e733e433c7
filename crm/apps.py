from django.apps import AppConfig


class CrmConfig(AppConfig):
    """Companies (tenants), their staff and API keys, leads, visitors and lead receivers."""

    name = "crm"
    verbose_name = "CRM"
