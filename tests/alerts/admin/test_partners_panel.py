"""The partners panel on a campaign's admin page: the embed snippet, the allowed origins, a share
link with a source tag per partner and the public counter, computed from the campaign and
escaped whatever the campaign holds."""

import re

import pytest
from django.urls import reverse
from django.utils.html import escape
from lxml import html as lxml_html

from alerts.admin.partners import EMBED_HEIGHT, partner_kit, partner_tag
from alerts.models import Campaign
from alerts.web.forms import clean_source
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db

SITE = "https://act.example.org"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE + "/"


def _change_page(client, campaign) -> str:
    response = client.get(reverse("admin:alerts_campaign_change", args=[campaign.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _panel(page: str):
    """The panel's read-only field, parsed."""
    tree = lxml_html.fromstring(page)
    (panel,) = tree.xpath('//div[contains(@class, "field-partners")]//div[@class="readonly"]')
    return panel


def test_two_partners_get_their_snippet_share_link_and_the_counter(admin_client):
    campaign = CampaignFactory(
        slug="ceasefire-now",
        title="Ceasefire now",
        allowed_origins="https://www.partner-one.example\nhttps://news.partner2.example:8443\n",
    )
    panel = _panel(_change_page(admin_client, campaign))

    embed = f"{SITE}/ceasefire-now/embed/"
    (snippet,) = panel.xpath('.//textarea[@id="embed-snippet"]')
    assert snippet.text == (
        f'<iframe src="{embed}" title="Ceasefire now" width="100%" '
        f'height="{EMBED_HEIGHT}" loading="lazy"></iframe>'
    )
    assert snippet.get("readonly") is not None and snippet.get("name") is None

    rows = panel.xpath('.//table[@class="partner-links"]/tbody/tr')
    assert [row.xpath("./td[1]")[0].text_content() for row in rows] == [
        "https://www.partner-one.example",
        "https://news.partner2.example:8443",
    ]
    assert [row.xpath("./td[2]")[0].text_content() for row in rows] == [
        "partner-one.example",
        "news.partner2.example",
    ]
    links = [row.xpath(".//input")[0].get("value") for row in rows]
    assert links == [
        f"{SITE}/ceasefire-now/?source=partner-one.example",
        f"{SITE}/ceasefire-now/?source=news.partner2.example",
    ]
    partner_snippet = rows[0].xpath(".//textarea")[0].text
    assert f'src="{embed}?source=partner-one.example"' in partner_snippet

    (counter,) = panel.xpath('.//a[contains(@href, "count.json")]')
    assert counter.get("href") == f"{SITE}/ceasefire-now/count.json"
    # Every field has its Copy button, and the script that makes them copy is on the page.
    copyables = panel.xpath('.//*[contains(@class, "copyable")]/@id')
    assert sorted(panel.xpath(".//button[@data-copy]/@data-copy")) == sorted(copyables)
    assert len(copyables) == 5
    assert "admin/js/copy_snippet.js" in _change_page(admin_client, campaign)


def test_the_links_lead_to_the_pages_and_the_tag_is_counted(client, admin_client):
    """The URLs the panel hands out are the site's own: the page and embed answer, and the
    tag survives ?source= as the form reads it."""
    campaign = CampaignFactory(allowed_origins="https://partner.example")
    kit = partner_kit(campaign)
    (partner,) = kit.partners
    for url in (kit.page_url, kit.embed_url, kit.count_url, partner.share_url):
        assert client.get(url.removeprefix(SITE)).status_code == 200, url
    embedded = client.get(kit.embed_url.removeprefix(SITE))
    assert "https://partner.example" in embedded["Content-Security-Policy"]
    page = client.get(partner.share_url.removeprefix(SITE)).content.decode()
    assert 'name="source" value="partner.example"' in page


@pytest.mark.parametrize(
    "origin, tag",
    [
        ("https://partner.example", "partner.example"),
        ("https://www.partner.example:8443", "partner.example"),
        ("https://xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("https://[2001:db8::1]", "2001-db8-1"),
        ("https://" + "a" * 63 + "." + "b" * 63 + ".example", ("a" * 63 + "." + "b" * 63)[:100]),
    ],
)
def test_a_tag_is_what_the_form_keeps_of_source(origin, tag):
    assert partner_tag(origin) == tag
    assert clean_source(tag) == tag


def test_a_hostile_title_and_origin_are_escaped(admin_client):
    title = '"><script>alert(1)</script>'
    campaign = CampaignFactory(title=title, allowed_origins="https://ok.example")
    # Saved before the origins were validated, or written around the form: the panel still
    # shows it as text, and hands out no link for it.
    hostile = 'https://evil.example"><img src=x onerror=alert(2)>'
    Campaign.objects.filter(pk=campaign.pk).update(
        allowed_origins=f"https://ok.example\n{hostile}\nhttp://plain.example"
    )
    page = _change_page(admin_client, campaign)
    panel = _panel(page)

    assert "<script>alert(1)" not in page
    assert "<img src=x" not in page
    assert not panel.xpath(".//script | .//img")
    (snippet,) = panel.xpath('.//textarea[@id="embed-snippet"]')
    # The snippet's own attribute is escaped for the partner's page, and the whole of it again
    # for ours: the textarea shows the escaped HTML to paste.
    assert 'title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in snippet.text
    assert escape(snippet.text) in page

    rows = panel.xpath('.//table[@class="partner-links"]/tbody/tr')
    assert [row.xpath("./td[1]")[0].text_content() for row in rows] == ["https://ok.example"]
    (refused,) = panel.xpath('.//p[@class="errornote"]')
    assert [code.text for code in refused.xpath(".//code")] == [hostile, "http://plain.example"]


def test_no_partners_and_a_draft_say_so(admin_client):
    campaign = CampaignFactory(status=Campaign.Status.DRAFT, allowed_origins="")
    text = re.sub(r"\s+", " ", _panel(_change_page(admin_client, campaign)).text_content())
    assert "This campaign is draft: its page, embed and counter answer once it is live." in text
    assert "No allowed origins yet" in text


def test_the_add_page_asks_for_a_save_first(admin_client):
    page = admin_client.get(reverse("admin:alerts_campaign_add")).content.decode()
    assert "Save the campaign first: its links come from its slug." in page


def test_the_panel_costs_no_query(admin_client, django_assert_num_queries):
    campaign = CampaignFactory(allowed_origins="https://a.example\nhttps://b.example")
    with django_assert_num_queries(0):
        partner_kit(campaign)
