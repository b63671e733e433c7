"""Workflow constraints hold in the database itself."""
import pytest
from django.db import IntegrityError, transaction

from tests.workflows.factories import DeliveryAttemptFactory, DeliveryFactory, WorkflowFactory

pytestmark = pytest.mark.django_db


def test_one_delivery_per_workflow_and_engagement():
    delivery = DeliveryFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        DeliveryFactory(workflow=delivery.workflow, engagement=delivery.engagement)
    # The same engagement through another workflow is another delivery.
    other = DeliveryFactory(
        engagement=delivery.engagement, workflow=WorkflowFactory(company=delivery.company)
    )
    assert other.pk != delivery.pk


def test_attempt_numbers_are_unique_per_delivery():
    attempt = DeliveryAttemptFactory(number=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        DeliveryAttemptFactory(delivery=attempt.delivery, number=1)
    assert DeliveryAttemptFactory(delivery=attempt.delivery, number=2).number == 2
