from django.conf import settings
from django.urls import path

from salesassist.core.api import UUID_PATTERN, OptionalSlashRouter, optional_slash

from . import board, catalogue, company_actions, engagements, forms, public
from . import company_action_flows as flows

app_name = "action_engine"

router = OptionalSlashRouter()
router.register("action-types", catalogue.ActionTypeViewSet, basename="action-type")
router.register("action-systems", catalogue.ActionSystemViewSet, basename="action-system")
router.register("action-data-types", catalogue.ActionDataTypeViewSet, basename="action-data-type")
router.register("actions", catalogue.ActionViewSet, basename="action")
router.register("company-actions", company_actions.CompanyActionViewSet, basename="company-action")
router.register(
    rf"company-actions/(?P<company_action_uuid>{UUID_PATTERN})/receivers",
    company_actions.CompanyActionReceiverViewSet,
    basename="company-action-receiver",
)
router.register(
    rf"company-actions/(?P<company_action_uuid>{UUID_PATTERN})/modules",
    company_actions.CompanyActionModuleViewSet,
    basename="company-action-module",
)
router.register("forms", forms.FormViewSet, basename="form")
router.register("engagements", engagements.EngagementViewSet, basename="engagement")

# The public flow (action pages, receivers) and its API-key endpoints; explicit paths before the router's.
public_flow_urls = [
    path("public/actions/<uuid:action_uuid>", public.PublicActionPageView.as_view(), name="public-action-page"),
    path("public/engagements", public.PublicEngagementCreateView.as_view(), name="public-engagement-create"),
    path("receivers/<uuid:receiver_uuid>", public.ReceiverCallCreateView.as_view(), name="receiver-call-create"),
    path("company-actions/<uuid:uuid>/share", flows.CompanyActionShareView.as_view(), name="company-action-share"),
    path("company-actions/<uuid:uuid>/funnel", flows.CompanyActionFunnelView.as_view(), name="company-action-funnel"),
    path("company-actions/<uuid:uuid>/leads", board.CompanyActionBoardView.as_view(), name="company-action-leads"),
    path("receiver-calls/<uuid:uuid>/replay", flows.ReceiverCallReplayView.as_view(), name="receiver-call-replay"),
]
if settings.BENCH_BASELINE_ENDPOINT:
    public_flow_urls.append(path("public/bench/baseline/<int:company_id>", public.BenchBaselineView.as_view()))
urlpatterns = optional_slash(public_flow_urls) + router.urls
