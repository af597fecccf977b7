"""The admin as a console: actions listed by who and where, the campaign's name in the titles of
its actions and deliveries, and who changed a campaign's text and when (django-simple-history)."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from lxml import html as lxml_html

from alerts.models import Action, Campaign, Delivery, Letter, PolicyAsk
from legislators.models import Chamber, Official
from tests.factories import (
    ActionFactory,
    CampaignFactory,
    DeliveryFactory,
    LegislatorFactory,
    LetterFactory,
    OfficialFactory,
    PolicyAskFactory,
)
from tests.support.admin_forms import change_form_post
from tests.support.staff import staff_login

pytestmark = pytest.mark.django_db


def _text(element) -> str:
    return re.sub(r"\s+", " ", element.text_content()).strip()


def _rows(page: str) -> list[dict]:
    """The change list's rows as {column class: text}."""
    tree = lxml_html.fromstring(page)
    return [
        {
            cell.get("class").split()[0].removeprefix("field-"): _text(cell)
            for cell in row.xpath("./th | ./td")
            if cell.get("class", "").startswith("field-")
        }
        for row in tree.xpath('//table[@id="result_list"]/tbody/tr')
    ]


def _headers(page: str) -> list[str]:
    tree = lxml_html.fromstring(page)
    return [_text(th) for th in tree.xpath('//table[@id="result_list"]/thead/tr/th')][1:]


def _representative(state: str, district: int) -> Official:
    legislator = LegislatorFactory(state=state, chamber=Chamber.HOUSE, district=district)
    return OfficialFactory(
        kind=Official.Kind.LEGISLATOR, legislator=legislator, title="Representative"
    )


# Actions --------------------------------------------------------------------------------------


def test_actions_are_listed_by_name_state_and_district(admin_client):
    campaign = CampaignFactory(title="Protect civilians", double_opt_in=True)
    ani = ActionFactory(campaign=campaign, first_name="Ani", last_name="Petrosyan", state="CA")
    DeliveryFactory(action=ani, official=_representative("CA", 30))
    DeliveryFactory(action=ani)  # an executive office: no district of its own
    ani.confirmed_at = timezone.now()
    ani.save()
    ActionFactory(campaign=campaign, first_name="Wyatt", last_name="Lone", state="WY")
    at_large = ActionFactory(campaign=campaign, first_name="Dana", last_name="Hill", state="WY")
    DeliveryFactory(action=at_large, official=_representative("WY", 0))

    page = admin_client.get(reverse("admin:alerts_action_changelist")).content.decode()
    assert _headers(page) == [
        "Constituent",
        "State",
        "District",
        "Campaign",
        "Created at",
        "Confirmed",
        "Deliveries",
    ]
    rows = {row["constituent"]: row for row in _rows(page)}
    assert rows["Ani Petrosyan"]["state"] == "California"
    assert rows["Ani Petrosyan"]["district"] == "CA-30"
    assert rows["Ani Petrosyan"]["campaign"] == "Protect civilians"
    assert rows["Ani Petrosyan"]["confirmed"] not in ("no", "-", "")
    assert rows["Dana Hill"]["district"] == "WY-AL"
    # Wrote to no representative: the action stores no district, so none is guessed.
    assert (rows["Wyatt Lone"]["district"], rows["Wyatt Lone"]["confirmed"]) == ("—", "no")
    assert "@" not in page.split('id="result_list"')[1]  # no email in the list


def test_an_action_without_confirmation_says_it_was_not_asked(admin_client):
    ActionFactory(campaign=CampaignFactory(double_opt_in=False), first_name="Lee", last_name="Ko")
    (row,) = _rows(admin_client.get(reverse("admin:alerts_action_changelist")).content.decode())
    assert row["confirmed"] == "not asked"


@pytest.mark.parametrize("term", ["Petrosyan", "ani petrosyan", "ani.p@example.org"])
def test_actions_are_found_by_name_or_email(admin_client, term):
    ActionFactory(first_name="Ani", last_name="Petrosyan", email="ani.p@example.org")
    ActionFactory(first_name="Wyatt", last_name="Lone")
    url = reverse("admin:alerts_action_changelist")
    rows = _rows(admin_client.get(url, {"q": term}).content.decode())
    assert [row["constituent"] for row in rows] == ["Ani Petrosyan"]


