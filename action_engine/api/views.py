"""What other apps' views build on (workflows.api.links): the catalogue's and company actions' path
parameters, tags and nested-route mixin. The views themselves live one module a concern: catalogue,
company_actions, forms, engagements."""
from .catalogue import ACTION_UUID, TAG_CATALOGUE
from .company_actions import COMPANY_ACTION_UUID, TAG_COMPANY_ACTIONS, CompanyActionChildMixin

__all__ = ["ACTION_UUID", "COMPANY_ACTION_UUID", "TAG_CATALOGUE", "TAG_COMPANY_ACTIONS", "CompanyActionChildMixin"]
