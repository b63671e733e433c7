from django.apps import AppConfig


class ActionEngineConfig(AppConfig):
    """The action catalogue, companies' actions, their receivers and modules, and engagements."""

    name = "action_engine"
    verbose_name = "Action engine"

    def ready(self):
        from corsheaders.signals import check_request_enabled

        from .cors import public_origin_allowed

        check_request_enabled.connect(public_origin_allowed, dispatch_uid="action_engine_public_origin_allowed")

        from products.events import content_deleting, product_deleting

        from .services import module_target_delete_check

        # What a page shows stays until it is detached from the page.
        product_deleting.subscribe(module_target_delete_check)
        content_deleting.subscribe(module_target_delete_check)

        from crm.retention import RetentionRule, retention_rule_register

        from .models import Message, ReceiverCall

        # Raw calls go once their time is up; a message keeps its row (its engagement, the feed and the
        # funnel refer to it) with an empty body.
        calls, messages = ReceiverCall.objects.all, Message.objects.all
        retention_rule_register(RetentionRule("raw receiver calls", "inbound_call_retention_days", calls, "company_id"))
        retention_rule_register(
            RetentionRule("message bodies", "message_retention_days", messages, "company_id", blank={"body": {}})
        )
        from crm.lead_data import lead_data_sections

        from .services.lead_data import ACTION_ENGINE_LEAD_DATA_SECTIONS

        # A lead's states, engagements, messages and receiver calls, exported and erased with the rest.
        for section in ACTION_ENGINE_LEAD_DATA_SECTIONS:
            lead_data_sections.register(section)
