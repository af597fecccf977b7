"""End to end with real services: form → PostgreSQL → Redis → Celery worker process → SMTP."""

import email.utils

import pytest
from django.urls import reverse

from alerts.models import Action, Delivery
from alerts.tasks import deliver
from tests.support.processes import wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_submission_reaches_each_chosen_official_over_smtp(
    client, campaign, email_officials, form_data, celery_worker, smtp_sink, broker_queue
):
    chosen = email_officials[:2]
    data = {**form_data, "officials": [str(o.pk) for o in chosen]}

    response = client.post(reverse("alerts:campaign_detail", args=[campaign.slug]), data)
    assert response.status_code == 302

    received = smtp_sink.wait_for(2, timeout=30)
    action = Action.objects.get()
    deliveries = {d.official.email: d for d in action.deliveries.select_related("official")}
    wait_until(
        lambda: set(Delivery.objects.values_list("status", flat=True)) == {"sent"},
        timeout=15,
        message="every delivery marked sent",
    )
    assert sorted(m.rcpt_tos[0] for m in received) == sorted(o.email for o in chosen)
    for message in received:
        delivery = deliveries[message.rcpt_tos[0]]
        headers = message.message
        assert headers["To"] == delivery.official.email
        assert email.utils.parseaddr(headers["Reply-To"]) == ("Ani Petrosyan", "ani@example.org")
        assert headers["Subject"] == "Protect civilians now"
        assert headers["Message-ID"] == delivery.message_id
        official = delivery.official
        form = "Secretary" if official.title == "Secretary of State" else official.title
        assert delivery.salutation == f"Dear {form} {official.last_name}"
        assert headers.get_content().count("Dear ") == 1
        assert f"{delivery.salutation}," in headers.get_content()

    # Running the task again, in the worker or here, sends nothing more.
    redis_client, queue = broker_queue
    for delivery in deliveries.values():
        deliver.delay([str(delivery.id)])
        assert deliver.apply(args=[[str(delivery.id)]]).get() == {str(delivery.id): "skipped"}
    wait_until(lambda: redis_client.llen(queue) == 0, timeout=15, message="queue drained")
    wait_until(
        lambda: celery_worker.log().count("nothing to do") >= 2,
        timeout=15,
        message="worker ran the repeated tasks",
    )
    assert len(smtp_sink.messages()) == 2
    assert Delivery.objects.filter(status="sent", attempts=1).count() == 2
    # The worker saw ids only: nothing personal reached its log.
    log = celery_worker.log()
    assert str(deliveries[chosen[0].email].id) in log
    for personal in ("ani@example.org", "Petrosyan", "Brand Blvd", "Glendale"):
        assert personal not in log
