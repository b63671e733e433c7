"""action_engine 0005: calls refused for their signature before it (kept as failed, with code invalid_signature)
become rejected calls, kept as they were; other failed calls stay failed and replayable."""
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.core.test_migrations import RowMaker

BEFORE = ("action_engine", "0004_move_workflow_links")


@pytest.mark.django_db(transaction=True)
def test_calls_refused_for_their_signature_become_rejected():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate([BEFORE])
        before = MigrationExecutor(connection).loader.project_state([BEFORE]).apps
        ReceiverCall = before.get_model("action_engine", "ReceiverCall")
        maker = RowMaker(before)
        refused = maker.row(ReceiverCall)
        ReceiverCall.objects.filter(pk=refused.pk).update(
            outcome="failed", body='{"forged": "é"}', error={"code": "invalid_signature", "status": 401}
        )
        unmapped = ReceiverCall.objects.create(**{**maker._values(ReceiverCall), "receiver": refused.receiver})
        ReceiverCall.objects.filter(pk=unmapped.pk).update(outcome="failed", error={"code": "mapping_failed"})

        executor = MigrationExecutor(connection)
        executor.migrate(latest)
        after = executor.loader.project_state(latest).apps.get_model("action_engine", "ReceiverCall")
        refused, unmapped = after.objects.get(pk=refused.pk), after.objects.get(pk=unmapped.pk)
        assert (refused.outcome, refused.rejection, refused.body_size) == ("rejected", "invalid", 16)
        assert refused.body == '{"forged": "é"}'
        assert (unmapped.outcome, unmapped.rejection) == ("failed", "")
    finally:
        MigrationExecutor(connection).migrate(latest)
