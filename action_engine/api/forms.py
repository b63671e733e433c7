"""A company's forms (api.action-engine): JSON Schema definitions that forms action pages render."""
from action_engine import services
from action_engine.models import Form
from crm.api.tenancy import CompanyServiceModelViewSet
from salesassist.core.api import crud_schema

from .filters import FormFilterSet
from .serializers import FormSerializer


@crud_schema(
    operation_prefix="forms",
    noun="form",
    serializer=FormSerializer,
    tag="forms",
    destroy_description="Soft delete. A form that a company action still shows answers 409.",
)
class FormViewSet(CompanyServiceModelViewSet):
    """A company's forms; the schema is validated as JSON Schema (draft 2020-12, type object) on write."""

    queryset = Form.objects.all()
    serializer_class = FormSerializer
    filterset_class = FormFilterSet
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["name"]
    create_service = services.form_create
    update_service = services.form_update
    destroy_service = services.form_soft_delete
    instance_kwarg = "form"
