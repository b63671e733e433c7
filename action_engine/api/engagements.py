"""A company's engagements (api.action-engine), to read: they are written by the public flow only."""

from rest_framework.decorators import action

from action_engine.selectors import engagement_export, engagement_list
from crm.api.tenancy import CompanyReadOnlyViewSet
from salesassist.core.api import crud_schema
from salesassist.core.csv_export import csv_export_schema, csv_streaming_response
from salesassist.core.filters import StrictDjangoFilterBackend
from salesassist.core.pagination import CursorPagination

from .filters import EngagementFilterSet
from .serializers import EngagementSerializer


@crud_schema(
    operation_prefix="engagements",
    noun="engagement",
    serializer=EngagementSerializer,
    tag="engagements",
    actions=("list", "retrieve"),
)
class EngagementViewSet(CompanyReadOnlyViewSet):
    """The company's engagements, newest first, cursor paged (written by the public flow only)."""

    serializer_class = EngagementSerializer
    filterset_class = EngagementFilterSet
    filter_backends = [StrictDjangoFilterBackend]
    pagination_class = CursorPagination

    def get_queryset(self):
        return engagement_list(company=self.company)

    @csv_export_schema(
        operation_id="engagements_export_csv",
        summary="Export engagements as CSV",
        description=(
            "The engagements the list's filters select, oldest first, as one CSV file streamed while it is read "
            "(any number of rows). Columns: uuid, created_at, action, action_name, lead, lead_email, visitor, "
            "receiver, stage, previous_stage, then one per field of the messages, by its dot path "
            "(`message.data.email`; at most 200, the first seen). A cell that a spreadsheet would run as a formula "
            "starts with a quote."
        ),
        tag="engagements",
        rows="The engagements, one a row.",
        example=(
            "Two engagements",
            (
                "uuid,created_at,action,action_name,lead,lead_email,visitor,receiver,stage,previous_stage,"
                "message.data.email\r\n"
                "1b2c…,2026-12-02 18:00:00+00:00,3f8e…,Contact form,9a8b…,ada@example.com,7d6c…,,opened,,"
                "\r\n"
                "5e4d…,2026-12-02 18:01:00+00:00,3f8e…,Contact form,9a8b…,ada@example.com,7d6c…,,submitted,"
                "opened,ada@example.com\r\n"
            ),
        ),
    )
    @action(detail=False, methods=["get"], url_path="export.csv")
    def export_csv(self, request):
        header, rows = engagement_export(engagements=self.filter_queryset(self.get_queryset()))
        return csv_streaming_response(filename="engagements.csv", header=header, rows=rows)
