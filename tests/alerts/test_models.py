import datetime as dt

import pytest
from django.db import IntegrityError
from django.utils import timezone

from alerts.models import Campaign, Delivery, time_ordered_uuid
from tests.factories import (
    ActionFactory,
    CampaignFactory,
    CosignatureFactory,
    DeliveryFactory,
    OfficialFactory,
)

pytestmark = pytest.mark.django_db


def test_a_second_delivery_for_the_same_action_and_official_is_rejected():
    delivery = DeliveryFactory()
    with pytest.raises(IntegrityError, match="delivery_unique_per_action_official"):
        DeliveryFactory(action=delivery.action, official=delivery.official)


def test_the_same_official_may_receive_deliveries_from_different_actions():
    official = OfficialFactory()
    DeliveryFactory(official=official)
    DeliveryFactory(official=official)
    assert Delivery.objects.filter(official=official).count() == 2


def test_a_sent_delivery_needs_sent_at():
    with pytest.raises(IntegrityError, match="delivery_sent_iff_sent_at"):
        DeliveryFactory(status=Delivery.Status.SENT, sent_at=None)


def test_sent_at_is_only_set_on_sent_deliveries():
    with pytest.raises(IntegrityError, match="delivery_sent_iff_sent_at"):
        DeliveryFactory(status=Delivery.Status.QUEUED, sent_at=timezone.now())


def test_a_legislator_cosigns_a_letter_once():
    cosignature = CosignatureFactory()
    with pytest.raises(IntegrityError, match="cosignature_unique_per_letter"):
        CosignatureFactory(letter=cosignature.letter, legislator=cosignature.legislator)


def test_an_email_official_needs_an_address():
    with pytest.raises(IntegrityError, match="official_channel_has_address"):
        OfficialFactory(channel="email", email="")


def test_live_campaigns_exclude_drafts_future_and_ended_ones():
    now = timezone.now()
    live = CampaignFactory()
    CampaignFactory(status="draft")
    CampaignFactory(starts_at=now + timezone.timedelta(days=1))
    CampaignFactory(
        starts_at=now - timezone.timedelta(days=3), ends_at=now - timezone.timedelta(days=1)
    )
    assert list(type(live).objects.live()) == [live]


def test_message_id_is_derived_from_the_delivery_id(settings):
    settings.MESSAGE_ID_DOMAIN = "alerts.example.org"
    delivery = DeliveryFactory(action=ActionFactory())
    assert delivery.message_id == f"<{delivery.id.hex}@alerts.example.org>"


def test_new_ids_are_version_7_uuids_in_the_order_they_were_made(monkeypatch):
    import time

    clock = iter([1_700_000_000_000_000_000, 1_700_000_000_001_000_000])
    monkeypatch.setattr(time, "time_ns", lambda: next(clock))
    first, second = time_ordered_uuid(), time_ordered_uuid()
    assert (first.version, first.variant) == (7, "specified in RFC 4122")
    assert first.int >> 80 == 1_700_000_000_000
    assert first < second
    monkeypatch.undo()
    # Within one millisecond they still differ: 74 bits are random.
    assert len({time_ordered_uuid() for _ in range(1000)}) == 1000


@pytest.mark.parametrize("status", ["draft", "scheduled", "live", "closed"])
@pytest.mark.parametrize("ends_in_hours", [None, -1, 1])
def test_a_campaign_in_hand_has_ended_exactly_when_the_query_says_so(status, ends_in_hours):
    now = timezone.now()
    ends_at = None if ends_in_hours is None else now + dt.timedelta(hours=ends_in_hours)
    campaign = CampaignFactory(status=status, ends_at=ends_at, starts_at=now - dt.timedelta(days=1))
    in_query = Campaign.objects.ended(now=now).filter(pk=campaign.pk).exists()
    assert campaign.has_ended(now=now) is in_query
