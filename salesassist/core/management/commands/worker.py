"""`manage.py worker`: the django-q2 cluster (`qcluster`), serving its metrics on WORKER_METRICS_PORT, and
stopping gracefully on SIGTERM within WORKER_SHUTDOWN_GRACE_SECONDS plus a bounded margin — never hanging.

django-q2 1.11.1 alone can hang on SIGTERM (its issue 346). The sentinel resets SIGTERM to the default
action, so a SIGTERM to the process group (a terminal, ./dev) kills it — and its pusher, monitor and
workers, mid-task — while it sleeps in stop_event.wait(): it dies counted as a sleeper of the event's
multiprocessing Condition (or holding its lock), and the main process's stop_event.set() then waits for
ever for that sleeper to wake (Condition.notify_all). Past that, Cluster.stop() joins the sentinel with no
timeout, and Sentinel.stop() waits with no timeout for the pusher, for every worker to read its STOP pill
and for the queues' feeder threads: one child that does not end holds the whole cluster.

So here the sentinel and the processes it forks ignore SIGTERM and are stopped by the main process, the
workers finish or release their task (salesassist.core.shutdown), and every wait on the stop is bounded.
"""
import logging
import os
import signal
import threading

import django_q.cluster
from django.conf import settings
from django_q.cluster import Cluster, Sentinel
from django_q.management.commands.qcluster import Command as QclusterCommand
from django_q.signals import post_spawn

from salesassist.core import shutdown
from salesassist.core.metrics import metrics_server_start
from salesassist.core.metrics_dir import multiproc_dir_reset

logger = logging.getLogger(__name__)

# After the grace period: time for the interrupted tasks to hand their work back and for the cluster's
# processes to end, before they are killed.
STOP_MARGIN_SECONDS = 10


class DrainingSentinel(Sentinel):
    """A sentinel that SIGTERM does not kill (nor the pusher and monitor it forks: the main process stops
    them in order), that passes the stop on to its workers, and ends its children itself if they are not
    done within the bound."""

    def start(self):
        # Not a handler that sets stop_event: this process waits on that event, and setting it from a
        # handler interrupting the wait deadlocks in Condition.notify_all() the same way.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        super().start()

    def stop(self):
        for process in self.pool:
            _signal(process.pid, signal.SIGTERM)  # each finishes or releases its task (salesassist.core.shutdown)
        watchdog = threading.Timer(settings.WORKER_SHUTDOWN_GRACE_SECONDS + STOP_MARGIN_SECONDS, self._kill)
        watchdog.daemon = True
        watchdog.start()
        super().stop()
        watchdog.cancel()

    def _kill(self):
        logger.error("The cluster's processes did not stop in time: killing them")
        for process in [*self.pool, self.pusher, self.monitor]:
            if process is not None:
                _signal(process.pid, signal.SIGKILL)
        os._exit(1)  # the stop path may still wait on a queue nobody reads any more


class DrainingCluster(Cluster):
    """Stops once however many signals come, and waits for its sentinel a bounded time."""

    def stop(self) -> bool:
        if not self.sentinel.is_alive():
            return False
        if self.stop_event.is_set():
            return True  # a second SIGTERM (or Ctrl-C) while stopping: the first one's stop is under way
        logger.info("Q Cluster %s stopping (grace %s s).", self.name, settings.WORKER_SHUTDOWN_GRACE_SECONDS)
        # In a thread: set() waits on the event's lock, which a sentinel killed by hand (SIGKILL) may hold.
        threading.Thread(target=self.stop_event.set, daemon=True).start()
        self.sentinel.join(settings.WORKER_SHUTDOWN_GRACE_SECONDS + 2 * STOP_MARGIN_SECONDS)
        if self.sentinel.is_alive():
            self.sentinel.kill()
            self.sentinel.join()
        logger.info("Q Cluster %s has stopped.", self.name)
        return True


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _worker_spawned(sender, proc_name, **kwargs):
    shutdown.worker_process_install(grace_seconds=settings.WORKER_SHUTDOWN_GRACE_SECONDS)


class Command(QclusterCommand):
    help = (
        "Start the django-q2 cluster and, with WORKER_METRICS_PORT set, serve its metrics (GET /metrics). "
        "SIGTERM stops it gracefully."
    )

    def handle(self, *args, **options):
        # Before the cluster forks its sentinel, pusher, monitor and workers: they all write to this directory,
        # and this process, which serves the scrapes, adds them up.
        multiproc_dir_reset()
        if settings.WORKER_METRICS_PORT:
            metrics_server_start(address=settings.WORKER_METRICS_ADDRESS, port=settings.WORKER_METRICS_PORT)
        # Cluster.start() forks the module's Sentinel: ours, in this process (site-packages stay as they are).
        django_q.cluster.Sentinel = DrainingSentinel
        post_spawn.connect(_worker_spawned, dispatch_uid="salesassist-worker-shutdown")
        # What qcluster's handle() does, with our cluster.
        settings.SECRET_KEY  # tasks are signed with it: fail now, not in the first task
        if options.get("cluster_name"):
            os.environ["Q_CLUSTER_NAME"] = options["cluster_name"]
        cluster = DrainingCluster()
        cluster.start()
        if options.get("run_once"):
            cluster.stop()
