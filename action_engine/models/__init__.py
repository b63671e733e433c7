from .catalogue import Action, ActionDataType, ActionSystem, ActionType
from .company_actions import (
    ActionCompany,
    ActionCompanyReceiver,
    ActionCompanySystemModule,
    ReceiverCall,
)
from .engagements import Engagement, LeadActionState, Message
from .forms import Form

__all__ = [
    "ActionType",
    "ActionSystem",
    "ActionDataType",
    "Action",
    "ActionCompany",
    "ActionCompanyReceiver",
    "ActionCompanySystemModule",
    "ReceiverCall",
    "Form",
    "Engagement",
    "Message",
    "LeadActionState",
]
