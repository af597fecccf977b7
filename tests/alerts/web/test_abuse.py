"""Abuse controls seen from the outside: the honeypot, one action per form token under
concurrency, rate limits behind a proxy, the 24-hour repeat rule, and no open relay."""

import threading
import uuid
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from alerts.models import Action, Delivery
from alerts.web import abuse
from alerts.web.forms import new_form_token
from tests.factories import CampaignFactory, OfficialFactory
from tests.support.broker import published_delivery_ids

pytestmark = pytest.mark.django_db

NOW = 1_700_000_000  # 800 seconds into an hour-long window: 2,800 seconds (47 minutes) left.


def _url(campaign):
    return reverse("alerts:campaign_detail", args=[campaign.slug])


def _fresh(form_data, **changes):
    return {**form_data, "token": new_form_token(), **changes}


# --- honeypot ---------------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["send", "address"])
def test_a_filled_honeypot_gets_a_thank_you_page_and_stores_nothing(
    client,
    campaign,
    form_data,
    step,
    mailoutbox,
    broker_queue,
    django_capture_on_commit_callbacks,
):
    redis_client, queue = broker_queue
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            _url(campaign), {**form_data, "step": step, "homepage": "http://spam.example"}
        )
    assert response.status_code == 200
    assert "Thank you for taking action" in response.content.decode()
    assert Action.objects.count() == 0
    assert Delivery.objects.count() == 0
    assert callbacks == []
    assert mailoutbox == []
    assert redis_client.llen(queue) == 0


def test_the_same_form_without_the_honeypot_is_stored(client, campaign, form_data):
    """The control for the test above: it is the honeypot, not the data, that stores nothing."""
    assert client.post(_url(campaign), {**form_data, "homepage": ""}).status_code == 302
    assert Action.objects.count() == 1


# --- one token, one action --------------------------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_posts_of_one_form_are_one_action(
    settings, campaign, form_data, broker_queue
):
    settings.RATE_LIMIT_PER_EMAIL = 100
    settings.RATE_LIMIT_PER_IP = 100
    threads_count = 20
    barrier = threading.Barrier(threads_count, timeout=30)
    responses = [None] * threads_count
    errors = []

    def post(index):
        try:
            barrier.wait()
            responses[index] = Client().post(_url(campaign), form_data)
        except Exception as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(i,), daemon=True) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a request hung"
    assert errors == []

    action = Action.objects.get()
    assert Delivery.objects.filter(action=action).count() == 3
    assert Delivery.objects.count() == 3
    thanks = reverse("alerts:thanks", args=[campaign.slug, action.public_id])
    assert [r.status_code for r in responses] == [302] * threads_count
    assert {r["Location"] for r in responses} == {thanks}
    # Queued once: only the winning request's commit handed its deliveries to the broker.
    assert sorted(published_delivery_ids(broker_queue)) == sorted(
        str(d.id) for d in Delivery.objects.filter(action=action)
    )


# --- rate limits ------------------------------------------------------------------------------


@pytest.fixture
def frozen_window(settings, monkeypatch):
    """Keep the rate-limit window still, so it cannot roll over in the middle of a test."""
    settings.RATE_LIMIT_WINDOW_SECONDS = 3600
    monkeypatch.setattr(abuse, "time", SimpleNamespace(time=lambda: NOW + 0.5))


