"""Values that passed the form's checks and then broke the database or int(): each is now an
error next to its field, and nothing is stored."""

import pytest
from django.contrib.admin.sites import site
from django.urls import reverse

from alerts.admin.campaigns import CampaignAdmin
from alerts.models import Action, Call, Campaign, Delivery
from tests.factories import OfficialFactory, PolicyAskFactory
from tests.support.forms import action_post

pytestmark = pytest.mark.django_db


def _url(campaign):
    return reverse("alerts:campaign_detail", args=[campaign.slug])


def _refused(response, field, words):
    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    assert any(words in error for error in errors), errors
    assert words in response.content.decode()
    assert Action.objects.count() == 0
    assert Delivery.objects.count() == 0


def test_a_subject_with_the_asks_in_it_is_refused_not_a_database_error(
    client, campaign, email_officials
):
    for n in range(1, 4):
        PolicyAskFactory(campaign=campaign, position=n, title="A long policy ask " + "x" * 150)
    data = action_post(email_officials, subject="Our asks: {policy_asks}")

    _refused(client.post(_url(campaign), data), "subject", "cannot go in a subject")


def test_a_subject_that_names_fill_past_its_column_is_refused(client, campaign, email_officials):
    long_name = {"first_name": "A" * 100, "last_name": "B" * 100}
    data = action_post(
        email_officials, subject="From {constituent_name} in {constituent_city}", **long_name
    )

    _refused(client.post(_url(campaign), data), "subject", "Keep it to 200")
    # The same subject from a short name fits, and is sent.
    ok = client.post(_url(campaign), action_post(email_officials, subject=data["subject"]))
    assert ok.status_code == 302
    assert Delivery.objects.filter(subject__startswith="From Ani Petrosyan in Glendale").exists()


@pytest.mark.parametrize("value", ["²", "٣", "1" * 5000, "9" * 30, "-1", "1e3", " "])
@pytest.mark.parametrize("field", ["officials", "representative"])
def test_an_official_id_that_is_not_one_is_refused_on_every_step(
    client, campaign, email_officials, field, value
):
    for step in ("officials", "preview", "send"):
        data = {**action_post(email_officials, step=step), field: value}
        response = client.post(_url(campaign), data)
        assert response.status_code == 200, (step, response.status_code)
        assert field in response.context["form"].errors
    assert Action.objects.count() == 0


@pytest.mark.parametrize("value", ["²", "1" * 5000, "9" * 30])
def test_a_call_logged_for_an_official_id_that_is_not_one_is_refused(client, campaign, value):
    official = campaign.targets.first()
    official.phone = "202-555-0100"
    official.save()
    thanks = client.post(_url(campaign), action_post([official]))
    assert thanks.status_code == 302
    action = Action.objects.get()

    url = reverse("alerts:call_logged", args=[campaign.slug, action.public_id])
    response = client.post(url, {"official": value, "outcome": "spoke"})

    assert response.status_code == 400
    assert "not one of this action" in response.content.decode()
    assert Call.objects.count() == 0


@pytest.fixture
def admin_form(rf, admin_user):
    request = rf.post("/")
    request.user = admin_user
    return CampaignAdmin(Campaign, site).get_form(request)


def _admin_data(campaign, **changes):
    fields = [
        "title",
        "slug",
        "organization_name",
        "summary",
        "body",
        "status",
        "goal",
        "message_subject",
        "thank_template",
        "urge_template",
        "executive_template",
        "suggested_message",
    ]
    return {**{f: getattr(campaign, f) for f in fields}, "double_opt_in": "", **changes}


@pytest.mark.parametrize(
    ("subject", "words"),
    [
        ("Our asks: {policy_asks}", "cannot go in a subject"),
        ("Sent by {constituent_name}", "can reach 209 characters"),
        ("x" * 150 + " {official_title} {official_last_name}", "cannot name an official"),
    ],
)
def test_the_admin_refuses_a_subject_template_that_can_render_too_long(
    admin_form, campaign, subject, words
):
    OfficialFactory(title="Secretary of Homeland Security", last_name="Stone-Vanderbilt" * 3)
    form = admin_form(_admin_data(campaign, message_subject=subject), instance=campaign)

    assert not form.is_valid()
    assert any(words in e for e in form.errors["message_subject"]), form.errors


def test_the_admin_takes_a_subject_template_that_fits(admin_form, campaign):
    form = admin_form(
        _admin_data(campaign, message_subject="Please act, from {constituent_city}"),
        instance=campaign,
    )
    form.is_valid()
    assert "message_subject" not in form.errors
