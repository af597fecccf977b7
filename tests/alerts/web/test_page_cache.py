"""The campaign and embed pages as first shown: rendered once per campaign and cached, the
same page as rendering it afresh, each visitor's tokens their own, CSRF still enforced, and a
change to what the page shows seen at once."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from alerts.services import campaign_touch, cosignatures_save
from alerts.web import pages
from alerts.web.forms import ActionForm, form_token_is_valid
from alerts.web.steps import Step, StepPage
from tests.factories import (
    CampaignFactory,
    CosignatureFactory,
    LetterFactory,
    PolicyAskFactory,
    seated_legislator,
)
from tests.support.forms import action_post

pytestmark = pytest.mark.django_db

TOKEN_RE = re.compile(r'name="token" value="([^"]+)"')
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def story_campaign(email_officials):
    """A campaign page with all it can show: asks, and a letter with signers."""
    campaign = CampaignFactory(targets=email_officials)
    PolicyAskFactory(campaign=campaign, position=1, title="Protect civilians", detail="Now.")
    PolicyAskFactory(campaign=campaign, position=2, title="Send observers")
    letter = LetterFactory(campaign=campaign, summary="Our letter.")
    for last in ("Adams", "Baker"):
        legislator = seated_legislator("Pat", last, on=letter.sent_on, state="CA")
        CosignatureFactory(letter=letter, legislator=legislator)
    return campaign


def _url(campaign, *, embed=False, query=""):
    name = "alerts:campaign_embed" if embed else "alerts:campaign_detail"
    return reverse(name, args=[campaign.slug]) + query


def _rendered_afresh(rf, campaign, *, embed, token, source="", ref=""):
    """The page as the view rendered it before it was cached: the whole template, per request."""
    from django.shortcuts import render

    request = rf.get(_url(campaign, embed=embed))
    initial = {"token": token, "source": source, "ref": ref}
    page = StepPage(ActionForm(campaign=campaign, initial=initial), Step.ADDRESS, embed=embed)
    return render(request, page.template, pages.page_context(page)).content.decode()


def _without_csrf(html):
    return CSRF_RE.sub('name="csrfmiddlewaretoken" value="…"', html)


@pytest.mark.parametrize("embed", [False, True])
def test_the_cached_page_is_the_page_rendered_afresh(client, rf, story_campaign, embed):
    query = "?source=newsletter&ref=abc123"
    for _ in range(2):  # the first request renders and stores, the second reads the cache
        response = client.get(_url(story_campaign, embed=embed, query=query))
        assert response.status_code == 200
        html = response.content.decode()
        [token] = TOKEN_RE.findall(html)
        afresh = _rendered_afresh(
            rf, story_campaign, embed=embed, token=token, source="newsletter", ref="abc123"
        )
        assert _without_csrf(html) == _without_csrf(afresh)
    assert 'name="source" value="newsletter"' in html
    assert 'name="ref" value="abc123"' in html
    assert pages.CARRIED_SLOT not in html and pages.CSRF_SLOT not in html
    if not embed:
        assert "Protect civilians" in html and "Baker" in html and CSRF_RE.search(html)
    else:
        assert not CSRF_RE.search(html)


def test_each_visitor_gets_their_own_tokens_from_the_one_cached_copy(story_campaign):
    first, second = Client(), Client()
    pages_seen = [c.get(_url(story_campaign)) for c in (first, second)]
    tokens = [TOKEN_RE.search(p.content.decode()).group(1) for p in pages_seen]
    assert tokens[0] != tokens[1]
    assert all(form_token_is_valid(t) for t in tokens)
    # No ?source= nor ?ref=: nothing of another visitor's query carried over.
    assert all('name="source"' not in p.content.decode() for p in pages_seen)
    # Each visitor is given the CSRF cookie their form's token is checked against.
    for page in pages_seen:
        assert "csrftoken" in page.cookies
        assert CSRF_RE.search(page.content.decode())


def test_the_page_is_rendered_once_then_read_from_the_cache(
    client, story_campaign, django_assert_num_queries
):
    client.get(_url(story_campaign))
    with django_assert_num_queries(1):  # the live campaign, nothing of its letters or asks
        response = client.get(_url(story_campaign))
    assert "Send observers" in response.content.decode()


def test_csrf_is_still_enforced_on_the_campaign_page(story_campaign, email_officials):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(_url(story_campaign)).content.decode()
    refused = browser.post(_url(story_campaign), action_post(email_officials))
    assert refused.status_code == 403

    csrf = CSRF_RE.search(page).group(1)
    accepted = browser.post(
        _url(story_campaign), {**action_post(email_officials), "csrfmiddlewaretoken": csrf}
    )
    assert accepted.status_code == 302


def test_saving_the_campaign_shows_at_once(client, story_campaign):
    client.get(_url(story_campaign))
    story_campaign.title = "A new title"
    story_campaign.save()
    assert "A new title" in client.get(_url(story_campaign)).content.decode()
    assert "A new title" in client.get(_url(story_campaign, embed=True)).content.decode()


def test_cosigners_saved_through_the_service_show_at_once(client, story_campaign):
    client.get(_url(story_campaign))
    letter = story_campaign.letters.get()
    newcomer = seated_legislator("Robin", "Castellanos", on=letter.sent_on, state="NV")
    cosignatures_save(letter=letter, legislator_ids=[newcomer.pk], role="cosigner")
    assert "Castellanos" in client.get(_url(story_campaign)).content.decode()


def test_a_letter_changed_elsewhere_shows_once_the_campaign_is_touched(client, story_campaign):
    client.get(_url(story_campaign))
    letter = story_campaign.letters.get()
    letter.title = "A second letter"
    letter.save()
    campaign_touch(campaign_id=story_campaign.pk)
    assert "A second letter" in client.get(_url(story_campaign)).content.decode()


def test_letters_saved_in_the_admin_touch_their_campaign(admin_client, story_campaign):
    letter = story_campaign.letters.get()
    before = type(story_campaign).objects.get(pk=story_campaign.pk).updated_at
    url = reverse("admin:alerts_letter_change", args=[letter.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(
        title="Renamed in the admin",
        **{
            "cosignatures-TOTAL_FORMS": "0",
            "cosignatures-INITIAL_FORMS": "0",
            "cosignatures-MIN_NUM_FORMS": "0",
            "cosignatures-MAX_NUM_FORMS": "1000",
        },
    )
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert type(story_campaign).objects.get(pk=story_campaign.pk).updated_at > before


def test_a_closed_campaign_is_not_served_from_the_cache(client, story_campaign):
    client.get(_url(story_campaign))
    type(story_campaign).objects.filter(pk=story_campaign.pk).update(status="closed")
    response = client.get(_url(story_campaign))
    assert response.templates[0].name == "alerts/campaign_closed.html"
    assert "<form" not in response.content.decode()
