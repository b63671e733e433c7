"""Read queries of the action engine domain."""
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import (
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek
from django.utils import timezone
from django_hosts.resolvers import reverse

from crm.models import Lead
from products.models import Content, Variant
from salesassist.core.aggregates import Median
from salesassist.core.config import CONFIG_VERSION_SQL, config_version_seen
from salesassist.core.dotpath import dot_path_leaves
from salesassist.core.exceptions import InvalidInput, NotFound
from salesassist.core.json_schema import schema_pattern_errors
from salesassist.hosts import DEFAULT as DEFAULT_HOST

from .choices import FunnelBucket, ModuleKind, Stage
from .configs import ActionCompanyConfig, action_company_config, action_company_config_peek
from .errors import ActionEngineError
from .models import Action, ActionCompany, ActionCompanySystemModule, Engagement, Form, LeadActionState
from .prefill import lead_prefill
from .systems import system_spec

# One answer for every reason a public action cannot be served, so a caller learns nothing from it.
PUBLIC_NOT_FOUND = "No such action."


def public_action_config_get(*, action_uuid) -> ActionCompanyConfig:
    """The cached configuration of an action that pages may use (`ActionCompanyConfig.is_public`); the one 404
    otherwise."""
    config = action_company_config(action_uuid=action_uuid)
    if config is None or not config.is_public:
        raise NotFound(PUBLIC_NOT_FOUND)
    return config


def public_engagement_lead_guess(*, action_uuid, lead_uuid) -> Lead | None:
    """The lead an engagement names, read in one statement with the configuration version (which the caches of
    this request then use instead of reading it again): the hot path's first statement. The company comes
    from this process's cached configuration of the action, so it is a guess: None when the action is not
    cached or has no such lead, and the caller checks the lead's company against the configuration it gets."""
    cached = action_company_config_peek(action_uuid=action_uuid)
    if cached is None:
        return None
    uuid_field = Lead._meta.get_field("uuid")
    # all_objects: the SQL says which rows are alive (`objects` would build its filter only for raw() to drop it).
    found = list(
        Lead.all_objects.raw(
            f"SELECT l.*, {CONFIG_VERSION_SQL} AS config_version FROM {Lead._meta.db_table} l "
            "WHERE l.company_id = %s AND l.uuid = %s AND l.deleted_at IS NULL",
            [cached.shared_action_company.company_id, uuid_field.get_db_prep_value(lead_uuid, connection)],
        )
    )
    if not found:
        return None
    lead = found[0]
    config_version_seen(lead.__dict__.pop("config_version"))
    return lead


def public_action_company_get(*, action_uuid) -> ActionCompany:
    """An action that pages may use, with its action, system, type and company: the caller's own copy."""
    return public_action_config_get(action_uuid=action_uuid).action_company()


def public_lead_get(*, action_company: ActionCompany, lead_uuid) -> Lead:
    """The lead, if it belongs to the action's company; the same 404 as an unknown action otherwise."""
    found = list(Lead.objects.filter(company_id=action_company.company_id, uuid=lead_uuid).order_by()[:1])
    if not found:
        raise NotFound(PUBLIC_NOT_FOUND)
    return found[0]


def lead_stage_on_action(*, action_company: ActionCompany, lead: Lead) -> str:
    """The furthest stage the lead reached on the action ("" before it was sent), from its state row."""
    stage = (
        LeadActionState.objects.filter(action_company=action_company, lead=lead).values_list("stage", flat=True).first()
    )
    return stage or ""


def content_served_here(content: Content) -> bool:
    """Content the engine serves itself, having no URL of its own: an uploaded file, or an article (a body to
    read). Uploads are served through the action that shows them, never from a public media folder."""
    return not content.url and bool(content.file or content.body)


def public_action_content_get(*, action_uuid, content_uuid) -> Content:
    """Content served here that a page may show: published, alive, shown by an action pages may use; 404
    otherwise."""
    action_company = public_action_company_get(action_uuid=action_uuid)
    module = (
        action_company.modules.filter(
            kind=ModuleKind.CONTENT,
            content__uuid=content_uuid,
            content__deleted_at__isnull=True,
            content__is_published=True,
        )
        .select_related("content")
        .first()
    )
    if module is None or not content_served_here(module.content):
        raise NotFound("No such content.")
    return module.content


def _served_content_url(*, site_origin: str, action_company: ActionCompany, content: Content) -> str:
    """Where the default host serves content, on `site_origin` (the default host as the caller reaches it)."""
    kwargs = {"action_uuid": action_company.uuid, "content_uuid": content.uuid}
    url = reverse("action_content", kwargs=kwargs, host=DEFAULT_HOST)
    return f"{site_origin}{urlsplit(url).path}"


def _content_urls(*, content: Content, action_company: ActionCompany, site_origin: str) -> dict:
    if content.url:
        return {"url": content.url, "download_url": content.url}
    if content_served_here(content):
        url = _served_content_url(site_origin=site_origin, action_company=action_company, content=content)
        return {"url": url, "download_url": f"{url}?download"}
    return {"url": "", "download_url": ""}


def _module_data(module: ActionCompanySystemModule, *, site_origin: str) -> dict | None:
    if module.kind == ModuleKind.PRODUCT:
        product = module.product
        if product.deleted_at is not None or not product.is_published:
            return None
        return {
            "kind": module.kind,
            "uuid": str(product.uuid),
            "name": product.name,
            "sku": product.sku,
            "description": product.description,
            "price": str(product.price),
            "currency": product.currency,
            "attributes": product.attributes,
            "variants": [
                {
                    "uuid": str(variant.uuid),
                    "name": variant.name,
                    "sku": variant.sku,
                    "price": str(variant.price),
                    "attributes": variant.attributes,
                }
                for variant in product.variants.all()
            ],
        }
    if module.kind == ModuleKind.CONTENT:
        content = module.content
        if content.deleted_at is not None or not content.is_published:
            return None
        return {
            "kind": module.kind,
            "uuid": str(content.uuid),
            "title": content.title,
            "content_kind": content.kind,
            **_content_urls(content=content, action_company=module.action_company, site_origin=site_origin),
            "body": content.body,
        }
    form = module.form
    if form.deleted_at is not None:
        return None
    return {
        "kind": module.kind,
        "uuid": str(form.uuid),
        "name": form.name,
        "description": form.description,
        "schema": form.schema,
        "submit_label": form.submit_label,
        "success_message": form.success_message,
    }


def action_page_data(*, action_company: ActionCompany, lead: Lead, site_origin: str) -> dict:
    """All a page needs to render: the action, its modules in order, the lead's stage and first name, and the
    lead's values the company lets its form prefill (action_engine/prefill.py; none by default)."""
    spec = system_spec(action_company.action.system.slug)
    modules = (
        action_company.modules.select_related("product", "content", "form")
        .prefetch_related(Prefetch("product__variants", queryset=Variant.objects.order_by("name")))
        .order_by("position", "id")
    )
    return {
        "action": {
            "uuid": str(action_company.uuid),
            "name": action_company.name,
            "description": action_company.description,
            "config": action_company.config,
            "action_type": action_company.action.type.slug,
            "system": spec.slug.value,
            "pipeline": [stage.value for stage in spec.pipeline],
            "result_stage": spec.result_stage.value,
        },
        "modules": [
            data for data in (_module_data(module, site_origin=site_origin) for module in modules) if data is not None
        ],
        "lead": {
            "first_name": lead.first_name,
            "stage": lead_stage_on_action(action_company=action_company, lead=lead),
            "prefill": lead_prefill(config=action_company.config, lead=lead),
        },
    }


# --- Pipeline state: the board and the funnel ----------------------------------------------------------

# The column of LeadActionState that holds when each stage was first reached.
STAGE_TIME_FIELDS = {stage: f"{stage.value}_at" for stage in Stage}


_TRUNCATE = {FunnelBucket.DAY: TruncDay, FunnelBucket.WEEK: TruncWeek, FunnelBucket.MONTH: TruncMonth}


def _pipeline_rank(spec, stage: str, field: str) -> int:
    """The stage's position in the action's pipeline; a stage the action's system lacks is a 400 on `field`."""
    if stage not in spec.pipeline:
        message = f"{stage!r} is not a stage of this action (its pipeline: {', '.join(spec.pipeline)})."
        raise InvalidInput(message, code=ActionEngineError.STAGE_NOT_IN_PIPELINE, errors={field: [message]})
    return spec.stage_rank(stage)


def lead_board(
    *,
    action_company: ActionCompany,
    stage: str | None = None,
    reached: str | None = None,
    not_reached: str | None = None,
    stalled_for: timedelta | None = None,
) -> QuerySet[LeadActionState]:
    """The alive leads of a company action where they stand, most recently engaged first.

    `stage` is the current (furthest) stage; `reached` X keeps the leads whose furthest stage is X or a
    later one, `not_reached` X those still before X (as in the funnel, a later stage counts as reaching an
    earlier one); `stalled_for` keeps the leads whose last engagement is at least that long ago. A stage
    outside the action's pipeline is an InvalidInput. One query per page, lead and owner joined in.
    """
    spec = system_spec(action_company.action.system.slug)
    states = LeadActionState.objects.filter(
        action_company_id=action_company.pk, lead__deleted_at__isnull=True
    ).select_related("lead__owner")
    if stage:
        states = states.filter(stage_rank=_pipeline_rank(spec, stage, "stage"))
    if reached:
        states = states.filter(stage_rank__gte=_pipeline_rank(spec, reached, "reached"))
    if not_reached:
        states = states.filter(stage_rank__lt=_pipeline_rank(spec, not_reached, "not_reached"))
    if stalled_for is not None:
        states = states.filter(last_engaged_at__lte=timezone.now() - stalled_for)
    return states.order_by("-last_engaged_at", "-id")


def leads_with_action_stages(*, leads: QuerySet[Lead]) -> QuerySet[Lead]:
    """The leads with their state on each alive company action prefetched (one query for a whole page)."""
    states = (
        LeadActionState.objects.filter(action_company__deleted_at__isnull=True)
        .select_related("action_company")
        .order_by("action_company__name", "action_company_id")
    )
    return leads.prefetch_related(Prefetch("action_states", queryset=states, to_attr="alive_action_states"))


def leads_at_stage(*, leads: QuerySet[Lead], action: UUID | None = None, stage: str | None = None) -> QuerySet[Lead]:
    """The leads with a state on the company action `action` (any, if None) whose current stage is `stage` (any)."""
    states = LeadActionState.objects.filter(lead_id=OuterRef("pk"), action_company__deleted_at__isnull=True)
    if action is not None:
        states = states.filter(action_company__uuid=action)
    if stage:
        states = states.filter(stage=stage)
    return leads.filter(Exists(states))


def _funnel_stages(spec, row: dict) -> list[dict]:
    stages, previous_count = [], None
    for rank, stage in enumerate(spec.pipeline):
        count = row[f"reached_{rank}"]
        median = row.get(f"median_{rank}")
        stages.append(
            {
                "stage": stage.value,
                "leads": count,
                "conversion": round(count / previous_count, 4) if previous_count else None,
                "median_seconds_from_previous": None if median is None else round(median.total_seconds(), 3),
            }
        )
        previous_count = count
    return stages


def _overall_conversion(stages: list[dict]) -> float | None:
    first = stages[0]["leads"]
    return round(stages[-1]["leads"] / first, 4) if first else None


def _bucket_first_day(day: date, bucket: FunnelBucket) -> date:
    if bucket == FunnelBucket.WEEK:
        return day - timedelta(days=day.weekday())
    if bucket == FunnelBucket.MONTH:
        return day.replace(day=1)
    return day


def _next_bucket_day(day: date, bucket: FunnelBucket) -> date:
    if bucket == FunnelBucket.MONTH:
        return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day + timedelta(days=7 if bucket == FunnelBucket.WEEK else 1)


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of `day` in `zone`: its midnight (the first one, if the clocks go back over it) or, if
    the clocks skip midnight, the instant they change."""
    midnight = datetime.combine(day, time.min, tzinfo=zone)
    if midnight.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == midnight.replace(tzinfo=None):
        return midnight.astimezone(UTC)
    # Skipped: read with the offset after the change it is before the day, with the one before it is in it.
    before, after = midnight.replace(fold=1).astimezone(UTC), midnight.astimezone(UTC)
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) / 2
        before, after = (before, middle) if middle.astimezone(zone).date() >= day else (middle, after)
    return after


def _bucket_bounds(first: datetime, last: datetime, bucket: FunnelBucket, zone: ZoneInfo) -> tuple[list, list]:
    """The starts and ends of the buckets that cover first..last, each from the first instant of its first day."""
    days = [_bucket_first_day(first.astimezone(zone).date(), bucket)]
    while days[-1] <= last.astimezone(zone).date():
        days.append(_next_bucket_day(days[-1], bucket))
    instants = [_day_start(day, zone) for day in days]
    return instants[:-1], instants[1:]


def _funnel_buckets_postgresql(states: QuerySet, aggregates: dict, split: bool, bounds: tuple[list, list]) -> list:
    """The bucket rows, one index range scan per bucket (LATERAL): the leads are never sorted by their bucket,
    which grouping by the truncated local time would do, and each bucket's medians sort only its own leads."""
    lower = RawSQL("bucket.lo", (), output_field=DateTimeField())
    upper = RawSQL("bucket.hi", (), output_field=DateTimeField())
    per_bucket = (
        states.filter(first_engaged_at__gte=lower, first_engaged_at__lt=upper)
        .order_by()
        .values(*(["utm_source"] if split else []), start=lower)
        .annotate(**aggregates)
    )
    sql, params = per_bucket.query.sql_with_params()
    order = "per_bucket.start, per_bucket.utm_source" if split else "per_bucket.start"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT per_bucket.* FROM unnest(%s::timestamptz[], %s::timestamptz[]) AS bucket(lo, hi) "
            f"CROSS JOIN LATERAL ({sql}) AS per_bucket ORDER BY {order}",
            [*bounds, *params],
        )
        columns = [column.name for column in cursor.description]
        return [dict(zip(columns, row)) for row in cursor.fetchall()]


