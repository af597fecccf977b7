"""Double opt-in: nothing goes to an official until the constituent presses the button behind
the link we emailed them. Fetching the link (as mail scanners do) confirms nothing."""

import datetime as dt
import re
import uuid
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.models import Action, Delivery
from alerts.notifications import confirmation_code_shown, reminders_send
from alerts.tasks import send_confirmation
from tests.factories import ActionFactory, CampaignFactory, DeliveryFactory
from tests.support.broker import published_tasks

pytestmark = pytest.mark.django_db

CONFIRM_LINK_RE = re.compile(r"https?://\S+?/confirm/[^/\s]+/#code=[0-9A-Z]{4}-[0-9A-Z]{4}")


@pytest.fixture
def campaign(email_officials):
    return CampaignFactory(targets=email_officials, double_opt_in=True)


def _submit(client, campaign, form_data, capture):
    with capture(execute=True):
        response = client.post(reverse("alerts:campaign_detail", args=[campaign.slug]), form_data)
    assert response.status_code == 302
    return response


@pytest.fixture
def submitted(client, campaign, form_data, broker_queue, django_capture_on_commit_callbacks):
    """A submission whose commit callbacks ran: its confirmation task is on the Redis queue."""
    response = _submit(client, campaign, form_data, django_capture_on_commit_callbacks)
    return response, Action.objects.get()


def test_a_submission_queues_no_delivery_only_the_confirmation_task(
    submitted, broker_queue, mailoutbox
):
    _, action = submitted
    assert action.confirmed_at is None
    statuses = list(action.deliveries.values_list("status", flat=True))
    assert statuses == [Delivery.Status.PENDING] * 3
    # Only the action's id travels: no delivery task, no personal data.
    assert published_tasks(broker_queue) == [("alerts.send_confirmation", [action.pk])]
    redis_client, queue = broker_queue
    assert b"ani@example.org" not in b"".join(redis_client.lrange(queue, 0, -1))
    assert mailoutbox == [], "the email is the task's job, not the request's"


def test_the_confirmation_task_emails_one_link_to_the_constituent(
    submitted, broker_queue, mailoutbox
):
    _, action = submitted
    [(task, args)] = published_tasks(broker_queue)
    assert task == "alerts.send_confirmation"
    assert send_confirmation.apply(args=args).get() is True

    [mail] = mailoutbox
    assert mail.to == ["ani@example.org"]
    assert "Confirm your message" in mail.subject
    [link] = CONFIRM_LINK_RE.findall(mail.body)
    assert urlsplit(link).path == reverse("alerts:confirm", args=[action.public_id])
    assert urlsplit(link).fragment == f"code={confirmation_code_shown(action)}"
    for official in action.deliveries.all():
        assert official.official.name in mail.body
    action.refresh_from_db()
    assert action.confirmation_sent_at is not None

    # The task running again (a redelivered message) sends nothing more.
    assert send_confirmation.apply(args=args).get() is False
    assert len(mailoutbox) == 1


def test_the_link_shows_a_button_and_only_the_post_confirms(
    client, submitted, broker_queue, mailoutbox, django_capture_on_commit_callbacks
):
    _, action = submitted
    [(_, args)] = published_tasks(broker_queue)
    send_confirmation.apply(args=args).get()
    [link] = CONFIRM_LINK_RE.findall(mailoutbox[0].body)
    path = urlsplit(link).path
    code = urlsplit(link).fragment.removeprefix("code=")
    redis_client, queue = broker_queue
    redis_client.delete(queue)

    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = client.get(path)
        assert response.status_code == 200
        body = response.content.decode()
        assert '<form method="post"' in body
        assert "Confirm and send" in body
        assert callbacks == []
    action.refresh_from_db()
    assert action.confirmed_at is None
    assert set(action.deliveries.values_list("status", flat=True)) == {Delivery.Status.PENDING}
    assert redis_client.llen(queue) == 0

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path, {"code": code})
    assert response.status_code == 200
    assert "your message is on its way" in response.content.decode()
    assert "We are sending it to 3 officials now." in response.content.decode()
    action.refresh_from_db()
    assert action.confirmed_at is not None
    deliveries = action.deliveries.all()
    assert {d.status for d in deliveries} == {Delivery.Status.QUEUED}
    assert all(d.queued_at is not None for d in deliveries)
    [(task, [delivery_ids])] = published_tasks(broker_queue)
    assert task == "alerts.deliver"
    assert sorted(delivery_ids) == sorted(str(d.id) for d in deliveries)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = client.post(path, {"code": code})
    assert again.status_code == 200
    assert "Already confirmed" in again.content.decode()
    assert callbacks == []
    assert redis_client.llen(queue) == 1  # still only the first confirmation's
    confirmed_at = action.confirmed_at
    action.refresh_from_db()
    assert action.confirmed_at == confirmed_at

    # Once confirmed, the link's page says so instead of offering the button again.
    shown = client.get(path).content.decode()
    assert "already confirmed" in shown
    assert '<form method="post"' not in shown


