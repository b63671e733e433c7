from rest_framework.routers import DefaultRouter

app_name = "products"

router = DefaultRouter(trailing_slash="/?")

urlpatterns = router.urls
