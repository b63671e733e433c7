"""What every action system is: its pipeline of stages, what its pages show, how its result is checked."""
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from action_engine.choices import ModuleKind, Stage, SystemSlug
from salesassist.core.exceptions import InvalidInput
from salesassist.core.uuids import canonical_uuid

# validate_result(config=..., message=...) -> the cleaned message to store (config: action_engine/configs.py)
ResultValidator = Callable[..., dict]


@dataclass(frozen=True)
class ActionSystemSpec:
    """What the code knows about one action system."""

    slug: SystemSlug
    pipeline: tuple[Stage, ...]
    module_kinds: frozenset[ModuleKind]
    validate_result: ResultValidator | None = None

    @property
    def result_stage(self) -> Stage:
        """The stage whose message carries the page's result (a form's data, a cart…)."""
        return self.pipeline[-1]

    def stage_rank(self, stage: str) -> int:
        """The position of a stage in the pipeline; ValueError when the system has no such stage."""
        return self.pipeline.index(Stage(stage))

    def furthest_stage(self, stages) -> str:
        """The furthest of `stages` along the pipeline ("" when none is in it): the lead's current stage."""
        ranks = [self.stage_rank(stage) for stage in stages if stage in self.pipeline]
        return str(self.pipeline[max(ranks)]) if ranks else ""

    def validate_message(self, *, config, stage: str, message) -> dict:
        """The message to store for `stage`, checked against the company action's `config` (its modules:
        action_engine/configs.py); InvalidInput (errors per field) when it is not acceptable."""
        if not isinstance(message, dict):
            raise InvalidInput("The message must be a JSON object.", errors={"message": ["Must be a JSON object."]})
        if stage == self.result_stage and self.validate_result is not None:
            return self.validate_result(config=config, message=message)
        return message


def parse_uuid(value) -> uuid.UUID | None:
    """A uuid from a message value; None when it is missing or not a uuid in canonical form."""
    return canonical_uuid(value)