def action_company_funnel(
    *,
    action_company: ActionCompany,
    since: datetime | None = None,
    until: datetime | None = None,
    bucket: str | None = None,
    tz: str | None = None,
    owner: str | None = None,
    source: str | None = None,
    utm_source: str | None = None,
    split_by_utm_source: bool = False,
) -> dict:
    """The leads that started on the action in [since, until), counted per pipeline stage, from the state table.

    A lead belongs to the funnel of the time it first engaged on the action (its `first_engaged_at`, in
    practice when it was sent) and counts for every stage up to its furthest one, so each stage's count is
    at most the previous one's and conversion is a share of the leads that got that far. The median time
    from a stage to the next is over the leads with both stage times recorded. `owner` is the lead owner's
    username, `source` the lead's source, `utm_source` the state's first-touch utm_source.

    `bucket` (day, week, month) cuts the range by that start's local date in the time zone `tz` (default
    TIME_ZONE), and `split_by_utm_source` by utm_source as well: then `buckets` lists each non-empty
    bucket (and source). One query for the totals, one more for the buckets, whatever the number of leads.
    """
    spec = system_spec(action_company.action.system.slug)
    states = LeadActionState.objects.filter(action_company_id=action_company.pk)
    if since is not None:
        states = states.filter(first_engaged_at__gte=since)
    if until is not None:
        states = states.filter(first_engaged_at__lt=until)
    if owner is not None:
        states = states.filter(lead__owner__username=owner)
    if source is not None:
        states = states.filter(lead__source=source)
    if utm_source is not None:
        states = states.filter(utm_source=utm_source)
    # Counted over stage_rank (never null) rather than the primary key: the funnel's covering index has it.
    aggregates = {}
    for rank, stage in enumerate(spec.pipeline):
        aggregates[f"reached_{rank}"] = Count("stage_rank", filter=Q(stage_rank__gte=rank) if rank else None)
        if rank:
            later, earlier = F(STAGE_TIME_FIELDS[stage]), F(STAGE_TIME_FIELDS[spec.pipeline[rank - 1]])
            aggregates[f"median_{rank}"] = Median(ExpressionWrapper(later - earlier, output_field=DurationField()))
    bucketed = bucket is not None
    # The first and last start give the buckets' range (the PostgreSQL query below needs it).
    totals = states.aggregate(
        **aggregates, **({"first": Min("first_engaged_at"), "last": Max("first_engaged_at")} if bucketed else {})
    )
    funnel_stages = _funnel_stages(spec, totals)
    funnel = {
        "action": str(action_company.uuid),
        "since": since,
        "until": until,
        "stages": funnel_stages,
        "overall_conversion": _overall_conversion(funnel_stages),
    }
    if not bucketed and not split_by_utm_source:
        return funnel
    zone = ZoneInfo(tz or settings.TIME_ZONE)
    split = ["utm_source"] if split_by_utm_source else []
    if not bucketed:
        rows = states.order_by().values(*split).annotate(**aggregates).order_by(*split)
    elif totals["first"] is None:
        rows = []
    elif connection.vendor == "postgresql":
        bounds = _bucket_bounds(totals["first"], totals["last"], FunnelBucket(bucket), zone)
        rows = _funnel_buckets_postgresql(states, aggregates, split_by_utm_source, bounds)
    else:
        start = _TRUNCATE[FunnelBucket(bucket)]("first_engaged_at", tzinfo=zone)
        rows = states.order_by().annotate(start=start).values("start", *split).annotate(**aggregates)
        rows = rows.order_by("start", *split)
    buckets = []
    for row in rows:
        stages = _funnel_stages(spec, row)
        day = None if row.get("start") is None else row["start"].astimezone(zone).date()
        entry = {
            "start": None if day is None else _day_start(day, zone),
            "day": day,
            "stages": stages,
            "overall_conversion": _overall_conversion(stages),
        }
        if split_by_utm_source:
            entry["utm_source"] = row["utm_source"]
        buckets.append(entry)
    return {**funnel, "bucket": bucket, "tz": zone.key, "buckets": buckets}


