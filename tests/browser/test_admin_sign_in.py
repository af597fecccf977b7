"""Staff sign in to the admin in a real browser: password and authenticator code, under the
site's Content-Security-Policy, with no script or style the policy blocks."""

import pytest
from django.contrib.auth.models import User

from tests.support.staff import STAFF_PASSWORD, device_code, totp_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "organizer@example.org"


def _refusals(page) -> list[str]:
    """What the browser refused to load or run (CSP violations), as the console reports it."""
    errors: list[str] = []

    def seen(message):
        if message.type == "error" and "Refused to" in message.text:
            errors.append(message.text)

    page.on("console", seen)
    return errors


def test_staff_sign_in_with_an_authenticator_code(page, live_server):
    user = User.objects.create_superuser(EMAIL, EMAIL, STAFF_PASSWORD)
    device = totp_device(user)
    errors = _refusals(page)

    page.goto(live_server.url + "/admin/")
    assert page.url.startswith(live_server.url + "/admin/login/")
    page.fill("input[name=username]", EMAIL)
    page.fill("input[name=password]", STAFF_PASSWORD)
    page.fill("input[name=otp_token]", "000000")
    page.click("input[type=submit]")
    assert "authenticator code" in page.locator(".errornote").inner_text()
    assert page.locator("input[name=password]").input_value() == ""

    page.fill("input[name=username]", EMAIL)
    page.fill("input[name=password]", STAFF_PASSWORD)
    # A refused code holds the device back for a second or two (django-otp's throttle).
    page.wait_for_timeout(2_100)
    page.fill("input[name=otp_token]", device_code(device))
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/admin/")
    assert page.get_by_role("link", name="Campaigns").first.is_visible()
    assert errors == []
