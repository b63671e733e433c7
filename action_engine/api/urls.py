from rest_framework.routers import SimpleRouter

from workflows.api.urls import router as workflows_router

app_name = "action_engine"

router = SimpleRouter(trailing_slash="/?")

# Workflows and deliveries live in their own app but are served on this host.
urlpatterns = router.urls + workflows_router.urls
