"""A staff session ends after STAFF_SESSION_IDLE_SECONDS without a request, and
STAFF_SESSION_MAX_SECONDS after sign-in, however busy."""

import logging
import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from staff.middleware import LAST_SEEN_KEY, SIGNED_IN_AT_KEY
from tests.support.staff import STAFF_PASSWORD, device_code, sign_in, totp_device

pytestmark = pytest.mark.django_db

INDEX = reverse("admin:index")


@pytest.fixture
def client(django_user_model):
    user = django_user_model.objects.create_superuser("ops@example.org", "", STAFF_PASSWORD)
    client = Client()
    assert sign_in(client, "ops@example.org", STAFF_PASSWORD, device_code(totp_device(user)))
    assert client.get(INDEX).status_code == 200
    return client


def _set(client, **values):
    session = client.session
    session.update(values)
    session.save()


def test_the_settings_default_to_half_an_hour_idle_and_twelve_hours(settings):
    assert settings.STAFF_SESSION_IDLE_SECONDS == 30 * 60
    assert settings.STAFF_SESSION_MAX_SECONDS == 12 * 3600


def test_an_idle_session_ends(settings, client, caplog):
    caplog.set_level(logging.INFO, logger="staff")
    _set(client, **{LAST_SEEN_KEY: time.time() - settings.STAFF_SESSION_IDLE_SECONDS - 5})
    response = client.get(INDEX)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert SESSION_KEY not in client.session
    assert client.get(INDEX).status_code == 302  # for good, not for one request
    assert any("staff session expired" in r.getMessage() for r in caplog.records)


def test_a_session_in_use_stays_and_its_clock_restarts(settings, client):
    almost = time.time() - settings.STAFF_SESSION_IDLE_SECONDS + 60
    _set(client, **{LAST_SEEN_KEY: almost})
    assert client.get(INDEX).status_code == 200
    assert client.session[LAST_SEEN_KEY] > almost + 50


def test_a_busy_session_still_ends_at_its_maximum_age(settings, client):
    _set(client, **{SIGNED_IN_AT_KEY: time.time() - settings.STAFF_SESSION_MAX_SECONDS - 5})
    assert client.get(INDEX).status_code == 302
    assert SESSION_KEY not in client.session


def test_a_shorter_idle_setting_applies(settings, client):
    settings.STAFF_SESSION_IDLE_SECONDS = 10
    _set(client, **{LAST_SEEN_KEY: time.time() - 11})
    assert client.get(INDEX).status_code == 302
