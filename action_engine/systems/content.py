"""The content system: a page shows documents, videos, articles; the result is a download."""
from action_engine.choices import ModuleKind, Stage, SystemSlug

from . import ActionSystemSpec

SPEC = ActionSystemSpec(
    slug=SystemSlug.CONTENT,
    pipeline=(Stage.SENT, Stage.OPENED, Stage.DOWNLOADED),
    module_kinds=frozenset({ModuleKind.CONTENT}),
)
