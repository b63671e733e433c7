"""The worker's liveness probe: `manage.py qcluster_alive` exits 1 when no django-q2 cluster of this host
has reported lately, so Kubernetes restarts a pod whose cluster hangs.

A running cluster saves its status every guard cycle (half a second), each entry expiring after 3 s: a
cluster that stopped reporting is gone from it. With the ORM broker the status goes to the cache, which
must be one every process shares (CACHE_URL=redis://…, as deploy/k8s sets); with the Redis broker
(Q_BROKER_URL) it goes to the broker's Redis. When that does not answer, the probe cannot tell and passes:
a Redis outage must not restart every worker (a restart brings no Redis back).
"""
import socket

from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.management.base import BaseCommand, CommandError
from django_q.brokers import get_broker
from django_q.brokers.redis_broker import Redis as RedisBroker
from django_q.conf import Conf
from django_q.status import Stat


class Command(BaseCommand):
    help = "Exit 1 unless a django-q2 cluster on this host reported within the last 3 s (worker liveness)."

    def handle(self, *args, **options):
        broker = get_broker()
        # The Redis broker keeps the status in its own Redis (django-q2's Redis.set_stat), not in the cache.
        if not isinstance(broker, RedisBroker) and isinstance(caches[Conf.CACHE], LocMemCache):
            raise CommandError("a process-local cache cannot show another process's cluster: set CACHE_URL=redis://…")
        host = socket.gethostname()
        try:
            stats = Stat.get_all(broker=broker)
        except Exception as exc:  # noqa: BLE001 - each cache backend (and redis) raises its own errors
            self.stdout.write(f"cannot tell, the status store does not answer ({exc.__class__.__name__}): passing")
            return
        running = [stat for stat in stats if stat.host == host and str(stat.status) != str(Conf.STOPPED)]
        if not running:
            raise CommandError(f"no running django-q2 cluster on {host} reported in the last 3 s")
        self.stdout.write(", ".join(f"{stat.cluster_id}: {stat.status}" for stat in running))