# --- The internal API -------------------------------------------------------------------------------


def actions_visible_to(*, company) -> QuerySet[Action]:
    """The catalogue as a company sees it: published global actions and all of its own."""
    return Action.objects.filter(Q(company__isnull=True, is_published=True) | Q(company=company)).select_related(
        "type", "system", "data_type"
    )


def engagement_list(*, company) -> QuerySet[Engagement]:
    """The company's engagements with what the list shows joined in (one query per page)."""
    return Engagement.objects.filter(company=company).select_related(
        "action_company", "lead", "visitor", "receiver", "message"
    )


def feed_for_lead(
    *,
    lead: Lead,
    action: UUID | None = None,
    stage: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Engagement]:
    """Every engagement of the lead, newest first, with what a feed entry shows joined in.

    One query per page: the company action, its catalogue action's type and system, the visitor and the
    message come in the same SELECT, and the (company, lead, -created_at) index serves the filter and
    the order, so a cursor page costs the same however long the feed is. `since` is inclusive, `until`
    exclusive.
    """
    queryset = Engagement.objects.filter(company_id=lead.company_id, lead_id=lead.pk).select_related(
        "action_company__action__type",
        "action_company__action__system",
        "visitor",
        "message",
    )
    if action is not None:
        queryset = queryset.filter(action_company__uuid=action)
    if stage:
        queryset = queryset.filter(stage=stage)
    if since is not None:
        queryset = queryset.filter(created_at__gte=since)
    if until is not None:
        queryset = queryset.filter(created_at__lt=until)
    return queryset.order_by("-created_at", "-id")


