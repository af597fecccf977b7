"""manage.py create_staff_user EMAIL: the first staff user, who signs in with the key it prints."""

import re
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.support.staff import sign_in, totp_code

pytestmark = pytest.mark.django_db

PASSWORD = "Tidal-orchard-5581"


@pytest.fixture
def typed(monkeypatch):
    """What is typed at the command's password prompts."""
    answers: list[str] = []
    monkeypatch.setattr(
        "staff.management.commands.create_staff_user.getpass.getpass",
        lambda prompt="": answers.pop(0),
    )
    return answers


def _run(*args) -> str:
    out = StringIO()
    call_command("create_staff_user", *args, stdout=out)
    return out.getvalue()


def _secret(output: str) -> str:
    return re.search(r"secret: ([A-Z2-7]+)", output).group(1)


def test_the_printed_key_and_the_password_sign_in(typed):
    typed.extend([PASSWORD, PASSWORD])
    output = _run("First.Organizer@Example.org")
    user = User.objects.get(username="first.organizer@example.org")
    assert user.is_staff and user.is_superuser and user.email == user.username
    uri = re.search(r"URI:\s+(otpauth://totp/\S+)", output).group(1)
    assert f"secret={_secret(output)}" in uri and "issuer=Action%20Alerts" in uri
    assert "█" in output or "▀" in output  # the QR code

    client = Client()
    response = sign_in(client, user.username, PASSWORD, totp_code(_secret(output)))
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_running_it_again_replaces_the_authenticator(typed):
    typed.extend([PASSWORD, PASSWORD])
    old = _secret(_run("ops@example.org", "--no-qr"))
    new = _secret(_run("ops@example.org", "--keep-password", "--no-qr"))
    assert old != new
    assert TOTPDevice.objects.filter(user__username="ops@example.org").count() == 1
    # The new key first: a refused code holds the device back for a moment (django-otp).
    assert sign_in(Client(), "ops@example.org", PASSWORD, totp_code(new)).status_code == 302
    assert sign_in(Client(), "ops@example.org", PASSWORD, totp_code(old)).status_code == 200


@pytest.mark.parametrize(
    ("args", "answers", "message"),
    [
        (["not-an-email"], [], "Not an email address"),
        (["ops@example.org"], [PASSWORD, PASSWORD + "x"], "The two passwords differ"),
        (["ops@example.org"], ["short", "short"], "too short"),
        (["ops@example.org", "--keep-password"], [], "No account ops@example.org"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(typed, args, answers, message):
    typed.extend(answers)
    with pytest.raises(CommandError, match=message):
        _run(*args)
    assert not User.objects.exists()
    assert not TOTPDevice.objects.exists()
