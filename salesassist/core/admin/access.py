"""Who may use an admin at all: view-only history, superuser-only admins (and re-registering another app's)."""
from django.contrib import admin


class ViewOnlyMixin:
    """Staff can look, never add, change or delete (history rows, rows the system writes)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SuperuserOnlyMixin:
    """Only superusers may use this admin: its rows belong to no company (users, groups, workers, the
    task queue), so company staff would see every company's there."""

    def has_module_permission(self, request):
        return request.user.is_superuser and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args, **kwargs):
        return request.user.is_superuser and super().has_add_permission(request, *args, **kwargs)

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)


def superuser_only(model) -> None:
    """Re-register another app's admin of `model` (Django's users and groups, django-q2's queue) for
    superusers only; a model that app registers no admin for is left alone."""
    if not admin.site.is_registered(model):
        return
    current = type(admin.site.get_model_admin(model))
    admin.site.unregister(model)
    restricted = type(current.__name__, (SuperuserOnlyMixin, current), {"__module__": current.__module__})
    admin.site.register(model, restricted)
