"""Admin building blocks every app's admin uses, and the admin of the core models.

Nothing here knows which rows a staff user may see: tenancy belongs to the domain that owns companies,
which builds the admin bases of the domain apps out of these.
"""
from .access import SuperuserOnlyMixin, ViewOnlyMixin, superuser_only
from .calls import ReceivedCallAdminMixin, RecentCallsInlineMixin, receiver_is_signed
from .display import host_url_link, pretty_json
from .filters import COMPANY_FILTER, DeletedFilter, NullSplitFilter, ScopeFilter
from .forms import ConstraintCheckingForm, RecentRowsFormSet, UniqueRowsFormSet
from .options import TIMESTAMP_FIELDS, ReadOnlyInlineMixin, SoftDeleteAdminMixin, TimestampedModelAdmin
from .service_writes import (
    ServiceRulesForm,
    ServiceWritesAdminMixin,
    ServiceWritesFormSetMixin,
    adopt_saved_row,
    cleaned_fields,
    domain_error_fields,
)
from .workers import WorkerHeartbeatAdmin

__all__ = [
    "COMPANY_FILTER",
    "TIMESTAMP_FIELDS",
    "ConstraintCheckingForm",
    "DeletedFilter",
    "NullSplitFilter",
    "ReadOnlyInlineMixin",
    "ReceivedCallAdminMixin",
    "RecentCallsInlineMixin",
    "RecentRowsFormSet",
    "ScopeFilter",
    "ServiceRulesForm",
    "ServiceWritesAdminMixin",
    "ServiceWritesFormSetMixin",
    "SoftDeleteAdminMixin",
    "SuperuserOnlyMixin",
    "TimestampedModelAdmin",
    "UniqueRowsFormSet",
    "ViewOnlyMixin",
    "WorkerHeartbeatAdmin",
    "adopt_saved_row",
    "cleaned_fields",
    "domain_error_fields",
    "host_url_link",
    "pretty_json",
    "receiver_is_signed",
    "superuser_only",
]
