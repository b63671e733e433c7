from django.conf import settings
from django.urls import path
from rest_framework.routers import SimpleRouter

from workflows.api.urls import router as workflows_router

from . import company_action_flows as flows
from . import public

app_name = "action_engine"

router = SimpleRouter(trailing_slash="/?")

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

# Workflows and deliveries live in their own app but are served on this host.
urlpatterns = public_flow_urls + router.urls + workflows_router.urls
