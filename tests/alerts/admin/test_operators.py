"""What operators run: the two commands, and the sweep's rules, each against the real database
and Redis queue. The deliveries admin (retry, stuck queue, counters) is in test_deliveries."""

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from alerts.models import Action, Delivery
from alerts.tasks import sweep
from tests.factories import CampaignFactory, DeliveryFactory, OfficialFactory
from tests.support.broker import published_delivery_ids

pytestmark = pytest.mark.django_db

Status = Delivery.Status


def _sent(**kwargs):
    return DeliveryFactory(status=Status.SENT, sent_at=timezone.now(), **kwargs)


def test_delivery_stats_json(broker_queue):
    DeliveryFactory(queued_at=timezone.now() - dt.timedelta(seconds=90))
    _sent()
    out = io.StringIO()
    call_command("delivery_stats", "--json", stdout=out)
    stats = json.loads(out.getvalue())
    assert set(stats) == {"by_status", "by_channel", "oldest_queued_seconds"}
    assert stats["by_status"]["queued"] == 1
    assert stats["by_status"]["sent"] == 1
    assert stats["by_status"]["failed"] == 0
    assert stats["by_channel"] == {"email": 2}
    assert 89 <= stats["oldest_queued_seconds"] < 150


def test_delivery_stats_text_says_when_nothing_is_queued():
    out = io.StringIO()
    call_command("delivery_stats", stdout=out)
    assert "Oldest queued: none" in out.getvalue()


def test_send_test_blast_goes_through_the_form_service_and_queues(
    settings, broker_queue, django_capture_on_commit_callbacks
):
    settings.DELIVERY_SANDBOX = True
    campaign = CampaignFactory(double_opt_in=True, targets=[OfficialFactory(), OfficialFactory()])
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_test_blast", "--count", "3", "--campaign", campaign.slug, stdout=out)
    assert "3 test actions" in out.getvalue()
    assert Action.objects.filter(campaign=campaign, confirmed_at__isnull=False).count() == 3
    assert Delivery.objects.filter(status=Status.QUEUED).count() == 6
    assert len(published_delivery_ids(broker_queue)) == 6
    # No confirmation emails to made-up addresses.
    assert not any(
        "send_confirmation" in raw.decode()
        for raw in broker_queue[0].lrange(broker_queue[1], 0, -1)
    )


def test_send_test_blast_refuses_outside_sandbox_mode(settings):
    settings.DELIVERY_SANDBOX = False
    CampaignFactory(targets=[OfficialFactory()])
    with pytest.raises(CommandError, match="DELIVERY_SANDBOX is off"):
        call_command("send_test_blast", "--count", "1")
    assert Action.objects.count() == 0


class TestSweep:
    def test_an_expired_lease_is_queued_again_and_handed_over(self, broker_queue):
        past = timezone.now() - dt.timedelta(seconds=1)
        delivery = DeliveryFactory(status=Status.SENDING, attempts=1, lease_expires_at=past)
        summary = sweep()
        delivery.refresh_from_db()
        assert (summary["reclaimed"], delivery.status) == (1, Status.QUEUED)
        assert len(published_delivery_ids(broker_queue)) == 1

    def test_a_lease_still_running_is_left_alone(self, broker_queue):
        future = timezone.now() + dt.timedelta(minutes=1)
        delivery = DeliveryFactory(status=Status.SENDING, attempts=1, lease_expires_at=future)
        sweep()
        delivery.refresh_from_db()
        assert delivery.status == Status.SENDING
        assert published_delivery_ids(broker_queue) == []

    def test_a_delivery_the_broker_never_got_is_handed_over_once(self, broker_queue, settings):
        settings.DELIVERY_REQUEUE_AFTER_SECONDS = 60
        delivery = DeliveryFactory(enqueued_at=None)
        assert sweep()["requeued"] == 1
        assert sweep()["requeued"] == 0  # handed over just now: not again
        delivery.refresh_from_db()
        assert delivery.enqueued_at is not None

    def test_a_parked_retry_waits_until_it_is_due(self, broker_queue):
        later = timezone.now() + dt.timedelta(hours=1)
        DeliveryFactory(enqueued_at=None, next_attempt_at=later)
        assert sweep()["requeued"] == 0
        assert sweep(now=later + dt.timedelta(seconds=1))["requeued"] == 1

    def test_out_of_attempts_a_stuck_delivery_fails(
        self, settings, broker_queue, django_capture_on_commit_callbacks
    ):
        settings.DELIVERY_MAX_ATTEMPTS = 3
        past = timezone.now() - dt.timedelta(seconds=1)
        delivery = DeliveryFactory(status=Status.SENDING, attempts=3, lease_expires_at=past)
        with django_capture_on_commit_callbacks(execute=True):
            summary = sweep()
        delivery.refresh_from_db()
        assert (summary["abandoned"], delivery.status) == (1, Status.FAILED)
        assert "gave up after 3 attempts" in delivery.last_error
        # The constituent is told.
        assert any(
            "notify_constituent" in raw.decode()
            for raw in broker_queue[0].lrange(broker_queue[1], 0, -1)
        )
