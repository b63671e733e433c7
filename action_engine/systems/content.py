"""The content system: a page shows documents, videos, articles; the result is a download."""

from action_engine.choices import ModuleKind, Stage, SystemSlug
from salesassist.core.exceptions import InvalidInput

from .base import ActionSystemSpec, parse_uuid


def validate_download(*, config, message: dict) -> dict:
    """`message.content` must be the uuid of one of the action's published content modules."""
    content_uuid = parse_uuid(message.get("content"))
    content = config.contents.get(content_uuid) if content_uuid else None
    if content is None:
        raise InvalidInput(
            "The content is not part of this action.", errors={"message.content": ["Not content of this action."]}
        )
    return {"content": str(content.uuid), "title": content.title, "kind": content.kind, "url": content.url}


SPEC = ActionSystemSpec(
    slug=SystemSlug.CONTENT,
    pipeline=(Stage.SENT, Stage.OPENED, Stage.DOWNLOADED),
    module_kinds=frozenset({ModuleKind.CONTENT}),
    validate_result=validate_download,
)
