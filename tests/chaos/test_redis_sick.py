"""A sick Redis: it takes connections and never answers (the test's own `redis-server`, paused
with SIGSTOP, never the machine's). A submission still ends within 2 seconds, its rows kept for
the sweep, which hands them over once Redis answers again. Both uses of Redis on the way fail
open: the submission rate limit lets the submission through, the broker leaves it to the sweep.
The delivery's rate limiter fails closed, within its timeout: nothing is sent unmetered."""

import time

import pytest
from django.urls import reverse

from alerts.delivery import ratelimit
from alerts.models import Action, Delivery
from tests.support.forms import action_post, constituent

from .conftest import elapsed, wait_all

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

SUBMISSION_LIMIT = 2.0  # seconds, end to end, while Redis is paused


@pytest.fixture
def sick_cache(settings, chaos_redis):
    """The production cache settings (timeouts included), on the throwaway Redis."""
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": chaos_redis.url}}
    assert settings.CACHES["default"]["OPTIONS"]["socket_timeout"] <= 0.5
    return chaos_redis


def _submit(client, campaign, officials, n):
    data = action_post(officials, **constituent(n, tag="sick"))
    started = time.monotonic()
    response = client.post(reverse("alerts:campaign_detail", args=[campaign.slug]), data)
    return response, time.monotonic() - started


def test_a_submission_to_a_paused_redis_ends_in_2_seconds_and_the_sweep_delivers_it(
    client, chaos_campaign, email_officials, chaos_broker, sick_cache, start_worker, make_sink
):
    began = time.monotonic()
    sink = make_sink()
    worker = start_worker(email_url=sink.url)
    per_action = len(email_officials)

    # Healthy first: this process holds an open broker connection and an open cache connection
    # when Redis stops answering (the common case: nothing is refused, replies just never come).
    response, _ = _submit(client, chaos_campaign, email_officials, 0)
    assert response.status_code == 302
    wait_all("sent", expected=per_action, timeout=30, worker=worker)
    before = set(Delivery.objects.values_list("pk", flat=True))

    chaos_broker.pause()
    try:
        # The first on the connections opened before; the second after they were dropped for
        # timing out, so it connects anew (into the paused server's backlog) and waits again.
        took = []
        for n in (1, 2):
            response, submitted_in = _submit(client, chaos_campaign, email_officials, n)
            assert response.status_code == 302, response.content[:500]
            assert "/thanks/" in response["Location"]
            thanks_began = time.monotonic()
            assert client.get(response["Location"]).status_code == 200
            took.append((submitted_in, time.monotonic() - thanks_began))
        print(
            "\nwith Redis paused, submission then thanks page: "
            + ", ".join(f"{post:.2f}s then {thanks:.2f}s" for post, thanks in took)
        )
        assert max(post for post, _ in took) < SUBMISSION_LIMIT
        assert max(thanks for _, thanks in took) < SUBMISSION_LIMIT

        assert Action.objects.count() == 3
        during = Delivery.objects.exclude(pk__in=before)
        assert during.count() == 2 * per_action
        # Queued and never handed to the broker: what the sweep looks for.
        assert set(during.values_list("status", "enqueued_at")) == {(Delivery.Status.QUEUED, None)}
    finally:
        chaos_broker.resume()

    resumed = time.monotonic()
    wait_all("sent", expected=3 * per_action, timeout=60, worker=worker)
    print(f"all sent {elapsed(resumed)} after Redis answered again; took {elapsed(began)}")
    counts = sink.message_id_counts()
    assert set(counts) == {d.message_id for d in Delivery.objects.all()}  # 0 lost
    assert {mid: n for mid, n in counts.items() if n > 1} == {}  # 0 sent twice
    assert worker.process.poll() is None


def test_the_delivery_rate_limiter_fails_closed_within_its_timeout(settings, chaos_redis):
    settings.REDIS_URL = chaos_redis.url
    assert ratelimit.wait_for_slot("sick-test", rate_per_second=1000) == 0.0  # healthy

    chaos_redis.pause()
    try:
        started = time.monotonic()
        with pytest.raises(ratelimit.RedisUnavailable):
            ratelimit.wait_for_slot("sick-test", rate_per_second=1000)
        took = time.monotonic() - started
    finally:
        chaos_redis.resume()
    assert took < 2 * settings.REDIS_SOCKET_TIMEOUT + 0.5, took


def test_the_campaign_page_with_a_paused_redis_is_rendered_afresh(
    client, chaos_campaign, sick_cache
):
    url = reverse("alerts:campaign_detail", args=[chaos_campaign.slug])
    healthy = client.get(url)
    assert healthy.status_code == 200

    sick_cache.pause()
    try:
        started = time.monotonic()
        response = client.get(url)
        took = time.monotonic() - started
    finally:
        sick_cache.resume()
    assert response.status_code == 200
    assert took < SUBMISSION_LIMIT, took
    assert response.content.count(b'name="csrfmiddlewaretoken"') == 1
