"""The constituent hears once per action, when its last attempt has ended: one email listing
every office their message could not reach (failed, or fallen to them to send after a try),
each with the way to send it themselves; and, after an operator's retry delivers some after
all, one email saying so. Never one per delivery, never twice, whoever finishes at the same
moment; the sweep tells what a lost task did not; the broker carries the action's id only."""

import contextlib
import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from alerts import tasks
from alerts.delivery.engine import actions_to_tell, deliveries_sweep
from alerts.models import Delivery, DeliveryQuerySet
from alerts.notifications import constituent_notices_send
from alerts.services import deliveries_retry
from alerts.tasks import deliver, notify_constituent
from tests.factories import ActionFactory, DeliveryFactory, OfficialFactory
from tests.support.broker import published_tasks
from tests.support.processes import wait_until

Status = Delivery.Status
REFUSED = "550 5.1.1 no such user"
OWN_WORDS = "My own words: protect civilians."

TITLES = [
    ("Senator", "Robin Vale"),
    ("Senator", "Dana Moss"),
    ("Representative", "Sam Ortiz"),
    ("Secretary of State", "Alex Stone"),
    ("Secretary of Defense", "Kim Lee"),
    ("U.S. Ambassador to the United Nations", "Pat Reyes"),
]


def _offices(count=6, **fields):
    return [
        OfficialFactory(title=title, name=name, last_name=name.split()[-1], **fields)
        for title, name in TITLES[:count]
    ]


def _action_with(officials, *, status=Status.QUEUED, **fields):
    action = ActionFactory(email="ani@example.org", first_name="Ani", last_name="Petrosyan")
    deliveries = [
        DeliveryFactory(
            action=action,
            official=official,
            status=status,
            subject="Protect civilians now",
            body=f"Dear {official.title} {official.last_name},\n\n{OWN_WORDS}\n",
            **fields,
        )
        for official in officials
    ]
    return action, deliveries


def _to(sink, address):
    return [m for m in sink.messages() if m.rcpt_tos == [address]]


def _text(message) -> str:
    return message.message.get_content().replace("\r\n", "\n")


def _refuse_officials(sink, officials):
    refused = {o.email for o in officials}
    sink.rcpt_reply_for = lambda rcpt: REFUSED if rcpt in refused else None


# --- end to end: a real worker, Redis, the SMTP sink ---------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_six_failures_one_email_then_an_operators_retry_one_more(
    celery_worker, smtp_sink, broker_queue
):
    officials = _offices()
    action, deliveries = _action_with(officials)
    _refuse_officials(smtp_sink, officials)

    # Each delivery its own task, as the worker's pool takes them: the last to end tells.
    for delivery in deliveries:
        assert tasks.deliveries_enqueue(delivery_ids=[delivery.id]) == 1
    wait_until(lambda: _to(smtp_sink, action.email), timeout=30, message="the failure email")
    celery_worker.sweep_and_settle()

    [notice] = _to(smtp_sink, action.email)
    assert Delivery.objects.filter(status=Status.FAILED).count() == 6
    assert notice.message["Subject"] == "We could not deliver your message to 6 offices"
    text = _text(notice)
    for official in officials:
        assert f"- {official.title} {official.name}\n" in text
        assert f"== {official.title} {official.name} ==" in text
        assert f"Dear {official.title} {official.last_name}," in text
    assert not Delivery.objects.filter(constituent_notified_at__isnull=True).exists()
    # The worker got the action's id, and nothing personal reached its log.
    notices_run = [t for t in celery_worker.task_lines() if t.name == "alerts.notify_constituent"]
    assert {t.event for t in notices_run} >= {"received", "succeeded"}
    log = celery_worker.log()
    for personal in (action.email, "Petrosyan", "Main St", "protect civilians"):
        assert personal not in log

    # The offices take mail again; the operator retries all six: one more email, saying so.
    smtp_sink.rcpt_reply_for = lambda rcpt: None
    assert deliveries_retry(delivery_ids=[d.id for d in deliveries]) == 6  # published on commit
    wait_until(lambda: len(_to(smtp_sink, action.email)) == 2, timeout=30, message="the news")
    celery_worker.sweep_and_settle()

    assert Delivery.objects.filter(status=Status.SENT).count() == 6
    first, delivered = _to(smtp_sink, action.email)
    assert first.message["Message-ID"] == notice.message["Message-ID"]
    assert delivered.message["Subject"] == "Your message has now been delivered to 6 offices"
    text = _text(delivered)
    for official in officials:
        assert f"- {official.title} {official.name}\n" in text
    assert "protect civilians" not in text  # nothing to copy any more
    assert not Delivery.objects.filter(delivered_notified_at__isnull=True).exists()


