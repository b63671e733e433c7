"""The worker's database queue (salesassist.core.qbroker.NotifiedORM): on PostgreSQL each queued task sends a
NOTIFY on commit and an idle pusher waits for it instead of sleeping a whole poll; elsewhere it is
django-q2's ORM broker."""
import pytest
from django.db import connection, transaction
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from salesassist.core.qbroker import NotifiedORM

pytestmark = pytest.mark.django_db(transaction=True)

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="LISTEN/NOTIFY is PostgreSQL's"
)


@pytest.fixture
def broker(monkeypatch):
    monkeypatch.setattr(Conf, "POLL", 0.05)
    broker = get_broker()
    yield broker
    broker._close_listener()


def queued(name: str) -> bytes:
    return SignedPackage.dumps({"id": name, "name": name, "func": "math.floor", "args": (1.5,), "kwargs": {}})


def names(tasks) -> list[str]:
    return [SignedPackage.loads(payload)["name"] for _, payload in tasks or []]


def test_the_settings_use_it_for_the_database_queue(broker):
    assert isinstance(broker, NotifiedORM)


def test_a_queued_task_is_taken_once(broker):
    broker.enqueue(queued("first"))
    assert names(broker.dequeue()) == ["first"]
    assert broker.dequeue() is None  # locked by the first take, until Q_RETRY
    assert OrmQ.objects.count() == 1  # the monitor deletes it when the task is done


@postgresql_only
def test_a_queued_task_notifies_its_queue_when_it_commits(broker):
    listener = broker._listening()
    with transaction.atomic():
        broker.enqueue(queued("in a transaction"))
        assert list(listener.notifies(timeout=0)) == []
    assert [notify.channel for notify in listener.notifies(timeout=10, stop_after=1)] == [broker.channel]


@postgresql_only
def test_a_rolled_back_task_notifies_nobody(broker):
    listener = broker._listening()
    with pytest.raises(RuntimeError), transaction.atomic():
        broker.enqueue(queued("rolled back"))
        raise RuntimeError
    broker.enqueue(queued("committed"))
    notified = list(listener.notifies(timeout=10, stop_after=1))
    assert len(notified) == 1
    assert names(broker.dequeue()) == ["committed"]


@postgresql_only
def test_the_pusher_listens_again_when_its_connection_is_lost(broker):
    lost = broker._listening()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [lost.info.backend_pid])
    assert broker.dequeue() is None  # finds the connection gone, within a poll
    broker.enqueue(queued("after"))
    assert names(broker.dequeue()) == ["after"]
    assert broker._listener is not lost and not broker._listener.closed
