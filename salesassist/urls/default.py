"""Root URLconf of the default host: admin, health checks, metrics, landing page, action pages, unsubscribe."""
from django.contrib import admin
from django.urls import path

from action_engine.pages import ActionContentView, ActionPageView, sdk_script
from crm.pages import LeadUnsubscribeView
from salesassist import views

admin.site.site_header = "SalesAssist Action Engine"
admin.site.site_title = "SalesAssist"

urlpatterns = [
    path("", views.LandingView.as_view(), name="landing"),
    path("healthz", views.healthz, name="healthz"),
    path("healthz/live", views.healthz_live, name="healthz_live"),
    path("healthz/ready", views.healthz_ready, name="healthz_ready"),
    path("metrics", views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("a/<uuid:action_uuid>/", ActionPageView.as_view(), name="action_page"),
    path("a/<uuid:action_uuid>/content/<uuid:content_uuid>/", ActionContentView.as_view(), name="action_content"),
    path("sdk/salesassist.js", sdk_script, name="sdk_script"),
    path("u/<uuid:lead_uuid>/", LeadUnsubscribeView.as_view(), name="lead_unsubscribe"),
]
