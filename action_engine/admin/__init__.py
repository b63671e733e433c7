"""Admin of the action engine: the catalogue, company actions with their receivers and modules, forms, the
engagement history, the pipeline state and a lead's feed and stages (on crm's Lead admin); every write goes
through the services. The workflows app adds its inlines (workflows, deliveries) to these admins and builds
its link rows on LinkRowsFormSet and LinkRowForm."""
from .catalogue import ActionAdmin, ActionDataTypeAdmin, ActionSystemAdmin, ActionTypeAdmin
from .company_actions import ActionCompanyAdmin, ActionCompanySystemModuleAdmin
from .engagements import EngagementAdmin, MessageAdmin
from .feed import LeadWithFeedAdmin
from .forms import FormAdmin
from .states import LeadActionStateAdmin
from .receivers import ActionCompanyReceiverAdmin, ReceiverCallAdmin
from .rows import LinkRowForm, LinkRowsFormSet

__all__ = [
    "ActionAdmin",
    "ActionCompanyAdmin",
    "ActionCompanyReceiverAdmin",
    "ActionCompanySystemModuleAdmin",
    "ActionDataTypeAdmin",
    "ActionSystemAdmin",
    "ActionTypeAdmin",
    "EngagementAdmin",
    "FormAdmin",
    "LeadActionStateAdmin",
    "LeadWithFeedAdmin",
    "LinkRowForm",
    "LinkRowsFormSet",
    "MessageAdmin",
    "ReceiverCallAdmin",
]
