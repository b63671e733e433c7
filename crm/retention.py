"""Retention rules: what becomes of old bodies, table by table. Each app registers the rules of its own tables in
its AppConfig.ready(); crm.services.retention applies them, company by company, in bounded batches."""
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet


@dataclass(frozen=True)
class RetentionRule:
    """Rows of `rows()` older than their company's retention: their `blank` columns emptied (the rows stay, for
    the rows and the funnel that need them), or, without `blank`, the rows deleted."""

    name: str  # what the command reports, e.g. "delivery attempt bodies"
    setting: str  # one of RETENTION_SETTINGS
    rows: Callable[[], QuerySet]
    company_field: str  # the rows' company id, as a lookup path ("delivery__company_id")
    blank: dict | None = None  # column -> its empty value

    def pending(self) -> QuerySet:
        """The rows this rule still has work on: every row (delete), or those with a column not yet empty."""
        rows = self.rows()
        if not self.blank:
            return rows
        return rows.filter(reduce(or_, (~Q(**{column: empty}) for column, empty in self.blank.items())))


# The keys of Company.settings that set a retention (days; null keeps forever; absent: the platform's
# default), each with the Django setting that holds that default (days; 0 keeps forever).
RETENTION_SETTINGS = {
    "attempt_body_retention_days": "RETENTION_ATTEMPT_BODY_DAYS",
    "inbound_call_retention_days": "RETENTION_INBOUND_CALL_DAYS",
    "message_retention_days": "RETENTION_MESSAGE_DAYS",
}
RETENTION_MAX_DAYS = 36500

_RULES: list[RetentionRule] = []


def retention_rule_register(rule: RetentionRule) -> RetentionRule:
    """Add a table's rule (once per name)."""
    if rule.setting not in RETENTION_SETTINGS:
        raise ValueError(f"Unknown retention setting {rule.setting!r}.")
    if all(existing.name != rule.name for existing in _RULES):
        _RULES.append(rule)
    return rule


def retention_rules() -> tuple[RetentionRule, ...]:
    return tuple(_RULES)

