"""Emails to the constituent go out once; one the mail server refuses is released for a later
try (the task's retry, the sweep, tomorrow's reminder run), not lost and not marked sent."""

import datetime as dt
import smtplib

import pytest
from django.utils import timezone

from alerts.models import Action, Delivery
from alerts.notifications import confirmation_send, failure_notice_send, reminders_send
from tests.factories import ActionFactory, CampaignFactory, DeliveryFactory

pytestmark = pytest.mark.django_db


def _refuse(sink, address):
    sink.rcpt_reply_for = lambda rcpt: "450 4.2.1 mailbox busy" if rcpt == address else None


def test_a_refused_confirmation_is_released_then_sent_once(smtp_settings, smtp_sink):
    action = ActionFactory(campaign=CampaignFactory(double_opt_in=True))
    _refuse(smtp_sink, action.email)

    with pytest.raises(smtplib.SMTPRecipientsRefused):
        confirmation_send(action_id=action.pk)
    action.refresh_from_db()
    assert action.confirmation_sent_at is None

    smtp_sink.rcpt_reply_for = lambda rcpt: None
    assert confirmation_send(action_id=action.pk) is True
    assert confirmation_send(action_id=action.pk) is False
    assert [m.rcpt_tos for m in smtp_sink.messages()] == [[action.email]]


def test_a_refused_failure_notice_is_released_then_sent_once(smtp_settings, smtp_sink):
    delivery = DeliveryFactory(status=Delivery.Status.FAILED, failed_at=timezone.now())
    _refuse(smtp_sink, delivery.action.email)

    with pytest.raises(smtplib.SMTPRecipientsRefused):
        failure_notice_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.constituent_notified_at is None

    smtp_sink.rcpt_reply_for = lambda rcpt: None
    assert failure_notice_send(delivery_id=delivery.pk) is True
    assert failure_notice_send(delivery_id=delivery.pk) is False
    [notice] = smtp_sink.messages()
    assert notice.message["Auto-Submitted"] == "auto-generated"


def test_one_refused_reminder_is_released_and_the_others_go_out(smtp_settings, smtp_sink):
    campaign = CampaignFactory(double_opt_in=True)
    yesterday = timezone.now() - dt.timedelta(hours=25)
    refused, accepted = (
        ActionFactory(campaign=campaign, confirmation_sent_at=yesterday) for _ in range(2)
    )
    _refuse(smtp_sink, refused.email)

    assert reminders_send() == 1

    reminded = dict(Action.objects.values_list("pk", "reminder_sent_at"))
    assert reminded[refused.pk] is None
    assert reminded[accepted.pk] is not None
    assert [m.rcpt_tos for m in smtp_sink.messages()] == [[accepted.email]]
