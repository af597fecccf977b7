"""The embed (framed only by the campaign's partners, guarded by the signed form token instead
of a CSRF cookie), the privacy notice, what an action stores about its sender, and sharing."""

import re
import time
from html.parser import HTMLParser
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from alerts.models import Action, Delivery
from alerts.services import action_confirm
from alerts.web import abuse
from alerts.web.forms import consent_text, new_form_token
from alerts.web.framing import frame_ancestors_header, parse_policy
from tests.factories import ActionFactory, CampaignFactory
from tests.support.forms import CONSTITUENT, action_post, submit_actions

pytestmark = pytest.mark.django_db

PARTNER = "https://partner.example"


@pytest.fixture
def campaign(email_officials):
    return CampaignFactory(targets=email_officials, allowed_origins=PARTNER, goal=50)


def _detail(campaign):
    return reverse("alerts:campaign_detail", args=[campaign.slug])


def _embed(campaign):
    return reverse("alerts:campaign_embed", args=[campaign.slug])


class _JourneyForm(HTMLParser):
    """What a browser would post from the page's journey form: its inputs as rendered."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.found = False
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._textarea = None
        self._select = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and "journey" in (attrs.get("class") or "").split():
            self._in_form = self.found = True
        if not self._in_form or not attrs.get("name"):
            if tag == "option" and self._select is not None:
                self._option(attrs)
            return
        kind = attrs.get("type", "text")
        if tag == "input" and kind not in ("submit", "button"):
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.fields.append((attrs["name"], attrs.get("value") or ""))
        elif tag == "textarea":
            self._textarea = [attrs["name"], ""]
        elif tag == "select":
            self._select = [attrs["name"], None, None]

    def _option(self, attrs):
        value = attrs.get("value") or ""
        if self._select[2] is None:
            self._select[2] = value
        if "selected" in attrs:
            self._select[1] = value

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            self.fields.append((name, text.removeprefix("\r\n").removeprefix("\n")))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            name, selected, first = self._select
            self.fields.append((name, selected if selected is not None else first))
            self._select = None

    def data(self, step, **changes):
        posted = {}
        for name, value in self.fields:
            posted.setdefault(name, []).append(value)
        posted.update(changes)
        posted["step"] = step
        return posted


def _next(client, url, response, step, **changes):
    form = _JourneyForm(response.content.decode())
    assert form.found, "the page has the journey form"
    return client.post(url, form.data(step, **changes))


def _frame_ancestors(response):
    """The page's frame-ancestors sources; the rest of its policy is the site's (test_headers)."""
    return " ".join(parse_policy(response["Content-Security-Policy"])["frame-ancestors"])


def _walk(client, url, first_page, **address):
    """Address, officials, message, send: as a constituent clicks through the pages."""
    officials = _next(client, url, first_page, "address", **{**CONSTITUENT, **address})
    assert officials.status_code == 200
    assert officials.templates[0].name == "alerts/steps/officials.html"
    message = _next(client, url, officials, "officials")
    assert message.status_code == 200
    assert message.templates[0].name == "alerts/steps/message.html"
    return message, _next(client, url, message, "send", consent="on")


# --- framing ----------------------------------------------------------------------------------


def test_the_embed_may_be_framed_by_the_partner_only(client, campaign):
    response = client.get(_embed(campaign))
    assert response.status_code == 200
    assert _frame_ancestors(response) == f"'self' {PARTNER}"
    assert "X-Frame-Options" not in response


def test_an_embed_without_partners_may_be_framed_by_the_site_only(client, email_officials):
    campaign = CampaignFactory(targets=email_officials, allowed_origins="")
    response = client.get(_embed(campaign))
    assert _frame_ancestors(response) == "'self'"
    assert "X-Frame-Options" not in response


@pytest.mark.parametrize("page", ["detail", "list", "privacy"])
def test_other_pages_may_not_be_framed(client, campaign, page):
    url = {
        "detail": _detail(campaign),
        "list": reverse("alerts:campaign_list"),
        "privacy": reverse("alerts:privacy"),
    }[page]
    response = client.get(url)
    assert response.status_code == 200
    assert _frame_ancestors(response) == "'none'"
    assert response["X-Frame-Options"] == "DENY"


# --- the embed's POSTs: the form token, not a CSRF cookie -------------------------------------


def _expired_form_token():
    three_days_ago = time.time() - 3 * 86400
    with mock.patch("django.core.signing.time.time", return_value=three_days_ago):
        return new_form_token()


@pytest.mark.parametrize("token", ["missing", "garbage", "expired"])
def test_an_embed_post_without_a_valid_token_is_403(client, campaign, form_data, token):
    data = {**form_data}
    if token == "missing":
        del data["token"]
    else:
        data["token"] = {"garbage": "not-a-token", "expired": _expired_form_token()}[token]
    for step in ("address", "send"):
        response = client.post(_embed(campaign), {**data, "step": step})
        assert response.status_code == 403
        assert "This form has expired" in response.content.decode()
    assert Action.objects.count() == 0


def test_the_embed_journey_works_without_a_csrf_cookie(campaign, email_officials):
    browser = Client(enforce_csrf_checks=True)
    url = _embed(campaign)
    first = browser.get(url)
    assert "csrftoken" not in browser.cookies
    assert "csrfmiddlewaretoken" not in first.content.decode()

    message, sent = _walk(browser, url, first)
    assert _frame_ancestors(message) == f"'self' {PARTNER}"
    # The thanks page comes with the POST's answer: a partner's frame may not keep our cookie.
    assert sent.status_code == 200
    assert "Thank you for taking action" in sent.content.decode()
    action = Action.objects.get()
    assert set(action.deliveries.values_list("official", flat=True)) == {
        o.pk for o in email_officials
    }
    thanks = reverse("alerts:embed_thanks", args=[campaign.slug, action.public_id])
    for page in (sent, browser.get(thanks)):  # and again where the frame kept it
        assert page.status_code == 200
        assert _frame_ancestors(page) == f"'self' {PARTNER}"
        assert "X-Frame-Options" not in page


def test_the_campaign_page_itself_still_requires_csrf(campaign, form_data):
    """The control for the test above: only the embed is exempt."""
    response = Client(enforce_csrf_checks=True).post(_detail(campaign), form_data)
    assert response.status_code == 403
    assert Action.objects.count() == 0


# --- privacy ----------------------------------------------------------------------------------


def test_the_privacy_notice_is_linked_from_the_form(client, campaign):
    notice = client.get(reverse("alerts:privacy"))
    assert notice.status_code == 200
    assert "salted hash of your IP address" in notice.content.decode()
    href = f'href="{reverse("alerts:privacy")}"'
    for url in (_detail(campaign), _embed(campaign)):
        body = client.get(url).content.decode()
        form = body[body.index('<form method="post" novalidate class="journey"') :]
        assert href in form[: form.index("</form>")]


def test_an_action_keeps_the_consent_sentence_and_only_a_hash_of_the_address(client, campaign):
    message, sent = _walk(client, _detail(campaign), client.get(_detail(campaign)))
    assert consent_text(campaign) in message.content.decode()
    assert sent.status_code == 302
    action = Action.objects.get()
    assert action.consent_text == consent_text(campaign)
    assert action.consent_text.startswith("I agree that Example Advocates may use my name")

    assert re.fullmatch(r"[0-9a-f]{64}", action.ip_hash)
    assert action.ip_hash == abuse.ip_hash("127.0.0.1")
    assert "127.0.0.1" not in action.ip_hash
    row = Action.objects.filter(pk=action.pk).values().get()
    assert [name for name, value in row.items() if "127.0.0.1" in str(value)] == []
    for delivery in Delivery.objects.filter(action=action).values():
        assert [name for name, value in delivery.items() if "127.0.0.1" in str(value)] == []


# --- source, referral, sharing ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "stored"),
    [("newsletter", "newsletter"), ("<script>alert(1)</script>", ""), ("", "")],
)
def test_the_source_on_the_link_is_stored_on_the_action(client, campaign, query, stored):
    first = client.get(_detail(campaign), {"source": query} if query else {})
    _, sent = _walk(client, _detail(campaign), first)
    assert sent.status_code == 302
    assert Action.objects.get().source == stored


def test_a_referral_link_credits_the_first_action_and_the_thanks_page_shares_the_new_one(
    client, campaign
):
    elsewhere = ActionFactory()  # another campaign's action counts toward nothing here
    # Through the service, as every action is written: the campaign's count includes it.
    [referrer] = submit_actions(campaign, list(campaign.targets.all()), 1, tag="referrer")

    first = client.get(_detail(campaign), {"ref": referrer.referral_code})
    _, sent = _walk(client, _detail(campaign), first, email="friend@example.org")
    assert sent.status_code == 302
    action = Action.objects.get(email="friend@example.org")
    assert action.referred_by == referrer
    assert action.referral_code != referrer.referral_code

    body = client.get(sent["Location"]).content.decode()
    share = re.search(r'id="share-url" type="text" readonly value="([^"]+)"', body)
    assert share, "the thanks page shows a share link"
    assert share.group(1).endswith(f"{_detail(campaign)}?ref={action.referral_code}")
    count = Action.objects.filter(campaign=campaign).counted().count()
    assert count == 2
    assert Action.objects.counted().count() == 3  # the other campaign's one is not in it
    progress = re.search(r'<progress class="goal-bar" max="(\d+)" value="(\d+)"', body)
    assert progress, "the thanks page shows the goal"
    assert progress.groups() == ("50", "2")
    assert elsewhere.campaign != campaign


def test_an_unknown_referral_code_credits_nobody(client, campaign):
    first = client.get(_detail(campaign), {"ref": "nobody-has-it"})
    _, sent = _walk(client, _detail(campaign), first)
    assert sent.status_code == 302
    assert Action.objects.get().referred_by is None


def test_unconfirmed_actions_do_not_count_toward_the_goal(client, email_officials):
    campaign = CampaignFactory(targets=email_officials, double_opt_in=True, goal=10)
    # Through the services, as actions are written and confirmed: the count follows them.
    _unconfirmed, confirmed = submit_actions(campaign, email_officials, 2, tag="earlier")
    action_confirm(action=confirmed)
    sent = client.post(_detail(campaign), action_post(email_officials))
    body = client.get(sent["Location"]).content.decode()
    assert '<progress class="goal-bar" max="10" value="1"' in body


@pytest.mark.parametrize(
    "origin", ["https://a..b.example", "https://-partner.example", "http://x:99999"]
)
def test_an_origin_the_header_would_drop_is_refused_when_the_campaign_is_saved(origin):
    campaign = CampaignFactory(allowed_origins="https://partner.example")
    campaign.allowed_origins = f"https://partner.example\n{origin}"
    with pytest.raises(ValidationError) as error:
        campaign.full_clean()
    assert "allowed_origins" in error.value.message_dict
    assert origin not in frame_ancestors_header(campaign.allowed_origins.split())