# --- the digest, through the tasks run here ------------------------------------------------


@pytest.mark.django_db
def test_three_sent_three_failed_one_email_listing_the_three(
    smtp_settings, smtp_sink, broker_queue
):
    officials = _offices(contact_form_url="https://office.example/contact")
    action, deliveries = _action_with(officials)
    failing = officials[3:]
    _refuse_officials(smtp_sink, failing)

    outcomes = deliver.apply(args=[[str(d.id) for d in deliveries]]).get()

    assert sorted(outcomes.values()) == ["failed"] * 3 + ["sent"] * 3
    # One task for the action, by its id: nothing personal on the broker.
    assert published_tasks(broker_queue) == [("alerts.notify_constituent", [action.pk])]
    raw = b"".join(broker_queue[0].lrange(broker_queue[1], 0, -1))
    for personal in (action.email, "Petrosyan", "Glendale", "protect civilians"):
        assert personal.encode() not in raw

    assert notify_constituent.apply(args=[action.pk]).get() == 1
    [notice] = _to(smtp_sink, action.email)
    assert notice.message["Subject"] == "We could not deliver your message to 3 offices"
    assert notice.message["Auto-Submitted"] == "auto-generated"
    text = _text(notice)
    for official in failing:
        assert f"- {official.title} {official.name}\n" in text
        assert f"Dear {official.title} {official.last_name},\n" in text
    for official in officials[:3]:
        assert official.name not in text
    assert text.count("Their contact form: https://office.example/contact") == 3
    assert text.count("Subject: Protect civilians now") == 3

    assert notify_constituent.apply(args=[action.pk]).get() == 0  # once
    assert len(_to(smtp_sink, action.email)) == 1


@pytest.mark.django_db
def test_one_failed_office_is_named_in_the_subject(smtp_settings, smtp_sink):
    [official] = _offices(1)
    action, _ = _action_with([official], status=Status.FAILED, failed_at=timezone.now())

    assert constituent_notices_send(action_id=action.pk) == 1

    [notice] = smtp_sink.messages()
    assert notice.message["Subject"] == "We could not deliver your message to Senator Robin Vale"
    assert "to Senator Robin Vale, but it could not be delivered." in _text(notice)


@pytest.mark.django_db
def test_nothing_is_told_while_a_delivery_of_the_action_is_in_flight(smtp_settings, smtp_sink):
    officials = _offices(3)
    action, (failed, waiting, sending) = _action_with(officials)
    Delivery.objects.filter(pk=failed.pk).update(status=Status.FAILED, failed_at=timezone.now())
    # A retry waiting for its time is in flight too.
    later = timezone.now() + dt.timedelta(hours=1)
    Delivery.objects.filter(pk=waiting.pk).update(attempts=1, next_attempt_at=later)
    Delivery.objects.filter(pk=sending.pk).update(status=Status.SENDING, attempts=1)

    assert actions_to_tell(delivery_ids=[failed.pk]) == []
    assert constituent_notices_send(action_id=action.pk) == 0
    Delivery.objects.filter(pk=sending.pk).update(status=Status.SENT, sent_at=timezone.now())
    assert actions_to_tell(delivery_ids=[sending.pk]) == []  # the retry still waits
    assert smtp_sink.messages() == []

    Delivery.objects.filter(pk=waiting.pk).update(status=Status.FAILED, failed_at=timezone.now())
    # The last to end, whatever its own outcome, finds the action due.
    assert actions_to_tell(delivery_ids=[waiting.pk]) == [action.pk]
    assert actions_to_tell(delivery_ids=[sending.pk]) == [action.pk]
    assert constituent_notices_send(action_id=action.pk) == 1
    [notice] = smtp_sink.messages()
    assert notice.message["Subject"] == "We could not deliver your message to 2 offices"
    assert actions_to_tell(delivery_ids=[d.pk for d in (failed, waiting, sending)]) == []


