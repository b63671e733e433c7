"""The route of a lead's feed; served on api.crm/v1/ by that host's URLconf, beside the CRM's own routes."""
from salesassist.core.api import UUID_PATTERN, OptionalSlashRouter

from .feed import LeadFeedViewSet

app_name = "feed"

router = OptionalSlashRouter()
router.register(rf"leads/(?P<lead_uuid>{UUID_PATTERN})/feed", LeadFeedViewSet, basename="lead-feed")

urlpatterns = router.urls