def test_an_expired_link_is_410_and_confirms_nothing(
    client, campaign, django_capture_on_commit_callbacks
):
    action = ActionFactory(campaign=campaign, created_at=timezone.now() - dt.timedelta(days=8))
    DeliveryFactory(action=action, status=Delivery.Status.PENDING, queued_at=None)
    path = reverse("alerts:confirm", args=[action.public_id])

    for method in (client.get, client.post):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = method(path, {"code": confirmation_code_shown(action)})
        assert response.status_code == 410
        body = response.content.decode()
        assert "This link has expired" in body
        assert "Nothing was sent" in body
        assert callbacks == []
    action.refresh_from_db()
    assert action.confirmed_at is None
    assert set(action.deliveries.values_list("status", flat=True)) == {Delivery.Status.PENDING}


def test_a_six_day_old_link_still_works(client, campaign):
    action = ActionFactory(campaign=campaign, created_at=timezone.now() - dt.timedelta(days=6))
    path = reverse("alerts:confirm", args=[action.public_id])
    response = client.get(path)
    assert response.status_code == 200
    assert "Confirm and send" in response.content.decode()
    response = client.post(path, {"code": confirmation_code_shown(action)})
    assert "your message is on its way" in response.content.decode()


def test_a_link_that_is_not_ours_is_404(client, campaign):
    action = ActionFactory(campaign=campaign)
    for method in (client.get, client.post):
        response = method(
            reverse("alerts:confirm", args=[uuid.uuid4()]),
            {"code": confirmation_code_shown(action)},
        )
        assert response.status_code == 404
        assert "We don't recognise this link" in response.content.decode()
    action.refresh_from_db()
    assert action.confirmed_at is None


def _awaiting(campaign, *, sent_hours_ago, **fields):
    sent_at = timezone.now() - dt.timedelta(hours=sent_hours_ago)
    action = ActionFactory(
        campaign=campaign, created_at=sent_at, confirmation_sent_at=sent_at, **fields
    )
    DeliveryFactory(action=action, status=Delivery.Status.PENDING, queued_at=None)
    return action


def test_one_reminder_a_day_after_the_confirmation_email(campaign, mailoutbox):
    due = _awaiting(campaign, sent_hours_ago=25, email="due@example.org")
    _awaiting(campaign, sent_hours_ago=23, email="young@example.org")
    _awaiting(
        campaign,
        sent_hours_ago=25,
        email="confirmed@example.org",
        confirmed_at=timezone.now() - dt.timedelta(hours=20),
    )

    assert reminders_send() == 1
    [mail] = mailoutbox
    assert mail.to == ["due@example.org"]
    assert mail.subject.startswith("Reminder:")
    assert "still waiting for you to confirm" in mail.body
    [link] = CONFIRM_LINK_RE.findall(mail.body)
    assert urlsplit(link).path == reverse("alerts:confirm", args=[due.public_id])
    assert urlsplit(link).fragment == f"code={confirmation_code_shown(due)}"
    due.refresh_from_db()
    assert due.reminder_sent_at is not None

    assert reminders_send() == 0
    assert len(mailoutbox) == 1


def test_the_thank_you_page_asks_to_check_email(
    client, campaign, form_data, broker_queue, django_capture_on_commit_callbacks
):
    response = _submit(client, campaign, form_data, django_capture_on_commit_callbacks)
    body = client.get(response["Location"]).content.decode()
    assert "One more step: check your email" in body
    assert "Your message is on its way" not in body


def test_without_opt_in_the_thank_you_page_does_not_ask_to_check_email(
    client, email_officials, form_data
):
    campaign = CampaignFactory(targets=email_officials, double_opt_in=False)
    response = client.post(reverse("alerts:campaign_detail", args=[campaign.slug]), form_data)
    body = client.get(response["Location"]).content.decode()
    assert "Your message is on its way" in body
    assert "check your email" not in body