@pytest.mark.django_db
def test_a_delivery_fallen_to_the_constituent_after_a_try_is_told_one_manual_from_the_start_not(
    smtp_settings, smtp_sink
):
    officials = _offices(3, contact_form_url="https://office.example/contact")
    action, (broken, from_start, failed) = _action_with(officials)
    Delivery.objects.filter(pk=broken.pk).update(
        status=Status.MANUAL, attempts=1, manual_reason="The office's form asks for a CAPTCHA."
    )
    Delivery.objects.filter(pk=from_start.pk).update(status=Status.MANUAL, attempts=0)
    Delivery.objects.filter(pk=failed.pk).update(status=Status.FAILED, failed_at=timezone.now())

    assert constituent_notices_send(action_id=action.pk) == 1

    [notice] = smtp_sink.messages()
    text = _text(notice)
    assert f"== {officials[0].title} {officials[0].name} ==" in text
    assert "Why: The office's form asks for a CAPTCHA." in text
    assert f"== {officials[2].title} {officials[2].name} ==" in text
    assert officials[1].name not in text
    from_start.refresh_from_db()
    assert from_start.constituent_notified_at is None


@pytest.mark.django_db(transaction=True)
def test_two_last_deliveries_ending_at_once_make_one_email(smtp_settings, smtp_sink, monkeypatch):
    officials = _offices()
    action, _ = _action_with(officials[:4], status=Status.FAILED, failed_at=timezone.now())
    last = [
        DeliveryFactory(action=action, official=official, status=Status.SENDING, attempts=1)
        for official in officials[4:]
    ]
    both_ended = threading.Barrier(2)
    # Each notice, once inside its claim, waits up to a few seconds for the other to be inside
    # too: without the claim's lock both get there and both would tell; with it, the second
    # waits for the first to commit, and finds nothing left.
    both_claiming = threading.Barrier(2)
    claiming = threading.local()
    in_flight = DeliveryQuerySet.in_flight

    def in_flight_meeting_the_other(queryset):
        if getattr(claiming, "now", False):
            with contextlib.suppress(threading.BrokenBarrierError):
                both_claiming.wait(timeout=3)
        return in_flight(queryset)

    monkeypatch.setattr(DeliveryQuerySet, "in_flight", in_flight_meeting_the_other)
    told, errors = [], []

    def end(delivery):
        try:
            # Each worker records its own ending, then runs what follows it: the check for the
            # action's last attempt, then the notice, both at the same moment as the other.
            assert Delivery.objects.filter(pk=delivery.pk).fail(reason="550 refused") == 1
            both_ended.wait(timeout=10)
            for action_id in actions_to_tell(delivery_ids=[delivery.pk]):
                claiming.now = True
                told.append(constituent_notices_send(action_id=action_id))
        except BaseException as exc:  # noqa: BLE001 (reported by the test)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=end, args=(d,)) for d in last]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(told) == [0, 1]  # both saw the action's end; one of them told
    [notice] = smtp_sink.messages()
    assert notice.message["Subject"] == "We could not deliver your message to 6 offices"
    assert Delivery.objects.filter(constituent_notified_at__isnull=False).count() == 6
    assert constituent_notices_send(action_id=action.pk) == 0  # and a third caller neither


@pytest.mark.django_db
def test_an_operators_retry_that_succeeds_is_told_once_one_that_fails_again_not_twice(
    smtp_settings, smtp_sink, broker_queue, django_capture_on_commit_callbacks
):
    officials = _offices(3)
    action, deliveries = _action_with(officials)
    _refuse_officials(smtp_sink, officials)
    deliver.apply(args=[[str(d.id) for d in deliveries]])
    assert notify_constituent.apply(args=[action.pk]).get() == 1  # the failure email

    # Two offices take mail again; the third still refuses.
    _refuse_officials(smtp_sink, officials[2:])
    broker_queue[0].delete(broker_queue[1])
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_retry(delivery_ids=[d.id for d in deliveries]) == 3
    [(task, [batch])] = published_tasks(broker_queue)
    assert task == "alerts.deliver"
    broker_queue[0].delete(broker_queue[1])
    outcomes = deliver.apply(args=[batch]).get()
    assert sorted(outcomes.values()) == ["failed", "sent", "sent"]
    assert published_tasks(broker_queue) == [("alerts.notify_constituent", [action.pk])]

    assert notify_constituent.apply(args=[action.pk]).get() == 1
    assert notify_constituent.apply(args=[action.pk]).get() == 0
    _failure, delivered = _to(smtp_sink, action.email)
    assert delivered.message["Subject"] == "Your message has now been delivered to 2 offices"
    text = _text(delivered)
    for official in officials[:2]:
        assert f"- {official.title} {official.name}\n" in text
    assert officials[2].name not in text  # failed again: told once already, not again
    assert deliveries_sweep(now=timezone.now() + dt.timedelta(hours=1)).untold == []


