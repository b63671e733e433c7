from rest_framework.routers import SimpleRouter

app_name = "products"

router = SimpleRouter(trailing_slash="/?")

urlpatterns = router.urls
