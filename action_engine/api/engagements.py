"""A company's engagements (api.action-engine), to read: they are written by the public flow only."""

from action_engine.selectors import engagement_list
from crm.api.tenancy import CompanyReadOnlyViewSet
from salesassist.core.api import crud_schema
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
