"""The admin asks for a password and a TOTP code; a password alone reaches no admin page."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.support.staff import STAFF_PASSWORD, device_code, sign_in, totp_device

pytestmark = pytest.mark.django_db

EMAIL = "organizer@example.org"

# A page of each kind: the index, an app, a model's list, a form, and the admin's own views.
ADMIN_PAGES = [
    ("admin:index", []),
    ("admin:app_list", ["alerts"]),
    ("admin:alerts_campaign_changelist", []),
    ("admin:alerts_campaign_add", []),
    ("admin:password_change", []),
    ("admin:otp_totp_totpdevice_changelist", []),
]


@pytest.fixture
def staff_user(db):
    return User.objects.create_superuser(EMAIL, EMAIL, STAFF_PASSWORD)


@pytest.fixture
def device(staff_user):
    return totp_device(staff_user)


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


def test_password_and_a_valid_code_sign_in(client, device):
    response = sign_in(client, EMAIL, STAFF_PASSWORD, device_code(device))
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:alerts_campaign_changelist")).status_code == 200


def test_the_password_alone_is_refused_at_the_login_form(client, device):
    response = sign_in(client, EMAIL, STAFF_PASSWORD)
    assert response.status_code == 200
    body = response.content.decode()
    assert "correct username, password and authenticator code" in body
    assert SESSION_KEY not in client.session
    assert _is_login_redirect(client.get(reverse("admin:index")))


def test_the_refusal_does_not_tell_a_right_password_from_a_wrong_one(client, device):
    right = sign_in(client, EMAIL, STAFF_PASSWORD, "000000").content.decode()
    wrong = sign_in(client, EMAIL, "not-the-password", "000000").content.decode()
    assert "correct username, password and authenticator code" in right
    assert "correct username, password and authenticator code" in wrong
    # django-otp's own form would list the devices and send the password back in the page.
    assert STAFF_PASSWORD not in right
    assert 'name="otp_device"' not in right


def test_a_staff_user_without_a_device_cannot_sign_in(client, staff_user):
    response = sign_in(client, EMAIL, STAFF_PASSWORD, "123456")
    assert response.status_code == 200
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize(("name", "args"), ADMIN_PAGES)
def test_a_session_signed_in_with_the_password_alone_reaches_no_admin_page(
    client, device, staff_user, name, args
):
    """As if signed in by any other way than the admin's form (here, Django's own login)."""
    client.force_login(staff_user)
    assert _is_login_redirect(client.get(reverse(name, args=args)))


def test_the_login_page_of_a_password_only_session_still_asks_for_the_code(
    client, device, staff_user
):
    client.force_login(staff_user)
    response = client.get(reverse("admin:login"))
    assert response.status_code == 200
    assert 'name="otp_token"' in response.content.decode()


def test_a_wrong_code_is_refused_and_counted_as_a_failed_sign_in(client, device):
    good = device_code(device)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    response = sign_in(client, EMAIL, STAFF_PASSWORD, wrong)
    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert AccessAttempt.objects.get(username=EMAIL).failures_since_start == 1


@pytest.mark.parametrize(
    "code", ["", "abcdef", "²²²²²²", "1" * 5000, "12345", "\uff10\uff11\uff12\uff13\uff14\uff15"]
)
def test_garbled_codes_are_refused_without_an_error(client, device, code):
    response = sign_in(client, EMAIL, STAFF_PASSWORD, code)
    assert response.status_code == 200
    assert SESSION_KEY not in client.session


def test_a_code_works_once(device):
    code = device_code(device)
    first, second = Client(), Client()
    assert sign_in(first, EMAIL, STAFF_PASSWORD, code).status_code == 302
    assert sign_in(second, EMAIL, STAFF_PASSWORD, code).status_code == 200
    assert SESSION_KEY not in second.session


def test_someone_with_several_authenticators_chooses_one(client, staff_user):
    totp_device(staff_user)
    second = totp_device(staff_user)
    page = sign_in(client, EMAIL, STAFF_PASSWORD, device_code(second)).content.decode()
    assert 'name="otp_device"' in page
    data = {
        "username": EMAIL,
        "password": STAFF_PASSWORD,
        "otp_device": second.persistent_id,
        "otp_token": device_code(second),
        "next": "/admin/",
    }
    assert client.post(reverse("admin:login"), data).status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_the_login_page_has_no_inline_script(client):
    body = client.get(reverse("admin:login")).content.decode()
    assert "<script>" not in body
    assert "<script " not in body.replace('<script src="', "")
