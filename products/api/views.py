"""Views of the products API (api.products): products with nested variants, and content."""
from crm.api.tenancy import CompanyServiceModelViewSet
from products import services
from products.models import Content, Product
from salesassist.core.api import crud_schema

from .filters import ContentFilterSet, ProductFilterSet
from .serializers import ContentSerializer, ProductSerializer


@crud_schema(
    operation_prefix="products",
    noun="product",
    serializer=ProductSerializer,
    tag="products",
    destroy_description="Soft delete. A product that a company action still shows answers 409.",
)
class ProductViewSet(CompanyServiceModelViewSet):
    """A company's products; variants are read and written nested (a written list replaces the set)."""

    queryset = Product.objects.prefetch_related("variants")
    serializer_class = ProductSerializer
    filterset_class = ProductFilterSet
    search_fields = ["name", "sku", "description"]
    ordering_fields = ["name", "price", "created_at", "updated_at"]
    ordering = ["name"]
    create_service = services.product_create
    update_service = services.product_update
    destroy_service = services.product_soft_delete
    instance_kwarg = "product"


@crud_schema(
    operation_prefix="content",
    noun="content item",
    serializer=ContentSerializer,
    tag="content",
    destroy_description="Soft delete. Content that a company action still shows answers 409.",
)
class ContentViewSet(CompanyServiceModelViewSet):
    """A company's documents, videos, articles and links."""

    queryset = Content.objects.all()
    serializer_class = ContentSerializer
    filterset_class = ContentFilterSet
    search_fields = ["title", "body", "url"]
    ordering_fields = ["title", "kind", "created_at", "updated_at"]
    ordering = ["title"]
    create_service = services.content_create
    update_service = services.content_update
    destroy_service = services.content_soft_delete
    instance_kwarg = "content"
