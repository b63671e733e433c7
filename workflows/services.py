"""Write operations of the workflows domain."""
from .models import Delivery
from .selectors import workflows_for_engagement


def engagement_fanout(*, engagement) -> list[Delivery]:
    """Write one pending Delivery per matching workflow, in the caller's (the engagement's) transaction."""
    return Delivery.objects.bulk_create(
        [
            Delivery(company_id=engagement.company_id, workflow=workflow, engagement=engagement)
            for workflow in workflows_for_engagement(engagement=engagement)
        ]
    )

