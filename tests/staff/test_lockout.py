"""Failed sign-ins are counted per account and per client address (as alerts.web.abuse.client_ip
sees it); at AXES_FAILURE_LIMIT both lock, even for the right password and code."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.db.models import F
from django.test import Client

from tests.support.staff import STAFF_PASSWORD, device_code, sign_in, totp_device

pytestmark = pytest.mark.django_db

EMAIL = "organizer@example.org"
LIMIT = 3


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT


@pytest.fixture
def device(db):
    return totp_device(User.objects.create_superuser(EMAIL, EMAIL, STAFF_PASSWORD))


def _signs_in(device, **extra) -> bool:
    client = Client()
    response = sign_in(client, EMAIL, STAFF_PASSWORD, device_code(device), **extra)
    return response.status_code == 302 and SESSION_KEY in client.session


def test_an_account_locks_after_the_limit_from_any_address(device):
    for n in range(LIMIT):
        response = sign_in(Client(), EMAIL, f"guess-{n}", REMOTE_ADDR=f"198.51.100.{n + 1}")
        assert response.status_code == (429 if n == LIMIT - 1 else 200)
    # However the name is typed.
    response = sign_in(Client(), "Organizer@Example.org ", "guess", REMOTE_ADDR="198.51.100.99")
    assert response.status_code == 429
    assert "Sign-in locked" in response.content.decode()
    assert not _signs_in(device, REMOTE_ADDR="203.0.113.50")


def test_wrong_codes_lock_the_account_like_wrong_passwords(device):
    for _ in range(LIMIT):
        sign_in(Client(), EMAIL, STAFF_PASSWORD, "000000", REMOTE_ADDR="198.51.100.7")
    assert not _signs_in(device, REMOTE_ADDR="203.0.113.50")


def test_an_address_locks_after_the_limit_for_any_account(device):
    for n in range(LIMIT):
        sign_in(Client(), f"someone-{n}@example.org", "guess", REMOTE_ADDR="198.51.100.7")
    assert not _signs_in(device, REMOTE_ADDR="198.51.100.7")
    # The account itself is not locked: from elsewhere its owner still signs in.
    assert _signs_in(device, REMOTE_ADDR="203.0.113.50")


def test_below_the_limit_the_right_password_and_code_still_sign_in(device):
    for n in range(LIMIT - 1):
        sign_in(Client(), EMAIL, f"guess-{n}", REMOTE_ADDR="198.51.100.7")
    assert _signs_in(device, REMOTE_ADDR="198.51.100.7")


def test_a_forged_forwarded_for_does_not_reset_the_count_behind_our_proxy(settings, device):
    """Behind one proxy of ours (TRUSTED_PROXY_COUNT=1) the client is the header's last entry,
    which the proxy wrote; whatever the client put before it is ignored."""
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for n in range(LIMIT):
        forged = f"192.0.2.{n + 1}, 203.0.113.9"
        sign_in(Client(), f"someone-{n}@example.org", "guess", HTTP_X_FORWARDED_FOR=forged, **proxy)
    assert not _signs_in(device, HTTP_X_FORWARDED_FOR="192.0.2.200, 203.0.113.9", **proxy)
    assert _signs_in(device, HTTP_X_FORWARDED_FOR="203.0.113.10", **proxy)


def test_a_forwarded_for_is_ignored_without_a_proxy_of_ours(settings, device):
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(LIMIT):
        sign_in(
            Client(),
            f"someone-{n}@example.org",
            "guess",
            REMOTE_ADDR="198.51.100.7",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n + 1}",
        )
    assert not _signs_in(device, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="192.0.2.99")


def test_addresses_of_one_ipv6_64_count_as_one(device):
    for n in range(LIMIT):
        sign_in(Client(), f"someone-{n}@example.org", "guess", REMOTE_ADDR=f"2001:db8:1:2::{n + 1}")
    assert not _signs_in(device, REMOTE_ADDR="2001:db8:1:2:ffff::1")
    assert _signs_in(device, REMOTE_ADDR="2001:db8:1:3::1")


def test_the_lock_lifts_after_the_cool_off(settings, device):
    for n in range(LIMIT):
        sign_in(Client(), EMAIL, f"guess-{n}", REMOTE_ADDR="198.51.100.7")
    assert not _signs_in(device, REMOTE_ADDR="203.0.113.50")
    # The failures, as if they had happened a cool-off ago.
    AccessAttempt.objects.update(
        attempt_time=F("attempt_time") - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    assert _signs_in(device, REMOTE_ADDR="203.0.113.50")
