from django.db import models


class ContentKind(models.TextChoices):
    DOCUMENT = "document", "Document"
    VIDEO = "video", "Video"
    ARTICLE = "article", "Article"
    LINK = "link", "Link"
