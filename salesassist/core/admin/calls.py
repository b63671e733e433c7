"""Admin of raw calls to inbound URLs: shown as received, replayed through their service."""
from django.contrib import admin, messages

from ..exceptions import DomainError
from ..inbound.models import InboundOutcome
from ..inbound.replay import StoredCallReplays
from .display import pretty_json
from .filters import COMPANY_FILTER
from .forms import RecentRowsFormSet


@admin.display(boolean=True, description="signed")
def receiver_is_signed(receiver) -> bool:
    """Whether a receiver's calls must carry a valid signature; the secret itself is never shown."""
    return bool(receiver.secret)


class ReceivedCallAdminMixin(StoredCallReplays):
    """Raw calls to an inbound URL (lead receivers, company action receivers), with headers and error
    shown as indented JSON."""

    list_filter = ("outcome", COMPANY_FILTER, "created_at")
    date_hierarchy = "created_at"
    exclude = ("headers", "error")
    readonly_fields = ("headers_display", "error_display")
    call_fields = ()  # the model's fields in the order the page shows them, before the read-only ones
    # What a call rejected for its signature keeps instead of its body (shown after the call's own fields).
    rejection_fields = ("rejection", "body_size")

    def get_fields(self, request, obj=None):
        # Named, not in the model's order: the columns every stored call has are the kernel's, first in the model.
        return [*self.call_fields, *self.rejection_fields, *self.get_readonly_fields(request, obj)]

    @admin.display(description="headers")
    def headers_display(self, obj):
        return pretty_json(obj.headers)

    @admin.display(description="error")
    def error_display(self, obj):
        return pretty_json(obj.error) if obj.error else "—"

    # Replaying: a subclass names who may (replaying writes what its receiver writes) and its services.
    actions = ("replay_calls",)
    replay_permission = ""
    not_replayable_because = "processed already, still being processed, or rejected for their signature"

    def has_replay_permission(self, request):
        return request.user.has_perm(self.replay_permission)

    @admin.action(description="Replay selected failed %(verbose_name_plural)s", permissions=["replay"])
    def replay_calls(self, request, queryset):
        counts = {InboundOutcome.PROCESSED: 0, InboundOutcome.FAILED: 0, "skipped": 0}
        for stored in queryset.order_by("created_at", "id"):
            if not self.is_replayable(stored):
                counts["skipped"] += 1
                continue
            try:
                counts[self.replay(stored).outcome] += 1
            except DomainError:
                counts["skipped"] += 1  # replayed meanwhile by someone else
        processed, failed = counts[InboundOutcome.PROCESSED], counts[InboundOutcome.FAILED]
        level = messages.SUCCESS if not failed else messages.WARNING
        self.message_user(
            request,
            f"Replayed: {processed} processed, {failed} failed again, "
            f"{counts['skipped']} not replayable ({self.not_replayable_because}).",
            level,
        )


class RecentCallsInlineMixin:
    """The newest raw calls a receiver stored (the calls model names its receiver `receiver`)."""

    formset = RecentRowsFormSet
    fk_name = "receiver"
    verbose_name_plural = f"recent calls (newest {RecentRowsFormSet.recent_limit})"
