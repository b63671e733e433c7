from django.conf import settings
from django.urls import path

from salesassist.core.api import UUID_PATTERN, OptionalSlashRouter, optional_slash

from . import company_action_flows as flows
from . import public, views

app_name = "action_engine"

router = OptionalSlashRouter()
router.register("action-types", views.ActionTypeViewSet, basename="action-type")
router.register("action-systems", views.ActionSystemViewSet, basename="action-system")
router.register("action-data-types", views.ActionDataTypeViewSet, basename="action-data-type")
router.register("actions", views.ActionViewSet, basename="action")
router.register("company-actions", views.CompanyActionViewSet, basename="company-action")
router.register(
    rf"company-actions/(?P<company_action_uuid>{UUID_PATTERN})/receivers",
    views.CompanyActionReceiverViewSet,
    basename="company-action-receiver",
)
router.register(
    rf"company-actions/(?P<company_action_uuid>{UUID_PATTERN})/modules",
    views.CompanyActionModuleViewSet,
    basename="company-action-module",
)
router.register("forms", views.FormViewSet, basename="form")
router.register("engagements", views.EngagementViewSet, basename="engagement")

# The public flow (action pages, receivers) and its API-key endpoints; explicit paths before the router's.
public_flow_urls = [
    path("public/actions/<uuid:action_uuid>", public.PublicActionPageView.as_view(), name="public-action-page"),
    path("public/engagements", public.PublicEngagementCreateView.as_view(), name="public-engagement-create"),
    path("receivers/<uuid:receiver_uuid>", public.ReceiverCallCreateView.as_view(), name="receiver-call-create"),
    path("company-actions/<uuid:uuid>/share", flows.CompanyActionShareView.as_view(), name="company-action-share"),
    path("company-actions/<uuid:uuid>/funnel", flows.CompanyActionFunnelView.as_view(), name="company-action-funnel"),
    path("receiver-calls/<uuid:uuid>/replay", flows.ReceiverCallReplayView.as_view(), name="receiver-call-replay"),
]
if settings.BENCH_BASELINE_ENDPOINT:
    public_flow_urls.append(path("public/bench/baseline/<int:company_id>", public.BenchBaselineView.as_view()))
urlpatterns = optional_slash(public_flow_urls) + router.urls
