from .catalogue import Action, ActionDataType, ActionSystem, ActionType, ActionWorkflow
from .company_actions import (
    ActionCompany,
    ActionCompanyReceiver,
    ActionCompanySystemModule,
    ActionCompanyWorkflow,
    ReceiverCall,
)
from .engagements import Engagement, Message
from .forms import Form

__all__ = [
    "ActionType",
    "ActionSystem",
    "ActionDataType",
    "Action",
    "ActionWorkflow",
    "ActionCompany",
    "ActionCompanyReceiver",
    "ActionCompanyWorkflow",
    "ActionCompanySystemModule",
    "ReceiverCall",
    "Form",
    "Engagement",
    "Message",
]
