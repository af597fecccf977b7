"""Response headers that protect visitors: the Content-Security-Policy, Cache-Control on pages
that carry one visitor's data or tokens, and `__Host-` cookies under production's names."""

import re
import uuid

import pytest
from django.http import HttpResponseNotFound
from django.test import Client
from django.urls import reverse

from alerts.web.framing import ContentSecurityPolicyMiddleware, parse_policy
from tests.factories import CampaignFactory
from tests.support.forms import action_post

pytestmark = pytest.mark.django_db

PARTNER = "https://partner.example"

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
INLINE_STYLE = re.compile(r"<style\b|<[a-z][^>]*\sstyle\s*=", re.I)


@pytest.fixture
def campaign(email_officials):
    return CampaignFactory(targets=email_officials, allowed_origins=PARTNER, goal=50)


def _pages(client, campaign, officials):
    """Every public page a visitor may see, by name: GETs, the journey's POST and its 429."""
    detail = reverse("alerts:campaign_detail", args=[campaign.slug])
    embed = reverse("alerts:campaign_embed", args=[campaign.slug])
    sent = client.post(detail, action_post(officials))
    assert sent.status_code == 302, sent.content.decode()[:500]
    thanks = sent["Location"]
    embed_sent = client.post(embed, action_post(officials, email="embed@example.org"))
    assert embed_sent.status_code == 200  # the embed's thanks page, in the POST's answer
    return {
        "list": client.get(reverse("alerts:campaign_list")),
        "privacy": client.get(reverse("alerts:privacy")),
        "campaign": client.get(detail),
        "step 2": client.post(detail, {**action_post(officials), "step": "address"}),
        "embed": client.get(embed),
        "thanks": client.get(thanks),
        "embed thanks": embed_sent,
        "confirm (unknown link)": client.get(f"/confirm/{uuid.uuid4()}/"),
    }


def test_every_page_has_the_site_policy_with_scripts_and_styles_from_our_origin(
    client, campaign, email_officials
):
    for name, response in _pages(client, campaign, email_officials).items():
        policy = parse_policy(response["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"], name
        assert policy["style-src"] == ["'self'"], name
        assert policy["default-src"] == ["'self'"], name
        assert policy["object-src"] == ["'none'"], name
        assert policy["base-uri"] == ["'none'"], name


def test_the_framed_pages_keep_their_partners_and_the_site_policy(
    client, campaign, email_officials
):
    pages = _pages(client, campaign, email_officials)
    for name in ("embed", "embed thanks"):
        policy = parse_policy(pages[name]["Content-Security-Policy"])
        assert policy["frame-ancestors"] == ["'self'", PARTNER], name
        assert policy["script-src"] == ["'self'"], name
    for name in ("campaign", "thanks", "privacy"):
        policy = parse_policy(pages[name]["Content-Security-Policy"])
        assert policy["frame-ancestors"] == ["'none'"], name


def test_no_page_has_inline_script_handlers_or_styles(client, campaign, email_officials):
    """What the policy would refuse in a browser (tests/browser/test_csp.py shows it there)."""
    for name, response in _pages(client, campaign, email_officials).items():
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), name
        assert not INLINE_HANDLER.search(html), name
        assert not INLINE_STYLE.search(html), name


def test_the_rate_limit_page_has_the_policy_and_is_not_stored(
    client, settings, campaign, email_officials
):
    settings.RATE_LIMIT_PER_IP = 1
    detail = reverse("alerts:campaign_detail", args=[campaign.slug])
    client.post(detail, action_post(email_officials))
    response = client.post(detail, action_post(email_officials, email="second@example.org"))
    assert response.status_code == 429
    assert parse_policy(response["Content-Security-Policy"])["script-src"] == ["'self'"]
    assert {"no-store", "private"} <= _cache_control(response)
    assert not INLINE_SCRIPT.search(response.content.decode())


def _cache_control(response):
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part}


def test_pages_with_a_visitors_data_or_tokens_are_never_stored(client, campaign, email_officials):
    pages = _pages(client, campaign, email_officials)
    for name in (
        "campaign",
        "step 2",
        "embed",
        "thanks",
        "embed thanks",
        "confirm (unknown link)",
    ):
        assert {"no-store", "private"} <= _cache_control(pages[name]), name
    for name in ("list", "privacy"):  # the same for everyone
        assert "no-store" not in _cache_control(pages[name]), name


def test_the_call_log_answer_is_never_stored(client, campaign, email_officials):
    detail = reverse("alerts:campaign_detail", args=[campaign.slug])
    thanks = client.post(detail, action_post(email_officials))["Location"]
    response = client.post(thanks + "called/", {})
    assert response.status_code < 500
    assert {"no-store", "private"} <= _cache_control(response)


def test_host_prefixed_cookies_are_secure_for_the_whole_site_and_the_form_still_works(
    settings, campaign, email_officials
):
    """Production's cookie settings (tests/test_settings.py checks production has them): the
    browser takes a `__Host-` cookie only if it is Secure, has Path=/ and no Domain."""
    settings.CSRF_COOKIE_NAME = "__Host-csrftoken"
    settings.SESSION_COOKIE_NAME = "__Host-sessionid"
    settings.CSRF_COOKIE_SECURE = settings.SESSION_COOKIE_SECURE = True
    browser = Client(enforce_csrf_checks=True)
    detail = reverse("alerts:campaign_detail", args=[campaign.slug])
    page = browser.get(detail, secure=True)
    cookie = browser.cookies["__Host-csrftoken"]
    header = cookie.output(header="").lower()
    assert "secure" in header
    assert "path=/;" in header or header.endswith("path=/")
    assert "domain" not in header

    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    sent = browser.post(
        detail,
        {**action_post(email_officials), "csrfmiddlewaretoken": token},
        secure=True,
        headers={"Referer": f"https://testserver{detail}"},
    )
    assert sent.status_code == 302


@pytest.mark.parametrize("own", ["", "frame-ancestors 'self' https://partner.example"])
def test_debug_error_pages_which_django_csp_skips_still_may_not_be_framed(settings, rf, own):
    settings.DEBUG = True

    def not_found(request):
        response = HttpResponseNotFound("no such page")
        if own:
            response["Content-Security-Policy"] = own
        return response

    response = ContentSecurityPolicyMiddleware(not_found)(rf.get("/nowhere/"))
    assert response["Content-Security-Policy"] == (own or "frame-ancestors 'none'")
