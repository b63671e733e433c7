from rest_framework.routers import DefaultRouter

app_name = "action_engine"

router = DefaultRouter(trailing_slash="/?")

urlpatterns = router.urls
