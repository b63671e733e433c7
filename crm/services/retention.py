"""Retention: each registered rule (crm.retention) applied to the rows older than their company's setting, in
transactions of RETENTION_BATCH_SIZE rows chosen by id (row locks only, never a table lock); on a table
partitioned by month (salesassist/core/partitions.py), the months every company has expired are dropped whole
first (a brief lock, bounded by PARTITION_LOCK_TIMEOUT)."""
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from salesassist.core.exceptions import InvalidInput
from salesassist.core.partitions import partitions_drop_before, table_is_partitioned

from ..models import Company
from ..retention import RETENTION_MAX_DAYS, RETENTION_SETTINGS, RetentionRule, retention_rules


def _days_valid(days) -> bool:
    return isinstance(days, int) and not isinstance(days, bool) and 1 <= days <= RETENTION_MAX_DAYS


def retention_settings_check(*, company_settings) -> None:
    """InvalidInput naming each retention key of a company's settings that is not null or a number of days."""
    if not isinstance(company_settings, dict):
        raise InvalidInput("settings must be a JSON object.", errors={"settings": ["Must be a JSON object."]})
    errors = {}
    for key in RETENTION_SETTINGS:
        if key not in company_settings:
            continue
        days = company_settings[key]
        if days is not None and not _days_valid(days):
            errors[f"settings.{key}"] = [f"A number of days from 1 to {RETENTION_MAX_DAYS}, or null to keep forever."]
    if errors:
        raise InvalidInput("The company's retention settings are invalid; see errors.", errors=errors)


def retention_in_effect(*, company: Company) -> dict[str, int | None]:
    """Days each retention setting keeps for the company (None: forever): its own value, else the default."""
    own = company.settings if isinstance(company.settings, dict) else {}
    kept = {key: getattr(settings, default) or None for key, default in RETENTION_SETTINGS.items()}
    kept.update({key: own[key] for key in kept if key in own and (own[key] is None or _days_valid(own[key]))})
    return kept


@dataclass
class RetentionReport:
    """Rows blanked or deleted (or, in a dry run, that would be) per rule; `finished` unless the time ran out."""

    rows: dict[str, int] = field(default_factory=dict)
    finished: bool = True


def _days_by_company(rule: RetentionRule) -> tuple[dict[int | None, list[int]], list[int]]:
    """The companies that set the rule's retention, grouped by their days (None: forever), and all their ids."""
    groups: dict[int | None, list[int]] = defaultdict(list)
    for company_id, own in Company.objects.filter(settings__has_key=rule.setting).values_list("id", "settings"):
        days = own.get(rule.setting)
        if days is None or _days_valid(days):  # a value stored before it was checked counts as unset
            groups[days].append(company_id)
    return groups, [company_id for ids in groups.values() for company_id in ids]


def _batches(queryset, *, batch_size: int):
    """Ids of the queryset's rows, ascending, `batch_size` at a time; each batch starts after the last one's
    highest id, so blanked or deleted rows are never read twice and every run ends."""
    last_id = 0
    while True:
        ids = list(queryset.filter(id__gt=last_id).order_by("id").values_list("id", flat=True)[:batch_size])
        if not ids:
            return
        yield ids
        if len(ids) < batch_size:
            return
        last_id = ids[-1]


def _partitions_drop(rule: RetentionRule, *, now, kept: list[int | None]) -> int:
    """On a table partitioned by month, drop the months that every company's retention has expired (the longest
    one counts; a company that keeps forever keeps every month); the batches then delete what is left."""
    table = rule.rows().model._meta.db_table
    if None in kept or not table_is_partitioned(table):
        return 0
    rows, _ = partitions_drop_before(table=table, before=now - timedelta(days=max(kept)))
    return rows


def _rule_apply(
    rule: RetentionRule, *, now, dry_run: bool, batch_size: int, deadline: float | None
) -> tuple[int, bool]:
    groups, overridden = _days_by_company(rule)
    default_days = getattr(settings, RETENTION_SETTINGS[rule.setting]) or None
    company_in = f"{rule.company_field}__in"
    targets = [(days, rule.pending().filter(**{company_in: ids})) for days, ids in groups.items()]
    targets.append((default_days, rule.pending().exclude(**{company_in: overridden})))
    changed = 0
    if not rule.blank and not dry_run:  # a dry run counts the same rows in its batches
        changed += _partitions_drop(rule, now=now, kept=[default_days, *groups])
    for days, rows in targets:
        if days is None:
            continue
        for ids in _batches(rows.filter(created_at__lt=now - timedelta(days=days)), batch_size=batch_size):
            if deadline is not None and time.monotonic() >= deadline:
                return changed, False
            if not dry_run:
                with transaction.atomic():
                    batch = rule.rows().filter(id__in=ids)
                    if rule.blank:
                        batch.update(**rule.blank)
                    else:
                        batch.delete()
            changed += len(ids)
    return changed, True


def retention_apply(*, dry_run: bool = False, seconds: float | None = None) -> RetentionReport:
    """Blank or delete what every company's retention no longer keeps; with `seconds`, stop starting batches
    after that long (the next run carries on)."""
    now = timezone.now()
    deadline = time.monotonic() + seconds if seconds is not None else None
    report = RetentionReport()
    for rule in retention_rules():
        changed, finished = _rule_apply(
            rule, now=now, dry_run=dry_run, batch_size=max(1, settings.RETENTION_BATCH_SIZE), deadline=deadline
        )
        report.rows[rule.name] = report.rows.get(rule.name, 0) + changed
        if not finished:
            report.finished = False
            break
    return report
