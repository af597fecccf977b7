"""The deliveries admin: its counters, the retry of failed deliveries, and the stuck queue,
against the real database and Redis queue."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.models import Delivery
from alerts.selectors import delivery_stats
from legislators.models import ContactForm
from tests.factories import DeliveryFactory, OfficialFactory
from tests.support.broker import published_delivery_ids

pytestmark = pytest.mark.django_db

Status = Delivery.Status


def _sent(**kwargs):
    return DeliveryFactory(status=Status.SENT, sent_at=timezone.now(), **kwargs)


def test_the_retry_action_queues_failed_deliveries_and_ignores_sent_ones(
    admin_client, broker_queue, django_capture_on_commit_callbacks
):
    failed = DeliveryFactory(status=Status.FAILED, attempts=3, last_error="550 no such user")
    sent = _sent()
    url = reverse("admin:alerts_delivery_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            url,
            {"action": "retry_failed", "_selected_action": [str(failed.pk), str(sent.pk)]},
            follow=True,
        )
    assert (
        "1 failed deliveries queued again; 1 not failed, left alone." in response.content.decode()
    )
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert (failed.status, failed.attempts) == (Status.QUEUED, 0)
    assert (sent.status, sent.attempts) == (Status.SENT, 0)
    assert published_delivery_ids(broker_queue) == [str(failed.pk)]


def test_the_changelist_shows_counters_by_channel_and_status(admin_client):
    _sent()
    _sent()
    DeliveryFactory(status=Status.FAILED)
    body = admin_client.get(reverse("admin:alerts_delivery_changelist")).content.decode()
    assert "Deliveries by channel and status" in body
    assert '<th scope="row">email</th><td>0</td><td>0</td><td>0</td><td>2</td><td>1</td>' in body


def test_the_counters_are_the_selectors_table(admin_client):
    _sent(channel="cwc")
    DeliveryFactory(channel="cwc", status=Status.MANUAL)
    DeliveryFactory(channel="webhook")
    DeliveryFactory(channel="webhook", status=Status.FAILED)
    body = admin_client.get(reverse("admin:alerts_delivery_changelist")).content.decode()
    header = "".join(f'<th scope="col">{label}</th>' for label in Status.labels)
    assert f'<th scope="col">Channel</th>{header}</tr>' in body
    table = delivery_stats().by_channel_and_status
    assert list(table) == ["cwc", "webhook"]
    for channel, counts in table.items():
        cells = "".join(f"<td>{count}</td>" for count in counts.values())
        assert f'<th scope="row">{channel}</th>{cells}</tr>' in body
    assert '<th scope="row">email</th>' not in body


def test_the_counters_say_when_there_are_no_deliveries(admin_client):
    body = admin_client.get(reverse("admin:alerts_delivery_changelist")).content.decode()
    assert "No deliveries yet." in body


def test_the_stuck_queue_lists_expired_leases_and_takes_them_back(admin_client, broker_queue):
    past = timezone.now() - dt.timedelta(minutes=5)
    stuck = DeliveryFactory(status=Status.SENDING, attempts=1, lease_expires_at=past)
    DeliveryFactory(
        status=Status.SENDING, attempts=1, lease_expires_at=timezone.now() + dt.timedelta(minutes=5)
    )
    url = reverse("admin:alerts_stuckdelivery_changelist")
    body = admin_client.get(url).content.decode()
    assert stuck.id.hex[:8] in body
    assert "1 stuck delivery" in body or "1 stuck deliver" in body
    admin_client.post(url, {"action": "reclaim", "_selected_action": [str(stuck.pk)]})
    stuck.refresh_from_db()
    assert stuck.status == Status.QUEUED


def test_the_deliveries_page_shows_how_each_office_is_reached_and_how_it_fares(admin_client):
    office = OfficialFactory(
        title="Senator", name="Pat Lee", channel="contact_form", email="",
        contact_form_url="https://lee.senate.example/contact",
    )  # fmt: skip
    ContactForm.objects.create(
        official=office,
        source="senate/L.yaml",
        definition={"contact_form": {"steps": []}},
        content_hash="0" * 64,
        status=ContactForm.Status.BROKEN,
        version=3,
    )
    DeliveryFactory(official=office, status=Status.FAILED, failed_at=timezone.now())
    DeliveryFactory(official=office, status=Status.MANUAL)

    page = admin_client.get(reverse("admin:alerts_delivery_changelist")).content.decode()

    table = page[page.index('id="reach-by-office"') :]
    row = table[table.index("Pat Lee") : table.index("</tr>", table.index("Pat Lee"))]
    assert "not working right now" in row  # reached by the constituent, and why
    assert "<td>1</td><td>1</td>" in row  # one failed this week, one left to a constituent
    assert "Broken: failed repeatedly (v3)" in row
    broken = admin_client.get(reverse("admin:legislators_brokencontactform_changelist"))
    assert "Pat Lee" in broken.content.decode()
