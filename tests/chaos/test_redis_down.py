"""The broker goes away: submissions still succeed, quickly, and are kept as `queued` rows the
broker never got; when it is back (empty), the worker reconnects and its sweep hands them over.
The Redis stopped here is the test's own throwaway server, never the machine's."""

import time

import pytest
from django.urls import reverse

from alerts.models import Action, Delivery
from tests.support.forms import action_post, constituent

from .conftest import elapsed, status_counts, wait_all

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ACTIONS = 20
REQUEST_LIMIT = 5.0  # seconds; the broker connect timeout is 2 s and publishing does not retry


def _post(client, campaign, officials, n):
    data = action_post(officials, **constituent(n, tag="outage"))
    started = time.monotonic()
    response = client.post(reverse("alerts:campaign_detail", args=[campaign.slug]), data)
    return response, time.monotonic() - started


def test_submissions_while_redis_is_down_are_delivered_once_it_is_back(
    client, chaos_campaign, email_officials, chaos_broker, start_worker, make_sink
):
    began = time.monotonic()
    sink = make_sink()
    worker = start_worker(email_url=sink.url)
    per_action = len(email_officials)

    # Before: one submission goes all the way, so the worker is connected to this broker.
    response, _ = _post(client, chaos_campaign, email_officials, 0)
    assert response.status_code == 302
    wait_all("sent", expected=per_action, timeout=30, worker=worker)
    before = set(Delivery.objects.values_list("pk", flat=True))

    chaos_broker.stop()
    durations = []
    for n in range(1, ACTIONS + 1):
        response, took = _post(client, chaos_campaign, email_officials, n)
        assert response.status_code == 302, response.content[:500]
        durations.append(took)
    print(
        f"\n{ACTIONS} submissions with the broker down: slowest {max(durations):.2f}s, "
        f"total {sum(durations):.2f}s"
    )
    assert max(durations) < REQUEST_LIMIT
    assert Action.objects.count() == ACTIONS + 1
    during = Delivery.objects.exclude(pk__in=before)
    assert during.count() == ACTIONS * per_action
    assert set(during.values_list("status", "enqueued_at")) == {(Delivery.Status.QUEUED, None)}
    assert worker.process.poll() is None, "the worker died with its broker"

    chaos_broker.start()  # same port, and empty: whatever it held is gone
    restarted = time.monotonic()
    expected = (ACTIONS + 1) * per_action
    wait_all("sent", expected=expected, timeout=60, worker=worker)
    print(f"all sent {elapsed(restarted)} after the broker came back; {dict(status_counts())}")

    counts = sink.message_id_counts()
    message_ids = {d.message_id for d in Delivery.objects.all()}
    assert set(counts) == message_ids  # 0 lost, nothing unknown
    assert {mid: n for mid, n in counts.items() if n > 1} == {}  # 0 duplicates
    assert Delivery.objects.filter(attempts=1).count() == expected
    print(f"took {elapsed(began)}")
