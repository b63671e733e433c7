from django.apps import AppConfig


class ActionEngineConfig(AppConfig):
    """The action catalogue, companies' actions, their receivers and modules, and engagements."""

    name = "action_engine"
    verbose_name = "Action engine"

    def ready(self):
        from corsheaders.signals import check_request_enabled

        from .cors import public_origin_allowed

        check_request_enabled.connect(public_origin_allowed, dispatch_uid="action_engine_public_origin_allowed")
