"""Routes of the CRM API (api.crm/v1/). Extend by registering more viewsets on `router` or adding to
`extra_urlpatterns` (plain paths, e.g. public receivers) before `urlpatterns` is built."""
from django.urls import path

from salesassist.core.api import OptionalSlashRouter, optional_slash

from . import lead_imports, lifecycle, receivers, views

app_name = "crm"

router = OptionalSlashRouter()
router.register("leads", views.LeadViewSet, basename="lead")
router.register("visitors", views.VisitorViewSet, basename="visitor")
router.register("lead-receivers", views.LeadReceiverViewSet, basename="lead-receiver")
router.register("companies", views.CompanyViewSet, basename="company")

# Non-router routes of this host: a lead's export and erasure, the public lead receivers, and the replay of
# their calls.
extra_urlpatterns: list = [
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

urlpatterns = [*router.urls, *optional_slash(extra_urlpatterns)]
