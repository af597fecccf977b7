"""Reads shaped for pages and operators, checked against rows made here."""

import datetime as dt

import pytest
from django.utils import timezone

from alerts.models import Delivery
from alerts.selectors import delivery_stats
from tests.factories import DeliveryFactory

pytestmark = pytest.mark.django_db

Status = Delivery.Status


class TestDeliveryStats:
    def test_counts_by_channel_and_status_with_zeros(self):
        now = timezone.now()
        for _ in range(2):
            DeliveryFactory(channel="email", status=Status.SENT, sent_at=now)
        DeliveryFactory(channel="email", status=Status.FAILED)
        DeliveryFactory(channel="cwc", status=Status.QUEUED)
        DeliveryFactory(channel="webhook", status=Status.PENDING, queued_at=None)

        stats = delivery_stats(now=now)

        zeros = dict.fromkeys(Status.values, 0)
        assert stats.by_channel_and_status == {
            "cwc": {**zeros, "queued": 1},
            "email": {**zeros, "sent": 2, "failed": 1},
            "webhook": {**zeros, "pending": 1},
        }
        # Every row has every status, in the order the admin's table heads its columns.
        for counts in stats.by_channel_and_status.values():
            assert list(counts) == Status.values
        assert list(stats.by_channel_and_status) == ["cwc", "email", "webhook"]

    def test_totals_by_status_and_by_channel(self):
        now = timezone.now()
        for _ in range(2):
            DeliveryFactory(channel="email", status=Status.SENT, sent_at=now)
        DeliveryFactory(channel="email", status=Status.FAILED)
        DeliveryFactory(channel="cwc", status=Status.FAILED)

        stats = delivery_stats(now=now)

        assert stats.by_status == {
            "pending": 0,
            "queued": 0,
            "sending": 0,
            "sent": 2,
            "failed": 2,
            "manual": 0,
        }
        # Only the channels with deliveries: contact_form and webhook have none.
        assert stats.by_channel == {"cwc": 1, "email": 3}
        assert stats.oldest_queued_seconds is None

    def test_nothing_yet(self):
        stats = delivery_stats()
        assert stats.by_channel_and_status == {}
        assert stats.by_status == dict.fromkeys(Status.values, 0)
        assert stats.by_channel == {}
        assert stats.oldest_queued_seconds is None

    def test_the_oldest_queued_delivery_s_age(self):
        now = timezone.now()
        DeliveryFactory(queued_at=now - dt.timedelta(seconds=90))
        DeliveryFactory(queued_at=now - dt.timedelta(seconds=30))
        # Older, but no longer queued.
        DeliveryFactory(status=Status.SENT, sent_at=now, queued_at=now - dt.timedelta(seconds=600))
        assert delivery_stats(now=now).oldest_queued_seconds == 90
