from django.db import models


class Stage(models.TextChoices):
    """The one stage vocabulary. Each action system orders a subset of it into its pipeline."""

    SENT = "sent", "Sent"
    OPENED = "opened", "Opened"
    SUBMITTED = "submitted", "Submitted"
    DOWNLOADED = "downloaded", "Downloaded"
    PURCHASED = "purchased", "Purchased"


class ShareChannel(models.TextChoices):
    """How a shared link reaches the lead: returned for the rep to send, or emailed by us."""

    LINK = "link", "Link"
    EMAIL = "email", "Email"


class SystemSlug(models.TextChoices):
    """The action systems this code implements (action_engine/systems/<slug>.py)."""

    FORMS = "forms", "Forms"
    COMMERCE = "commerce", "Commerce"
    CONTENT = "content", "Content"


class ModuleKind(models.TextChoices):
    """What an action page can show: a product, a piece of content or a form."""

    PRODUCT = "product", "Product"
    CONTENT = "content", "Content"
    FORM = "form", "Form"


class FunnelBucket(models.TextChoices):
    """How a bucketed funnel cuts its date range: by the day, week (from Monday) or month a lead started."""

    DAY = "day", "Day"
    WEEK = "week", "Week"
    MONTH = "month", "Month"