def _behind_proxy(client_ip):
    """What our one proxy passes on: whatever the client claimed, then the address it saw."""
    spoofed = f"198.18.{uuid.uuid4().int % 256}.{uuid.uuid4().int % 256}"
    return {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": f"{spoofed}, {client_ip}"}


def _assert_limited(response):
    assert response.status_code == 429
    body = response.content.decode()
    assert "You've sent a lot of messages in a short time" in body
    assert "about 47 minutes" in body
    assert response["Retry-After"] == "2800"


def test_the_ip_limit_counts_the_client_the_proxy_saw(
    client, settings, campaign, form_data, frozen_window
):
    settings.RATE_LIMIT_PER_IP = 3
    settings.RATE_LIMIT_PER_EMAIL = 100
    settings.TRUSTED_PROXY_COUNT = 1

    for n in range(3):
        data = _fresh(form_data, email=f"person{n}@example.org")
        assert client.post(_url(campaign), data, **_behind_proxy("203.0.113.7")).status_code == 302
    assert set(Action.objects.values_list("ip_hash", flat=True)) == {abuse.ip_hash("203.0.113.7")}

    for n in range(3, 7):  # a different forged left part each time changes nothing
        data = _fresh(form_data, email=f"person{n}@example.org")
        _assert_limited(client.post(_url(campaign), data, **_behind_proxy("203.0.113.7")))
    assert Action.objects.count() == 3
    assert Delivery.objects.count() == 9

    # Another client behind the same proxy has its own allowance.
    data = _fresh(form_data, email="neighbour@example.org")
    assert client.post(_url(campaign), data, **_behind_proxy("203.0.113.8")).status_code == 302
    assert Action.objects.count() == 4


def test_the_email_limit_holds_across_addresses(
    client, settings, campaign, form_data, frozen_window
):
    settings.RATE_LIMIT_PER_IP = 100
    settings.RATE_LIMIT_PER_EMAIL = 2
    settings.TRUSTED_PROXY_COUNT = 0

    for n, email in enumerate(["ani@example.org", "ANI@example.org"]):
        data = _fresh(form_data, email=email)
        response = client.post(_url(campaign), data, REMOTE_ADDR=f"192.0.2.{n + 1}")
        assert response.status_code == 302
    data = _fresh(form_data, email="ani@example.org")
    _assert_limited(client.post(_url(campaign), data, REMOTE_ADDR="192.0.2.3"))
    assert Action.objects.count() == 2

    data = _fresh(form_data, email="someone.else@example.org")
    assert client.post(_url(campaign), data, REMOTE_ADDR="192.0.2.3").status_code == 302


def test_an_invalid_form_does_not_use_up_the_allowance(
    client, settings, campaign, form_data, frozen_window
):
    settings.RATE_LIMIT_PER_IP = 1
    for _ in range(3):
        response = client.post(_url(campaign), _fresh(form_data, zip_code="1"))
        assert response.status_code == 200
    assert client.post(_url(campaign), _fresh(form_data)).status_code == 302


# --- the 24-hour repeat rule ------------------------------------------------------------------


def test_writing_the_same_official_again_within_a_day_is_skipped(
    client, campaign, email_officials, form_data
):
    first, second, third = email_officials
    data = _fresh(form_data, officials=[str(first.pk), str(second.pk)])
    assert client.post(_url(campaign), data).status_code == 302

    again = _fresh(
        form_data,
        email="Ani@Example.org",
        officials=[str(o.pk) for o in email_officials],
    )
    response = client.post(_url(campaign), again)
    assert response.status_code == 302
    action = Action.objects.get(form_token=again["token"])
    assert set(action.skipped_officials.all()) == {first, second}
    assert [d.official for d in action.deliveries.all()] == [third]
    assert Delivery.objects.filter(official=first).count() == 1
    assert Delivery.objects.filter(official=second).count() == 1

    body = client.get(response["Location"]).content.decode()
    assert "You already wrote to these officials on this campaign in the last 24 hours" in body
    skipped_part = body.split("You already wrote", 1)[1].split("</ul>", 1)[0]
    assert first.name in skipped_part
    assert second.name in skipped_part
    assert third.name not in skipped_part


def test_another_campaign_does_not_count_as_a_repeat(client, email_officials, form_data):
    one = CampaignFactory(targets=email_officials)
    other = CampaignFactory(targets=email_officials)
    assert client.post(_url(one), _fresh(form_data)).status_code == 302
    assert client.post(_url(other), _fresh(form_data)).status_code == 302
    action = Action.objects.get(campaign=other)
    assert action.skipped_officials.count() == 0
    assert action.deliveries.count() == 3


# --- no open relay ----------------------------------------------------------------------------


@pytest.mark.parametrize("with_own", [True, False])
def test_another_campaigns_official_cannot_be_written(
    client, campaign, email_officials, form_data, with_own
):
    elsewhere = OfficialFactory(email="target@elsewhere.example")
    CampaignFactory(targets=[elsewhere])
    officials = [str(elsewhere.pk)]
    if with_own:
        officials = [str(email_officials[0].pk), *officials]
    response = client.post(_url(campaign), _fresh(form_data, officials=officials))
    assert response.status_code == 200
    assert "not one of yours" in response.context["form"].errors["officials"][0]
    assert Action.objects.count() == 0
    assert Delivery.objects.count() == 0


def test_an_inactive_target_cannot_be_written(client, campaign, email_officials, form_data):
    retired = email_officials[0]
    retired.is_active = False
    retired.save()
    response = client.post(_url(campaign), _fresh(form_data, officials=[str(retired.pk)]))
    assert response.status_code == 200
    assert "not one of yours" in response.context["form"].errors["officials"][0]
    assert Action.objects.count() == 0
