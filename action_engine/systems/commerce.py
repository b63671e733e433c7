"""The commerce system: a page lists products; the result is a purchased cart."""
from action_engine.choices import ModuleKind, Stage, SystemSlug

from . import ActionSystemSpec

SPEC = ActionSystemSpec(
    slug=SystemSlug.COMMERCE,
    pipeline=(Stage.SENT, Stage.OPENED, Stage.PURCHASED),
    module_kinds=frozenset({ModuleKind.PRODUCT}),
)
