"""delivery_send in this process, against a real SMTP server on loopback."""

import datetime as dt

import pytest
from django.utils import timezone

from alerts.delivery.engine import Outcome, delivery_send
from alerts.models import Delivery
from tests.factories import DeliveryFactory, OfficialFactory

pytestmark = pytest.mark.django_db


def test_a_queued_delivery_is_sent_once_and_marked_sent(smtp_settings, smtp_sink):
    delivery = DeliveryFactory()

    assert delivery_send(delivery_id=delivery.id).outcome == Outcome.SENT
    assert delivery_send(delivery_id=delivery.id).outcome == Outcome.SKIPPED

    [received] = smtp_sink.messages()
    assert received.rcpt_tos == [delivery.official.email]
    assert received.message["Message-ID"] == delivery.message_id
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert delivery.sent_at is not None
    assert delivery.attempts == 1


def test_sandbox_mode_sends_everything_to_the_catch_all_and_names_the_official(
    smtp_settings, smtp_sink
):
    smtp_settings.DELIVERY_SANDBOX = True
    smtp_settings.DELIVERY_SANDBOX_EMAIL = "inbox@organizers.example"
    official = OfficialFactory(
        key="us-president",
        title="President",
        name="Pat Doe",
        channel="contact_form",
        email="",
        contact_form_url="https://www.whitehouse.gov/contact/",
    )
    delivery = DeliveryFactory(official=official)

    assert delivery_send(delivery_id=delivery.id).outcome == Outcome.SENT

    [received] = smtp_sink.messages()
    assert received.rcpt_tos == ["inbox@organizers.example"]
    assert received.message["To"] == "inbox@organizers.example"
    assert received.message["X-Official-Name"] == "President Pat Doe"
    assert received.message["X-Official-Id"] == "us-president"
    assert received.message["X-Official-Channel"] == "contact_form"


def test_a_channel_without_an_automatic_sender_fails_with_the_reason(smtp_settings, smtp_sink):
    official = OfficialFactory(
        channel="contact_form", email="", contact_form_url="https://x.example/"
    )
    delivery = DeliveryFactory(official=official)

    assert delivery_send(delivery_id=delivery.id).outcome == Outcome.FAILED

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert "contact_form" in delivery.last_error
    assert smtp_sink.messages() == []


def test_an_smtp_refusal_marks_the_delivery_failed(smtp_settings, smtp_sink):
    smtp_sink.reply_for = lambda envelope: "550 5.1.1 mailbox unavailable"
    delivery = DeliveryFactory()

    assert delivery_send(delivery_id=delivery.id).outcome == Outcome.FAILED

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert "mailbox unavailable" in delivery.last_error


def test_a_receiver_that_says_when_to_come_back_parks_the_delivery_without_spending_an_attempt(
    settings, monkeypatch
):
    from alerts.delivery import engine
    from alerts.delivery.channels import TransientError

    settings.DELIVERY_MAX_ATTEMPTS = 3
    delivery = DeliveryFactory(attempts=2)  # its last attempt
    resume_at = timezone.now() + dt.timedelta(hours=5)

    def in_maintenance(delivery):
        raise TransientError("503 maintenance", resume_at=resume_at)

    monkeypatch.setattr(engine, "_sender", lambda d: in_maintenance)

    assert delivery_send(delivery_id=delivery.id).outcome == Outcome.RETRY

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.QUEUED  # not failed, though it was the last
    assert delivery.attempts == 2  # the try did not count
    assert delivery.next_attempt_at == resume_at
    assert delivery.attempt_log.get().outcome == "retry"  # but it is on the record