def action_company_names_showing(*, target) -> list[str]:
    """Names of the alive company actions whose pages show `target` (a product, content or form)."""
    kind = ModuleKind(target._meta.model_name)
    return list(
        ActionCompanySystemModule.objects.filter(**{kind: target}, action_company__deleted_at__isnull=True)
        .order_by("action_company__name")
        .values_list("action_company__name", flat=True)
        .distinct()
    )


def forms_with_unsupported_patterns() -> Iterator[tuple[Form, list[str]]]:
    """Each form (deleted ones left out) with a pattern RE2 cannot compile, and where and why: forms saved
    before patterns were checked. Their submissions are refused until the company fixes the schema."""
    for form in Form.objects.select_related("company").order_by("company__slug", "name", "id").iterator():
        errors = schema_pattern_errors(form.schema) if isinstance(form.schema, dict) else []
        if errors:
            yield form, errors


# The engagement export: fixed columns, then one per leaf of the messages (`message.<dot path>`), at most this
# many (the first seen), so one odd message cannot make a file of a million columns.
ENGAGEMENT_EXPORT_COLUMNS = (
    ("uuid", "uuid"),
    ("created_at", "created_at"),
    ("action", "action_company__uuid"),
    ("action_name", "action_company__name"),
    ("lead", "lead__uuid"),
    ("lead_email", "lead__email"),
    ("visitor", "visitor__uuid"),
    ("receiver", "receiver__uuid"),
    ("stage", "stage"),
    ("previous_stage", "previous_stage"),
)
ENGAGEMENT_EXPORT_MAX_MESSAGE_COLUMNS = 200
ENGAGEMENT_EXPORT_CHUNK_SIZE = 2000


