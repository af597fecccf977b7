"""Emails to the constituent go out once; one the mail server refuses for now is released for
a later try (the task's retry, the sweep, tomorrow's reminder run), not lost and not marked
sent; one it refuses for good (5xx) is not tried again. Neither puts the address in a log.

A confirmation email goes to an address nobody has proved yet, so it carries nothing the
submitter typed, and one mailbox gets at most CONFIRMATIONS_PER_RECIPIENT_PER_DAY a day."""

import datetime as dt
import logging
import smtplib

import pytest
from django.utils import timezone

from alerts.delivery.engine import deliveries_sweep
from alerts.models import Action, Delivery
from alerts.notifications import (
    MailNotAccepted,
    confirmation_send,
    constituent_notices_send,
    mailbox_key,
    reminders_send,
)
from tests.factories import ActionFactory, CampaignFactory, DeliveryFactory, OfficialFactory

pytestmark = pytest.mark.django_db


def _refuse(sink, address, reply="450 4.2.1 mailbox busy"):
    sink.rcpt_reply_for = lambda rcpt: reply if rcpt == address else None


def _logged(caplog) -> str:
    """Every line our code (and Django, Celery, smtplib) logged; aiosmtpd's own `mail.log` is
    the receiving server's, not ours."""
    return "\n".join(
        f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records if r.name != "mail.log"
    )


def test_a_refused_confirmation_is_released_then_sent_once(smtp_settings, smtp_sink, caplog):
    action = ActionFactory(campaign=CampaignFactory(double_opt_in=True))
    _refuse(smtp_sink, action.email)

    with caplog.at_level(logging.DEBUG), pytest.raises(MailNotAccepted) as raised:
        confirmation_send(action_id=action.pk)
    # What Celery logs of a retry is this exception: the reply code, not the address.
    assert str(raised.value) == "SMTP 450"
    assert raised.value.__suppress_context__
    assert isinstance(raised.value, smtplib.SMTPException)  # the task's autoretry takes it
    assert action.email not in _logged(caplog)
    action.refresh_from_db()
    assert action.confirmation_sent_at is None

    smtp_sink.rcpt_reply_for = lambda rcpt: None
    assert confirmation_send(action_id=action.pk) is True
    assert confirmation_send(action_id=action.pk) is False
    assert [m.rcpt_tos for m in smtp_sink.messages()] == [[action.email]]


@pytest.mark.parametrize("stage", ["RCPT", "DATA"])
def test_a_confirmation_refused_for_good_is_not_tried_again_nor_logged_with_its_address(
    smtp_settings, smtp_sink, caplog, stage
):
    action = ActionFactory(
        campaign=CampaignFactory(double_opt_in=True),
        email="refused.person@example.org",
        created_at=timezone.now() - dt.timedelta(hours=1),
    )
    reply = f"550 5.1.1 <{action.email}>: no such user"
    if stage == "RCPT":
        _refuse(smtp_sink, action.email, reply)
    else:
        smtp_sink.reply_for = lambda envelope: reply

    with caplog.at_level(logging.DEBUG):
        assert confirmation_send(action_id=action.pk) is False

    [refusal] = smtp_sink.refusals()
    assert refusal.stage == stage
    action.refresh_from_db()
    # Stamped: neither the task's retry, nor the sweep, nor a second task sends it again.
    assert action.confirmation_sent_at is not None
    assert action.pk not in deliveries_sweep(now=timezone.now()).unconfirmed
    assert confirmation_send(action_id=action.pk) is False
    assert len(smtp_sink.refusals()) == 1
    logged = _logged(caplog)
    assert f"confirmation for action {action.pk} refused by the mail server (SMTP 550)" in logged
    assert action.email not in logged
    assert "refused.person" not in logged


def test_a_reminder_refused_for_good_is_stamped_and_not_logged_with_its_address(
    smtp_settings, smtp_sink, caplog
):
    yesterday = timezone.now() - dt.timedelta(hours=25)
    action = ActionFactory(
        campaign=CampaignFactory(double_opt_in=True),
        created_at=yesterday,
        confirmation_sent_at=yesterday,
    )
    _refuse(smtp_sink, action.email, "550 5.1.1 no such user")

    with caplog.at_level(logging.DEBUG):
        assert reminders_send() == 0
        assert reminders_send() == 0  # the next run does not knock again

    assert len(smtp_sink.refusals()) == 1
    action.refresh_from_db()
    assert action.reminder_sent_at is not None
    assert action.email not in _logged(caplog)


def test_a_refused_failure_notice_is_released_then_sent_once(smtp_settings, smtp_sink):
    delivery = DeliveryFactory(status=Delivery.Status.FAILED, failed_at=timezone.now())
    _refuse(smtp_sink, delivery.action.email)

    with pytest.raises(MailNotAccepted):
        constituent_notices_send(action_id=delivery.action_id)
    delivery.refresh_from_db()
    assert delivery.constituent_notified_at is None

    smtp_sink.rcpt_reply_for = lambda rcpt: None
    assert constituent_notices_send(action_id=delivery.action_id) == 1
    assert constituent_notices_send(action_id=delivery.action_id) == 0
    [notice] = smtp_sink.messages()
    assert notice.message["Auto-Submitted"] == "auto-generated"


def test_a_failure_notice_refused_for_good_is_not_tried_again(smtp_settings, smtp_sink, caplog):
    delivery = DeliveryFactory(status=Delivery.Status.FAILED, failed_at=timezone.now())
    _refuse(smtp_sink, delivery.action.email, "550 5.1.1 no such user")

    with caplog.at_level(logging.DEBUG):
        assert constituent_notices_send(action_id=delivery.action_id) == 0
    delivery.refresh_from_db()
    assert delivery.constituent_notified_at is not None
    assert delivery.action.email not in _logged(caplog)


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


