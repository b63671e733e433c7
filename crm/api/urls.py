"""Routes of the CRM API (api.crm/v1/), built by `crm_urlpatterns` for the host's URLconf.

A higher app extends them from the host's URLconf (salesassist/urls/crm_api.py), never by being imported
here: it may serve the leads with its own subclass of `views.LeadViewSet` (the action engine's adds each
lead's stage per company action) and add routes of its own beside these.
"""
from django.urls import path

from salesassist.core.api import OptionalSlashRouter, optional_slash

from . import lead_imports, lifecycle, receivers, views

app_name = "crm"


def crm_urlpatterns(*, lead_viewset: type[views.LeadViewSet] = views.LeadViewSet) -> list:
    """The CRM's routes, the leads served by `lead_viewset`."""
    router = OptionalSlashRouter()
    router.register("leads", lead_viewset, basename="lead")
    router.register("visitors", views.VisitorViewSet, basename="visitor")
    router.register("lead-receivers", views.LeadReceiverViewSet, basename="lead-receiver")
    router.register("companies", views.CompanyViewSet, basename="company")
    # Non-router routes: a lead's export and erasure, bulk import, the public lead receivers, and the replay
    # of their calls.
    extra_urlpatterns = [
        path(
            "receivers/<uuid:receiver_uuid>/leads",
            receivers.LeadReceiverCallView.as_view(),
            name="lead-receiver-call-create",
        ),
        path("leads/import", lead_imports.LeadImportView.as_view(), name="lead-import"),
        path("leads/<uuid:uuid>/export", lifecycle.LeadExportView.as_view(), name="lead-export"),
        path("leads/<uuid:uuid>/erase", lifecycle.LeadEraseView.as_view(), name="lead-erase"),
        path(
            "receiver-attempts/<uuid:uuid>/replay",
            receivers.LeadReceiverAttemptReplayView.as_view(),
            name="lead-receiver-attempt-replay",
        ),
    ]
    return [*router.urls, *optional_slash(extra_urlpatterns)]