def test_the_action_list_costs_the_same_queries_for_3_and_30_actions(admin_client):
    url = reverse("admin:alerts_action_changelist")

    def seed(n):
        for _ in range(n):
            action = ActionFactory()
            DeliveryFactory(action=action, official=_representative("CA", 12))

    seed(3)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    seed(27)
    with CaptureQueriesContext(connection) as many:
        body = admin_client.get(url).content.decode()
    assert body.count("CA-12") == 30
    assert len(many) == len(few)


def test_the_action_page_is_titled_with_the_person_and_the_campaign(admin_client):
    campaign = CampaignFactory(title="Protect civilians")
    action = ActionFactory(
        campaign=campaign, first_name="Ani", last_name="Petrosyan", email="ani.p@example.org"
    )
    assert str(action) == "Ani Petrosyan on Protect civilians"
    page = admin_client.get(reverse("admin:alerts_action_change", args=[action.pk]))
    tree = lxml_html.fromstring(page.content.decode())
    assert "Ani Petrosyan on Protect civilians" in _text(tree.xpath("//title")[0])
    assert "ani.p@example.org" not in _text(tree.xpath("//title")[0])
    assert _text(tree.xpath("//div[@id='content']/h2")[0]) == "Ani Petrosyan on Protect civilians"


def test_an_erased_constituent_is_still_titled(db):
    action = ActionFactory(first_name="", last_name="", campaign=CampaignFactory(title="X"))
    assert str(Action.objects.get(pk=action.pk)) == "An erased constituent on X"


def test_a_list_filtered_to_a_campaign_is_titled_with_it(admin_client):
    campaign = CampaignFactory(title="Protect civilians")
    DeliveryFactory(action=ActionFactory(campaign=campaign))
    actions = admin_client.get(
        reverse("admin:alerts_action_changelist"), {"campaign__id__exact": campaign.pk}
    ).content.decode()
    assert "<h1>Actions on “Protect civilians”</h1>" in actions
    deliveries = admin_client.get(
        reverse("admin:alerts_delivery_changelist"),
        {"action__campaign__id__exact": campaign.pk},
    ).content.decode()
    assert "<h1>Deliveries of “Protect civilians”</h1>" in deliveries
    # Unfiltered, or filtered to nothing that exists: Django's own titles.
    plain = admin_client.get(reverse("admin:alerts_delivery_changelist")).content.decode()
    assert "<h1>Select delivery to view</h1>" in plain
    missing = admin_client.get(
        reverse("admin:alerts_action_changelist"), {"campaign__id__exact": "abc"}
    )
    assert "Protect civilians</h1>" not in missing.content.decode()


def test_the_delivery_page_names_the_official_and_the_campaign(admin_client):
    official = OfficialFactory(title="Secretary of State", name="Alex Stone")
    delivery = DeliveryFactory(
        official=official, action=ActionFactory(campaign=CampaignFactory(title="Protect civilians"))
    )
    page = admin_client.get(reverse("admin:alerts_delivery_change", args=[delivery.pk]))
    tree = lxml_html.fromstring(page.content.decode())
    expected = "To Secretary of State Alex Stone on Protect civilians"
    assert _text(tree.xpath("//div[@id='content']/h2")[0]) == expected
    assert expected in _text(tree.xpath("//title")[0])


def test_the_deliveries_list_has_status_second_with_its_error(admin_client):
    official = OfficialFactory(title="Secretary of State", name="Alex Stone")
    error = "SMTP 550 5.1.1 Recipient address rejected: " + "x" * 300
    DeliveryFactory(
        official=official,
        status=Delivery.Status.FAILED,
        last_error=error,
        action=ActionFactory(campaign=CampaignFactory(title="Protect civilians")),
    )
    page = admin_client.get(reverse("admin:alerts_delivery_changelist")).content.decode()
    assert _headers(page) == ["Id", "Status", "Official", "Campaign", "Attempts", "Updated"]
    (row,) = _rows(page)
    assert row["status_line"] == "Failed" + error[:59] + "…"
    assert row["official_line"] == "Secretary of State Alex StoneEmail"
    assert row["campaign"] == "Protect civilians"


