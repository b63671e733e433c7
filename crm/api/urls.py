from rest_framework.routers import DefaultRouter

app_name = "crm"

router = DefaultRouter(trailing_slash="/?")

urlpatterns = router.urls
