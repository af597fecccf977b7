"""Every sign-in, refusal and lockout is a line of the `staff` log, without the password, the
code or the name typed, and with the client's address only as a hash."""

import logging

import pytest
from django.contrib.auth.models import User
from django.test import Client

from alerts.web.abuse import ip_hash
from tests.support.staff import STAFF_PASSWORD, device_code, sign_in, totp_device

pytestmark = pytest.mark.django_db

EMAIL = "organizer@example.org"
ADDRESS = "198.51.100.23"
WRONG_PASSWORD = "Guessed-Password-77"


@pytest.fixture
def user(db):
    return User.objects.create_superuser(EMAIL, EMAIL, STAFF_PASSWORD)


def _staff_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "staff"]


def test_sign_in_refusals_and_lockout_are_logged_without_secrets(settings, caplog, user):
    settings.AXES_FAILURE_LIMIT = 3
    device = totp_device(user)
    caplog.set_level(logging.DEBUG)  # every logger, axes' and django-otp's included
    wrong_code = f"{(int(device_code(device)) + 1) % 1_000_000:06d}"

    sign_in(Client(), EMAIL, WRONG_PASSWORD, REMOTE_ADDR=ADDRESS)
    sign_in(Client(), EMAIL, STAFF_PASSWORD, wrong_code, REMOTE_ADDR=ADDRESS)
    sign_in(Client(), "nobody@example.org", WRONG_PASSWORD, REMOTE_ADDR=ADDRESS)
    good_code = device_code(device)
    locked = sign_in(Client(), EMAIL, STAFF_PASSWORD, good_code, REMOTE_ADDR=ADDRESS)
    assert locked.status_code == 429

    lines = _staff_lines(caplog)
    hashed = ip_hash(ADDRESS)[:16]
    assert f"staff sign-in refused: account {user.pk} from {hashed}, password, failures 1" in lines
    assert (
        f"staff sign-in refused: account {user.pk} from {hashed}, second factor, failures 2"
        in lines
    )
    assert (
        f"staff sign-in refused: account unknown from {hashed}, password (locked out), failures 3"
        in lines
    )
    assert f"staff lockout: account unknown from {hashed}" in lines
    assert f"staff lockout: account {user.pk} from {hashed}" in lines

    everything = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    for secret in (STAFF_PASSWORD, WRONG_PASSWORD, good_code, wrong_code, EMAIL, ADDRESS):
        assert secret not in everything


def test_a_sign_in_and_sign_out_are_logged(caplog, user):
    device = totp_device(user)
    caplog.set_level(logging.INFO, logger="staff")
    client = Client()
    sign_in(client, EMAIL, STAFF_PASSWORD, device_code(device), REMOTE_ADDR=ADDRESS)
    client.post("/admin/logout/", REMOTE_ADDR=ADDRESS)
    hashed = ip_hash(ADDRESS)[:16]
    assert _staff_lines(caplog) == [
        f"staff sign-in: account {user.pk} from {hashed}, second factor TOTPDevice",
        f"staff sign-out: account {user.pk} from {hashed}",
    ]
