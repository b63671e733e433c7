"""The forms system: a page renders a JSON-Schema form; the result is the submitted data."""
from action_engine.choices import ModuleKind, Stage, SystemSlug

from . import ActionSystemSpec

SPEC = ActionSystemSpec(
    slug=SystemSlug.FORMS,
    pipeline=(Stage.SENT, Stage.OPENED, Stage.SUBMITTED),
    module_kinds=frozenset({ModuleKind.FORM}),
)
