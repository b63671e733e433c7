from rest_framework.routers import SimpleRouter

app_name = "crm"

router = SimpleRouter(trailing_slash="/?")

urlpatterns = router.urls