# --- nothing the submitter typed --------------------------------------------------------------

SPAM = "Visit http://evil.example now"


def _spammy_action(**fields):
    """An action whose every free-text field is an advert, with one office reached by email
    and one the constituent must write to themselves (whose copy of the text the thanks page
    shows), and a call script that names the constituent."""
    campaign = CampaignFactory(
        double_opt_in=True,
        call_script_urge="Hi, I am {constituent_name} from {constituent_city}. Please act.",
    )
    action = ActionFactory(
        campaign=campaign,
        first_name=SPAM,
        last_name="evil.example",
        city="evil.example",
        street="evil.example 1",
        subject="Cheap pills at evil.example",
        message="Buy now: http://evil.example/buy",
        **fields,
    )
    for status in (Delivery.Status.PENDING, Delivery.Status.MANUAL):
        DeliveryFactory(
            action=action,
            official=OfficialFactory(),
            status=status,
            queued_at=None,
            variant=Delivery.Variant.URGE,
            subject=action.subject,
            constituent_message=action.message,
            body=f"Dear Senator,\n\n{action.message}\n\n{SPAM}\nevil.example 1",
        )
    return action


def _whole(received) -> str:
    message = received.message
    headers = "\n".join(f"{name}: {value}" for name, value in message.items())
    return f"{headers}\n\n{message.get_body(preferencelist=('plain',)).get_content()}"


def test_the_confirmation_and_its_reminder_carry_nothing_the_submitter_typed(
    smtp_settings, smtp_sink
):
    action = _spammy_action(created_at=timezone.now() - dt.timedelta(hours=25))

    assert confirmation_send(action_id=action.pk) is True
    Action.objects.filter(pk=action.pk).update(
        confirmation_sent_at=timezone.now() - dt.timedelta(hours=25)
    )
    assert reminders_send() == 1

    confirmation, reminder = smtp_sink.messages()
    for received in (confirmation, reminder):
        text = _whole(received)
        assert "evil.example" not in text
        assert "Visit" not in text
        assert "pills" not in text
        assert text.count("Hello,") == 1
        # The call script is the organizer's, its placeholders left for the caller to fill.
        assert "Hi, I am {constituent_name} from {constituent_city}. Please act." in text
    assert "Reminder:" in reminder.message["Subject"]


# --- one mailbox, however written -------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "mailbox"),
    [
        ("Ani@Example.org", "ani@example.org"),
        ("ani+campaign@example.org", "ani@example.org"),
        (" ANI+a+b@EXAMPLE.ORG. ", "ani@example.org"),
        ("a.n.i@example.org", "a.n.i@example.org"),  # dots count where the provider says so
        ("A.N.I+x@gmail.com", "ani@gmail.com"),
        ("a.n.i@GoogleMail.com", "ani@gmail.com"),
        ("Ani@Bücher.example", "ani@xn--bcher-kva.example"),
    ],
)
def test_mailbox_key(written, mailbox):
    assert mailbox_key(written) == mailbox


def test_a_mailbox_gets_its_daily_share_of_confirmations_and_the_rest_tomorrow(
    smtp_settings, smtp_sink, settings, caplog
):
    settings.CONFIRMATIONS_PER_RECIPIENT_PER_DAY = 3
    campaign = CampaignFactory(double_opt_in=True)
    spellings = [
        "victim@gmail.com",
        "Victim+1@gmail.com",
        "v.i.c.t.i.m@googlemail.com",
        "VICTIM+x@GMAIL.COM",
        "vic.tim+y@gmail.com",
    ]
    actions = [ActionFactory(campaign=campaign, email=email) for email in spellings]

    with caplog.at_level(logging.DEBUG):
        sent = [confirmation_send(action_id=a.pk) for a in actions]

    assert sent == [True, True, True, False, False]
    assert [m.rcpt_tos for m in smtp_sink.messages()] == [[e] for e in spellings[:3]]
    # Held back, yet kept: stamped, so the task is not retried nor the sweep sends it today.
    held = Action.objects.filter(pk__in=[a.pk for a in actions[3:]])
    assert all(a.confirmation_sent_at is not None and a.confirmed_at is None for a in held)
    assert not set(deliveries_sweep().unconfirmed) & {a.pk for a in actions}
    logged = _logged(caplog)
    assert f"confirmation for action {actions[3].pk} held back" in logged
    assert not any(email.split("@")[0].lower() in logged.lower() for email in spellings)

    # Another mailbox is not affected.
    other = ActionFactory(campaign=campaign, email="victim@example.org")
    assert confirmation_send(action_id=other.pk) is True

    # The next UTC day, the reminders go out, within that day's share.
    tomorrow = timezone.now() + dt.timedelta(days=1, hours=1)
    smtp_sink.clear()
    assert reminders_send(now=tomorrow) == 3 + 1
    to = sorted(mailbox_key(m.rcpt_tos[0]) for m in smtp_sink.messages())
    assert to == ["victim@example.org"] + ["victim@gmail.com"] * 3


def test_a_confirmation_the_server_did_not_take_does_not_use_up_the_share(
    smtp_settings, smtp_sink, settings
):
    settings.CONFIRMATIONS_PER_RECIPIENT_PER_DAY = 1
    action = ActionFactory(campaign=CampaignFactory(double_opt_in=True), email="busy@example.org")
    _refuse(smtp_sink, action.email)
    for _ in range(3):
        with pytest.raises(MailNotAccepted):
            confirmation_send(action_id=action.pk)
    smtp_sink.rcpt_reply_for = lambda rcpt: None
    assert confirmation_send(action_id=action.pk) is True
