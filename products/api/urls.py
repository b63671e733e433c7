"""Routes of the products API (api.products/v1/)."""
from salesassist.core.api import OptionalSlashRouter

from . import views

app_name = "products"

router = OptionalSlashRouter()
router.register("products", views.ProductViewSet, basename="product")
router.register("content", views.ContentViewSet, basename="content")

urlpatterns = router.urls
