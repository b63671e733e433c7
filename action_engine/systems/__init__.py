"""Action systems: each powers a kind of action page, orders its stages and says what it can show.

One module per system; `SYSTEMS` is the registry the rest of the code reads.
"""
from dataclasses import dataclass

from action_engine.choices import ModuleKind, Stage, SystemSlug


@dataclass(frozen=True)
class ActionSystemSpec:
    """What the code knows about one action system."""

    slug: SystemSlug
    pipeline: tuple[Stage, ...]
    module_kinds: frozenset[ModuleKind]

    @property
    def result_stage(self) -> Stage:
        """The stage whose message carries the page's result (a form's data, a cart…)."""
        return self.pipeline[-1]

    def stage_rank(self, stage: str) -> int:
        """The position of a stage in the pipeline; ValueError when the system has no such stage."""
        return self.pipeline.index(Stage(stage))


def _registry() -> dict[str, ActionSystemSpec]:
    from . import commerce, content, forms

    return {spec.slug: spec for spec in (forms.SPEC, commerce.SPEC, content.SPEC)}


SYSTEMS: dict[str, ActionSystemSpec] = _registry()


def system_spec(slug: str) -> ActionSystemSpec:
    return SYSTEMS[slug]