# History --------------------------------------------------------------------------------------


def _live_campaign():
    campaign = CampaignFactory(
        title="Protect civilians",
        body="Why it matters.",
        # Whole seconds, as the admin's form posts them back.
        starts_at=timezone.now().replace(microsecond=0) - dt.timedelta(days=1),
        targets=[OfficialFactory(title="Secretary of State")],
    )
    PolicyAskFactory(campaign=campaign, position=1, title="Protect civilians")
    LetterFactory(campaign=campaign)
    return campaign


def test_an_edit_of_a_live_campaign_records_who_changed_what(admin_client, admin_user):
    campaign = _live_campaign()
    assert campaign.status == Campaign.Status.LIVE
    url = reverse("admin:alerts_campaign_change", args=[campaign.pk])
    data = change_form_post(admin_client, campaign, body="Why it matters now.")
    data["asks-0-title"] = "Protect every civilian"
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors

    latest = campaign.history.latest()
    assert latest.history_user == admin_user
    assert latest.history_type == "~"
    assert latest.body == "Why it matters now."
    delta = latest.diff_against(latest.prev_record)
    assert [(c.field, c.old, c.new) for c in delta.changes] == [
        ("body", "Why it matters.", "Why it matters now.")
    ]
    ask = PolicyAsk.history.filter(campaign_id=campaign.pk).latest()
    assert (ask.history_user, ask.title) == (admin_user, "Protect every civilian")

    history = admin_client.get(reverse("admin:alerts_campaign_history", args=[campaign.pk]))
    tree = lxml_html.fromstring(history.content.decode())
    assert "View history: Protect civilians" in _text(tree.xpath("//h1")[0])
    (first,) = tree.xpath('//table[@id="change-history"]/tbody/tr[1]')
    assert admin_user.username in _text(first)
    assert "Body: Why it matters. → Why it matters now." in _text(first)
    related = _text(tree.xpath('//div[@id="related-history"]')[0])
    assert "Policy ask: 1. Protect every civilian" in related
    assert admin_user.username in related
    # No inline style on the page, which the CSP would refuse.
    assert not tree.xpath("//*[@style]")


def test_a_save_outside_a_request_has_no_user(db):
    campaign = _live_campaign()
    campaign.title = "Renamed"
    campaign.save()
    assert campaign.history.latest().history_user is None
    letter = Letter.objects.get(campaign=campaign)
    assert Letter.history.filter(id=letter.pk).count() == 1


def test_an_old_version_is_shown_read_only(admin_client, admin_user):
    """django-simple-history would save a form posted to an old version's page; here that page
    only shows."""
    campaign = _live_campaign()
    campaign.body = "Second version."
    campaign.save()
    first = campaign.history.earliest()
    url = reverse("admin:alerts_campaign_simple_history", args=[campaign.pk, first.history_id])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert "Revert" not in page.content.decode()
    data = change_form_post(admin_client, campaign, body="Written through the history page.")
    assert admin_client.post(url, data).status_code == 405
    campaign.refresh_from_db()
    assert campaign.body == "Second version."


def test_a_viewer_cannot_change_a_campaign_through_its_history(client, django_user_model):
    campaign = _live_campaign()
    viewer = django_user_model.objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_campaign"))
    staff_login(client, viewer)
    first = campaign.history.earliest()
    url = reverse("admin:alerts_campaign_simple_history", args=[campaign.pk, first.history_id])
    assert (
        client.get(reverse("admin:alerts_campaign_history", args=[campaign.pk])).status_code == 200
    )
    assert client.post(url, {"title": "Taken over", "body": "x"}).status_code == 405
    campaign.refresh_from_db()
    assert campaign.title == "Protect civilians"