@pytest.mark.django_db
def test_a_retry_of_a_failure_not_yet_told_is_not_announced_as_news(smtp_settings, smtp_sink):
    [official] = _offices(1)
    action, [delivery] = _action_with([official], status=Status.FAILED, failed_at=timezone.now())

    deliveries_retry(delivery_ids=[delivery.pk])  # before the failure email went out
    Delivery.objects.filter(pk=delivery.pk).update(status=Status.SENT, sent_at=timezone.now())

    assert constituent_notices_send(action_id=action.pk) == 0
    assert smtp_sink.messages() == []


# --- the sweep's net ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_sweep_tells_what_a_lost_task_did_not_once_per_action(
    smtp_settings, smtp_sink, broker_queue, settings
):
    settings.DELIVERY_REQUEUE_AFTER_SECONDS = 60
    long_ago = timezone.now() - dt.timedelta(minutes=10)
    officials = _offices()
    failed, _ = _action_with(officials[:3], status=Status.FAILED, failed_at=long_ago)
    # A web-form delivery that fell to the constituent mid-attempt, its task lost too.
    manual, _ = _action_with(officials[3:4], status=Status.MANUAL, attempts=1)
    # Told it failed, then an operator's retry sent it: the news was lost.
    retried, _ = _action_with(
        officials[4:5],
        status=Status.SENT,
        constituent_notified_at=long_ago,
        sent_at=long_ago + dt.timedelta(minutes=1),
    )
    # Not for the net: manual from the start; a failure whose action still has one in flight.
    _action_with(officials[5:], status=Status.MANUAL, attempts=0)
    waiting, (still_failed, _) = _action_with(
        officials[:2], status=Status.FAILED, failed_at=long_ago
    )
    Delivery.objects.filter(action=waiting).exclude(pk=still_failed.pk).update(
        status=Status.QUEUED, next_attempt_at=timezone.now() + dt.timedelta(hours=1)
    )
    Delivery.objects.update(updated_at=long_ago)

    summary = tasks.sweep()

    assert summary["notices"] == 3
    published = published_tasks(broker_queue)
    assert sorted(published) == sorted(
        ("alerts.notify_constituent", [a.pk]) for a in (failed, manual, retried)
    )
    for _name, [action_id] in published:
        assert notify_constituent.apply(args=[action_id]).get() == 1
    subjects = sorted(m.message["Subject"] for m in smtp_sink.messages())
    assert subjects == sorted(
        [
            "We could not deliver your message to 3 offices",
            f"We could not deliver your message to {officials[3].title} {officials[3].name}",
            f"Your message to {officials[4].title} {officials[4].name} has now been delivered",
        ]
    )
    broker_queue[0].delete(broker_queue[1])
    assert tasks.sweep()["notices"] == 0  # told: not again
    assert published_tasks(broker_queue) == []


@pytest.mark.django_db
def test_a_failure_settling_now_is_left_to_its_own_task(broker_queue, settings):
    settings.DELIVERY_REQUEUE_AFTER_SECONDS = 60
    _action_with(_offices(1), status=Status.FAILED, failed_at=timezone.now())
    assert tasks.sweep()["notices"] == 0


@pytest.mark.django_db
def test_an_erased_constituent_is_not_written_to(smtp_settings, smtp_sink):
    action, _ = _action_with(_offices(2), status=Status.FAILED, failed_at=timezone.now())
    type(action).objects.filter(pk=action.pk).update(email="")

    assert constituent_notices_send(action_id=action.pk) == 0
    assert smtp_sink.messages() == []
