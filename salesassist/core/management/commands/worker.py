"""`manage.py worker`: the django-q2 cluster (`qcluster`), serving its metrics on WORKER_METRICS_PORT."""
from django.conf import settings
from django_q.management.commands.qcluster import Command as QclusterCommand

from salesassist.core.metrics import metrics_server_start
from salesassist.core.metrics_dir import multiproc_dir_reset


class Command(QclusterCommand):
    help = "Start the django-q2 cluster and, with WORKER_METRICS_PORT set, serve its metrics (GET /metrics)."

    def handle(self, *args, **options):
        # Before the cluster forks its sentinel, pusher, monitor and workers: they all write to this directory,
        # and this process, which serves the scrapes, adds them up.
        multiproc_dir_reset()
        if settings.WORKER_METRICS_PORT:
            metrics_server_start(address=settings.WORKER_METRICS_ADDRESS, port=settings.WORKER_METRICS_PORT)
        super().handle(*args, **options)