def _message_leaves(body) -> dict:
    return {f"message.{path}": value for path, value in dot_path_leaves(body).items()} if body else {}


def engagement_export(*, engagements: QuerySet[Engagement]) -> tuple[list[str], Iterator[list]]:
    """The engagements as a table: the header and the rows (read as they are consumed, in chunks), each
    message's fields flattened into `message.<dot path>` columns. The messages are read twice (once for the
    columns, once for the rows) so that nothing but the set of column names is held."""
    engagements = engagements.order_by("created_at", "id")
    message_columns: dict[str, None] = {}
    bodies = engagements.exclude(message=None).values_list("message__body", flat=True)
    for body in bodies.iterator(chunk_size=ENGAGEMENT_EXPORT_CHUNK_SIZE):
        for column in _message_leaves(body):
            if len(message_columns) >= ENGAGEMENT_EXPORT_MAX_MESSAGE_COLUMNS:
                break
            message_columns.setdefault(column)
    columns = [name for name, _ in ENGAGEMENT_EXPORT_COLUMNS]
    header = [*columns, *message_columns]
    values = engagements.values_list(*(path for _, path in ENGAGEMENT_EXPORT_COLUMNS), "message__body")

    def rows() -> Iterator[list]:
        for *fixed, body in values.iterator(chunk_size=ENGAGEMENT_EXPORT_CHUNK_SIZE):
            leaves = _message_leaves(body)
            yield [*fixed, *(leaves.get(column) for column in message_columns)]

    return header, rows()
