"""Admin of the core models: the workers' heartbeats."""
from django.contrib import admin

from ..models import WorkerHeartbeat
from .access import SuperuserOnlyMixin, ViewOnlyMixin


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(SuperuserOnlyMixin, ViewOnlyMixin, admin.ModelAdmin):
    """When each django-q2 worker last beat; written by the worker only. Superusers only: workers serve
    every company."""

    list_display = ("name", "beat_at")
    search_fields = ("name",)
