"""django-q2's ORM broker, woken at once by PostgreSQL when a task is queued instead of polling for it.

The stock broker's pusher finds the queue empty and sleeps Q_POLL seconds before it looks again, so a task
waits half a poll on average (0.25 s at 0.5 s) before a worker even sees it, and a shorter poll costs a
query per cluster every few milliseconds when idle. Here each task is queued with a NOTIFY in the same
transaction, and an empty pusher waits for it on a LISTEN connection of its own: a task is taken within a
round trip of its commit. Q_POLL stays the longest wait, so a missed notification (the listening connection
lost and opened again) costs one poll at most, as before. On another database it is the stock broker.
"""
import logging

import psycopg
import psycopg.sql
from django.db import connections, transaction
from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.models import OrmQ

logger = logging.getLogger(__name__)


class NotifiedORM(ORM):
    def __init__(self, list_key: str = None):
        super().__init__(list_key=list_key)
        self._listener: psycopg.Connection | None = None

    @property
    def channel(self) -> str:
        # A channel per queue, as each queue is its own list_key in the same table.
        return f"django_q.{self.list_key}"

    def _is_postgresql(self) -> bool:
        return connections[Conf.ORM].vendor == "postgresql"

    def enqueue(self, task):
        if not self._is_postgresql():
            return super().enqueue(task)
        connection = connections[Conf.ORM]
        # The row and its notification in one statement: the notification is delivered when the row commits,
        # so a woken pusher always finds it.
        queue = f"""
            WITH queued AS (
                INSERT INTO {connection.ops.quote_name(OrmQ._meta.db_table)} (key, payload, lock)
                VALUES (%s, %s, %s) RETURNING id
            )
            SELECT id, pg_notify(%s, '') FROM queued
        """
        params = [self.list_key or Conf.CLUSTER_NAME, task, timezone.now(), self.channel]
        own_transaction = not connection.in_atomic_block
        with transaction.atomic(using=Conf.ORM):
            with connection.cursor() as cursor:
                if own_transaction:
                    # Its own transaction (never a caller's): committed without waiting for the disk. Lost
                    # in a database crash, the task's deliveries are queued again by the sweeper.
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
                cursor.execute(queue, params)
                return cursor.fetchone()[0]

    def dequeue(self):
        listener = self._listening() if self._is_postgresql() else None
        if listener is None:
            return super().dequeue()
        # Notifications that came before this look are for tasks it sees: drop them first, so that the wait
        # below returns at the first task committed after the look (or after Q_POLL, the longest any waits).
        self._drain(listener)
        tasks = self._take()
        if tasks:
            return tasks
        try:
            for _ in listener.notifies(timeout=Conf.POLL, stop_after=1):
                pass
        except psycopg.Error:
            logger.warning("The task queue's listening connection was lost: opening another", exc_info=True)
            self._close_listener()
        return self._take()

    def _take(self):
        """The stock dequeue's look and lock, without its sleep on an empty queue (and with one check of the
        connection per look, not one per statement)."""
        queue = self.get_connection()
        tasks = queue.filter(key=self.list_key, lock__lt=timezone.now())[0 : Conf.BULK]
        taken = []
        for task in tasks:
            if queue.filter(id=task.id, lock=task.lock).update(lock=self.timeout(task)):
                taken.append((task.pk, task.payload))
        return taken or None

    def _listening(self) -> psycopg.Connection | None:
        """This process's LISTEN connection (the pusher's), opened on first use; None while it cannot be."""
        if self._listener is not None and not self._listener.closed:
            return self._listener
        try:
            params = connections[Conf.ORM].get_connection_params()
            listener = psycopg.connect(**params, autocommit=True)
            listener.execute(psycopg.sql.SQL("LISTEN {}").format(psycopg.sql.Identifier(self.channel)))
        except psycopg.Error:
            logger.warning("Could not listen for queued tasks: polling every %s s", Conf.POLL, exc_info=True)
            return None
        self._listener = listener
        return listener

    def _drain(self, listener: psycopg.Connection) -> None:
        try:
            for _ in listener.notifies(timeout=0):
                pass
        except psycopg.Error:
            self._close_listener()

    def _close_listener(self) -> None:
        if self._listener is not None:
            self._listener.close()
        self._listener = None

    def __setstate__(self, state):
        super().__setstate__(state)
        self._listener = None
