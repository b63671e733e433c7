"""Abstract base models every domain model builds on."""
import uuid

from django.db import models, router, transaction
from django.utils import timezone


class BaseModel(models.Model):
    """A bigint id for joins, a uuid for everything public, and timestamps."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.__class__.__name__} {self.uuid}"


class SoftDeleteQuerySet(models.QuerySet):
    """Deleting through a queryset marks rows deleted; history that points at them survives."""

    def delete(self):
        return self.update(deleted_at=timezone.now())

    def hard_delete(self):
        return super().delete()


class AliveRows:
    """A manager mixin: only the rows that are not soft-deleted."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class AliveManager(AliveRows, models.Manager.from_queryset(SoftDeleteQuerySet)):
    """The default manager: rows that are not soft-deleted."""


class SoftDeleteModel(BaseModel):
    """A model whose rows are hidden, not removed, when deleted."""

    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = AliveManager()
    all_objects = models.Manager.from_queryset(SoftDeleteQuerySet)()

    class Meta:
        abstract = True

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def delete(self, using=None, keep_parents=False):
        self.deleted_at = timezone.now()
        self.save(update_fields=["deleted_at", "updated_at"])
        return 1, {self._meta.label: 1}

    def hard_delete(self):
        return super().delete()


class WorkerHeartbeat(models.Model):
    """The last time a django-q2 worker ran the heartbeat schedule; /healthz reads it."""

    name = models.CharField(max_length=100, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"


class ConfigVersion(models.Model):
    """One row: the version of every configuration the hot path caches per process (salesassist/core/config.py).

    Every write of a configuration model sets it to a new random value in the write's own transaction, so a
    process that reads a value it has not seen reloads what it cached. Random rather than a counter: a
    counter's next value comes back after a rollback, and a process that cached under it would keep
    what it read.
    """

    value = models.UUIDField(default=uuid.uuid4)

    def __str__(self) -> str:
        return str(self.value)


class ConfigVersionedQuerySet(models.QuerySet):
    """A configuration model's queryset: every write through it bumps the configuration version in its
    transaction (salesassist/core/config.py).

    The bump comes first, here and in the model's save and delete: a transaction takes the version row's lock
    before any configuration row's, so two that change configuration wait for each other instead of
    deadlocking on the version row."""

    def _bumping(self, write):
        from .config import config_version_bump

        with transaction.atomic(using=self.db, savepoint=False):
            config_version_bump()
            return write()

    def update(self, **kwargs):
        if set(kwargs) <= self.model.config_unversioned_fields:
            return super().update(**kwargs)
        return self._bumping(lambda: super(ConfigVersionedQuerySet, self).update(**kwargs))

    def delete(self):
        return self._bumping(lambda: super(ConfigVersionedQuerySet, self).delete())

    def bulk_create(self, objs, *args, **kwargs):
        return self._bumping(lambda: super(ConfigVersionedQuerySet, self).bulk_create(objs, *args, **kwargs))

    def bulk_update(self, objs, *args, **kwargs):
        return self._bumping(lambda: super(ConfigVersionedQuerySet, self).bulk_update(objs, *args, **kwargs))


class ConfigVersionedModel(BaseModel):
    """A model that per-process caches are built from: every save and delete (and every queryset write, through
    its managers) bumps the configuration version in its transaction. An app makes a model one by inheriting
    this (or ConfigVersionedSoftDeleteModel); deletes that cascade from one are covered by its own bump."""

    # Fields no cache reads and that change often (a workflow's failing_since): a write of only these (and
    # updated_at) does not bump.
    config_unversioned_fields: frozenset[str] = frozenset({"updated_at"})

    objects = models.Manager.from_queryset(ConfigVersionedQuerySet)()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        from .config import config_version_bump

        update_fields = kwargs.get("update_fields")
        if update_fields is not None and set(update_fields) <= self.config_unversioned_fields:
            return super().save(*args, **kwargs)

        with transaction.atomic(using=kwargs.get("using") or router.db_for_write(type(self)), savepoint=False):
            config_version_bump()
            super().save(*args, **kwargs)

    def delete(self, using=None, keep_parents=False):
        from .config import config_version_bump

        with transaction.atomic(using=using or router.db_for_write(type(self)), savepoint=False):
            config_version_bump()
            return super().delete(using=using, keep_parents=keep_parents)


class ConfigVersionedSoftDeleteQuerySet(ConfigVersionedQuerySet, SoftDeleteQuerySet):
    """Soft deletes (an UPDATE) and hard deletes of a configuration model both bump the version."""

    def hard_delete(self):
        return self._bumping(lambda: super(ConfigVersionedSoftDeleteQuerySet, self).hard_delete())


class ConfigVersionedAliveManager(AliveRows, models.Manager.from_queryset(ConfigVersionedSoftDeleteQuerySet)):
    """A configuration model's default manager: rows that are not soft-deleted."""


class ConfigVersionedSoftDeleteModel(ConfigVersionedModel, SoftDeleteModel):
    """A soft-deleted configuration model (its delete is a save, which bumps the version)."""

    objects = ConfigVersionedAliveManager()
    all_objects = models.Manager.from_queryset(ConfigVersionedSoftDeleteQuerySet)()

    class Meta:
        abstract = True

    def hard_delete(self):
        from .config import config_version_bump

        with transaction.atomic(using=router.db_for_write(type(self)), savepoint=False):
            config_version_bump()
            return super().hard_delete()
