from django.apps import AppConfig


class ActionEngineConfig(AppConfig):
    """The action catalogue, companies' actions, their receivers and modules, and engagements."""

    name = "action_engine"
    verbose_name = "Action engine"
