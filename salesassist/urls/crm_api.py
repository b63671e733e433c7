"""Root URLconf of the SalesAssist CRM API host: the CRM's routes, its leads with their stage on each company
action, and a lead's feed (both the action engine's)."""
from django.urls import include, path

from action_engine.api.lead_stages import LeadWithStagesViewSet
from crm.api.urls import app_name as crm_app_name
from crm.api.urls import crm_urlpatterns

from .api import handler400, handler403, handler404, handler500, not_found_urls, schema_urls  # noqa: F401

# drf-spectacular's settings for this host's schema (manage.py spectacular --custom-settings takes them too).
SCHEMA_SETTINGS = {"TITLE": "SalesAssist CRM API"}

urlpatterns = [
    path("v1/", include((crm_urlpatterns(lead_viewset=LeadWithStagesViewSet), crm_app_name))),
    path("v1/", include("action_engine.api.feed_urls")),
    *schema_urls(__name__, SCHEMA_SETTINGS),
    *not_found_urls,
]
