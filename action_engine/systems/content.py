"""The content system: a page shows documents, videos, articles; the result is a download."""

from action_engine.choices import ModuleKind, Stage, SystemSlug
from action_engine.models import ActionCompanySystemModule
from salesassist.core.exceptions import InvalidInput

from .base import ActionSystemSpec, parse_uuid


def validate_download(*, action_company, message: dict) -> dict:
    """`message.content` must be the uuid of one of the action's published content modules."""
    content_uuid = parse_uuid(message.get("content"))
    module = (
        ActionCompanySystemModule.objects.filter(
            action_company=action_company,
            kind=ModuleKind.CONTENT,
            content__uuid=content_uuid,
            content__deleted_at__isnull=True,
            content__is_published=True,
        )
        .select_related("content")
        .first()
        if content_uuid
        else None
    )
    if module is None:
        raise InvalidInput(
            "The content is not part of this action.", errors={"message.content": ["Not content of this action."]}
        )
    content = module.content
    return {"content": str(content.uuid), "title": content.title, "kind": content.kind, "url": content.url}


SPEC = ActionSystemSpec(
    slug=SystemSlug.CONTENT,
    pipeline=(Stage.SENT, Stage.OPENED, Stage.DOWNLOADED),
    module_kinds=frozenset({ModuleKind.CONTENT}),
    validate_result=validate_download,
)
