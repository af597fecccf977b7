"""A cap on what a POST may carry (config/settings/base.py): an over-size body, urlencoded or
multipart, a file, or too many fields get a 400, never a 500, and nothing is stored."""

from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from alerts.models import Action, Delivery
from tests.support.forms import action_post

pytestmark = pytest.mark.django_db

URLENCODED = "application/x-www-form-urlencoded"


@pytest.fixture
def client():
    """Errors come back as responses, as a visitor gets them."""
    return Client(raise_request_exception=False)


def _urls(campaign):
    return [
        reverse("alerts:campaign_detail", args=[campaign.slug]),
        reverse("alerts:campaign_embed", args=[campaign.slug]),
    ]


def _refused(response):
    assert response.status_code in (400, 413), response.status_code


def _nothing_stored():
    assert Action.objects.count() == 0
    assert Delivery.objects.count() == 0


def test_an_over_size_urlencoded_post_is_refused(client, campaign, email_officials):
    data = action_post(email_officials, message="x" * 200_000)
    for url in _urls(campaign):
        _refused(client.post(url, urlencode(data, doseq=True), content_type=URLENCODED))
    _nothing_stored()


def test_an_over_size_multipart_post_is_refused(client, campaign, email_officials):
    for url in _urls(campaign):
        _refused(client.post(url, action_post(email_officials, message="x" * 200_000)))
    _nothing_stored()


def test_a_multipart_post_with_a_file_is_refused(client, campaign, email_officials):
    for size in (10, 3_000_000):
        upload = SimpleUploadedFile("big.bin", b"\0" * size)
        for url in _urls(campaign):
            _refused(client.post(url, {**action_post(email_officials), "attachment": upload}))
            upload.seek(0)
    _nothing_stored()


def test_a_post_with_too_many_fields_is_refused(client, campaign, email_officials):
    data = {**action_post(email_officials), "officials": ["1"] * 2000}
    for url in _urls(campaign):
        _refused(client.post(url, urlencode(data, doseq=True), content_type=URLENCODED))
    _nothing_stored()


def test_the_largest_honest_message_still_goes_through(client, campaign, email_officials):
    """The cap sits above the form's own limit: 5,000 characters of four bytes each,
    URL-encoded (12 bytes a character), are taken."""
    data = action_post(email_officials, message="\U0001f30d" * 5000)
    body = urlencode(data, doseq=True)
    assert len(body) > 60_000
    response = client.post(_urls(campaign)[0], body, content_type=URLENCODED)
    assert response.status_code == 302
    assert Action.objects.get().message == "\U0001f30d" * 5000
