"""Templates that cannot go wrong: the app greets each official by their office's salutation and
signs for the constituent; the organizer writes the subject and the body, and a template with a
greeting or sign-off of its own, an unknown placeholder, an official in the subject or a subject
too long once filled in is refused next to its field. Constituents never see a placeholder, and
a delivery keeps whom it addressed."""

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from alerts.messages import courtesy_title, message_compose, salutation_for
from alerts.models import Action, Campaign, Delivery
from alerts.selectors import action_outcomes
from alerts.services import action_submit
from alerts.web.forms import new_form_token
from legislators.importers import DataError, executive_import, executive_officials_import
from legislators.models import Chamber, Official
from tests.factories import (
    CampaignFactory,
    LegislatorFactory,
    OfficialFactory,
    PolicyAskFactory,
)
from tests.support.forms import CONSTITUENT

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 5)
SENDER = {**CONSTITUENT}
# Every placeholder each template takes.
EVERY = "{official_title} {official_last_name} {constituent_name} {constituent_city}"
STATEMENT = f"We write about the transfers. {EVERY}. Our asks:\n{{policy_asks}}"
RAW_PLACEHOLDER = re.compile(r"\{\s*[a-z_]+\s*\}")


def _legislator_official(*, title, last_name, chamber, state="NJ", district=6):
    senate = chamber == Chamber.SENATE
    legislator = LegislatorFactory(
        last_name=last_name,
        chamber=chamber,
        state=state,
        district=None if senate else district,
        senate_class=1 if senate else None,
    )
    return OfficialFactory(
        kind=Official.Kind.LEGISLATOR,
        legislator=legislator,
        title=title,
        name=f"Pat {last_name}",
        last_name=last_name,
        holder_verified_on=None,
    )


@pytest.fixture
def senator():
    return _legislator_official(title="Senator", last_name="Kim", chamber=Chamber.SENATE)


@pytest.fixture
def representative():
    return _legislator_official(title="Representative", last_name="Pallone", chamber="house")


@pytest.fixture
def secretary():
    """An executive office whose salutation an organizer set."""
    return OfficialFactory(
        key="us-secretary-of-state",
        title="Secretary of State",
        name="Marco Rubio",
        last_name="Rubio",
        salutation="Dear Secretary Rubio",
        holder_verified_on=TODAY,
    )


@pytest.fixture
def ambassador():
    """An executive office without a salutation."""
    return OfficialFactory(
        key="us-ambassador-to-the-un",
        title="U.S. Ambassador to the United Nations",
        name="Linda Thomas-Greenfield",
        last_name="Thomas-Greenfield",
        holder_verified_on=TODAY,
    )


def _compose(official, campaign=None, *, variant="executive", today=TODAY):
    campaign = campaign or CampaignFactory.build(
        thank_template=STATEMENT, urge_template=STATEMENT, executive_template=STATEMENT
    )
    return message_compose(
        campaign=campaign,
        official=official,
        variant=variant,
        subject="Protect civilians",
        message="My own words.",
        sender=SENDER,
        asks=[],
        today=today,
    )


# --- the greeting is the app's, once ---------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "variant", "greeting"),
    [
        ("senator", "urge", "Dear Senator Kim,"),
        ("representative", "thank", "Dear Representative Pallone,"),
        ("secretary", "executive", "Dear Secretary Rubio,"),
        ("ambassador", "executive", "Dear Ambassador Thomas-Greenfield,"),
    ],
)
def test_each_message_is_greeted_exactly_once(request, fixture, variant, greeting):
    official = request.getfixturevalue(fixture)
    message = _compose(official, variant=variant)

    assert message.body.startswith(f"{greeting}\n\nWe write about the transfers.")
    assert message.body.count("Dear ") == 1
    assert message.body.count("Sincerely,") == 1
    assert message.salutation == greeting.rstrip(",")


def test_executives_are_greeted_by_their_office_s_salutation_not_its_whole_title(
    secretary, ambassador
):
    assert _compose(secretary).body.startswith("Dear Secretary Rubio,\n")
    assert "Dear Secretary of State" not in _compose(secretary).body
    assert "Dear U.S. Ambassador" not in _compose(ambassador).body
    secretary.salutation = "Dear Madam Secretary"
    assert _compose(secretary).body.startswith("Dear Madam Secretary,\n")


@pytest.mark.parametrize(
    ("title", "form"),
    [
        ("Secretary of State", "Secretary"),
        ("U.S. Ambassador to the United Nations", "Ambassador"),
        ("Administrator of the Environmental Protection Agency", "Administrator"),
        ("Attorney General", "Attorney General"),
        ("Vice President", "Vice President"),
        ("Senator", "Senator"),
        ("Resident Commissioner", "Resident Commissioner"),
    ],
)
def test_an_office_s_form_of_address(title, form):
    assert courtesy_title(title) == form


def test_a_salutation_naming_an_unverified_holder_gives_way_to_the_office(secretary):
    secretary.holder_verified_on = TODAY - dt.timedelta(days=400)
    assert salutation_for(secretary, today=TODAY) == "Dear Secretary of State"
    assert "Rubio" not in _compose(secretary).body
    # A salutation that names nobody holds whoever holds the office.
    secretary.salutation = "Dear Secretary"
    assert salutation_for(secretary, today=TODAY) == "Dear Secretary"


def test_a_delegate_and_the_resident_commissioner_by_their_title():
    delegate = _legislator_official(
        title="Delegate", last_name="Norton", chamber="house", state="DC", district=0
    )
    commissioner = _legislator_official(
        title="Resident Commissioner", last_name="Hernández", chamber="house", state="PR",
        district=0,
    )  # fmt: skip
    assert salutation_for(delegate) == "Dear Delegate Norton"
    assert salutation_for(commissioner) == "Dear Resident Commissioner Hernández"


def test_a_template_saved_with_its_own_greeting_before_the_rule_greets_once(senator):
    legacy = CampaignFactory.build(
        urge_template="Dear {official_title} {official_last_name},\n\nPlease sign the letter."
    )
    body = _compose(senator, legacy, variant="urge").body
    assert body.startswith("Dear Senator Kim,\n\nPlease sign the letter.\n")
    assert body.count("Dear ") == 1


# --- what the organizer may write --------------------------------------------------------------


def _errors(**fields) -> dict:
    campaign = CampaignFactory.build(**fields)
    with pytest.raises(ValidationError) as raised:
        campaign.full_clean()
    return raised.value.message_dict


@pytest.mark.parametrize("field", ["thank_template", "urge_template", "executive_template"])
@pytest.mark.parametrize(
    "opening",
    [
        "Dear {official_title} {official_last_name},",
        "Dear Senator Kim,",
        "  dear friend,",
        "To the Honorable {official_last_name}:",
        "Hello Senator {official_last_name},",
        "Hi {official_title},",
        "Good morning,",
        "{official_title} {official_last_name},",
        "Senator {official_last_name}, please sign.",
    ],
)
def test_a_statement_with_its_own_greeting_is_refused_with_the_reason(field, opening):
    errors = _errors(**{field: f"{opening}\nPlease act on these asks:\n{{policy_asks}}"})
    assert list(errors) == [field]
    [reason] = errors[field]
    assert "already opens with the office's own greeting" in reason
    assert f"“{opening.strip()}”" in reason


@pytest.mark.parametrize(
    "closing", ["Sincerely,", "Respectfully yours,", "Best regards", "{constituent_name}"]
)
def test_a_statement_signed_off_is_refused(closing):
    errors = _errors(urge_template=f"Please sign.\n\n{closing}")
    assert "already signed off with the constituent's name" in errors["urge_template"][0]


def test_a_statement_that_merely_mentions_the_official_is_taken():
    CampaignFactory.build(
        thank_template="Thank you, {official_title} {official_last_name}, for signing.\n"
        "Dear friends of Artsakh are watching. {policy_asks}",
        urge_template="I hope {official_title} {official_last_name} will sign. Best wishes to "
        "your staff.",
    ).full_clean()


def test_suggested_words_with_a_greeting_are_refused():
    errors = _errors(suggested_message="Dear Senator,\nI live in {constituent_city}.")
    assert "already opens with the office's own greeting" in errors["suggested_message"][0]


@pytest.mark.parametrize(
    "field", ["message_subject", "thank_template", "executive_template", "call_script_urge"]
)
def test_an_unknown_placeholder_is_refused_by_name(field):
    errors = _errors(**{field: "Please act for {official_name} now"})
    assert "Unknown placeholder {official_name}" in errors[field][0]


def test_a_subject_naming_an_official_is_refused():
    errors = _errors(message_subject="For {official_title} {official_last_name}")
    [reason] = errors["message_subject"]
    assert "cannot name an official: remove {official_last_name}, {official_title}" in reason


def test_a_subject_too_long_once_filled_in_is_refused_and_one_that_fits_is_taken():
    # The literal text is short; a name as long as the form takes makes it 8 + 201 characters.
    errors = _errors(message_subject="Sent by {constituent_name}")
    assert "can reach 209 characters" in errors["message_subject"][0]
    CampaignFactory.build(message_subject="From {constituent_city}: act now").full_clean()


def test_the_admin_shows_the_reason_next_to_the_field_and_saves_nothing(admin_client):
    campaign = CampaignFactory(status=Campaign.Status.DRAFT)
    url = reverse("admin:alerts_campaign_change", args=[campaign.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and not isinstance(value, list)
    }
    data.update(
        {
            "starts_at_0": "",
            "starts_at_1": "",
            "ends_at_0": "",
            "ends_at_1": "",
            "double_opt_in": "",
            "target_congress": "",
            "urge_template": "Dear {official_title} {official_last_name},\nPlease sign.",
            "message_subject": "Sent by {constituent_name} to {official_title}",
            "asks-TOTAL_FORMS": "0",
            "asks-INITIAL_FORMS": "0",
            "asks-MIN_NUM_FORMS": "0",
            "asks-MAX_NUM_FORMS": "1000",
        }
    )
    response = admin_client.post(url, data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "already opens with the office's own greeting" in errors["urge_template"][0]
    assert any("cannot name an official" in e for e in errors["message_subject"])
    page = response.content.decode()
    row = page[page.index("field-urge_template") :]
    assert "already opens with the office" in row[: row.index('name="urge_template"')]
    campaign.refresh_from_db()
    assert campaign.urge_template == CampaignFactory.urge_template


def test_the_campaign_page_lists_each_placeholder_with_an_example_from_its_data(
    admin_client, ambassador
):
    campaign = CampaignFactory(targets=[ambassador])
    PolicyAskFactory(campaign=campaign, position=1, title="Halt the transfers")
    page = admin_client.get(reverse("admin:alerts_campaign_change", args=[campaign.pk]))
    html = page.content.decode()
    guide = html[html.index('class="placeholder-guide"') :]
    guide = guide[: guide.index("</table>")]
    for placeholder, example in [
        ("{official_title}", "U.S. Ambassador to the United Nations"),
        ("{official_last_name}", "Thomas-Greenfield"),
        ("{constituent_name}", "Ani Petrosyan"),
        ("{constituent_city}", "Glendale"),
        ("{policy_asks}", "1. Halt the transfers"),
    ]:
        row = guide[guide.index(f"<code>{placeholder}</code>") :]
        row = row[: row.index("</tr>")]
        assert example in row, (placeholder, row)


# --- an office's salutation --------------------------------------------------------------------


def test_a_new_holder_with_the_old_salutation_is_refused(secretary):
    secretary.name, secretary.last_name = "Pat Doe", "Doe"
    with pytest.raises(ValidationError) as raised:
        secretary.full_clean()
    [reason] = raised.value.message_dict["salutation"]
    assert "greets Rubio, who no longer holds the office here: write one for Pat Doe" in reason

    secretary.salutation = "Dear Secretary Doe"
    secretary.full_clean()

    # A salutation naming nobody stays right whoever holds the office.
    secretary.refresh_from_db()
    secretary.salutation = "Dear Madam Secretary"
    secretary.save()
    secretary.name, secretary.last_name = "Pat Doe", "Doe"
    secretary.full_clean()


def test_the_importer_names_the_salutation_and_refuses_a_stale_one(secretary):
    people = [
        {"name": {"first": "Donald", "last": "Trump"},
         "terms": [{"type": "prez", "start": "2025-01-20", "end": "2029-01-20"},
                   {"type": "viceprez", "start": "2025-01-20", "end": "2029-01-20"}]},
    ]  # fmt: skip
    executive_import(people, on=TODAY, today=TODAY)
    president = Official.objects.get(key="us-president")
    assert president.salutation == "Dear President Trump"
    assert salutation_for(president, today=TODAY) == "Dear President Trump"

    entry = {
        "key": "us-secretary-of-state",
        "title": "Secretary of State",
        "name": "Pat Doe",
        "last_name": "Doe",
        "channel": "email",
        "email": "secretary@state.example",
    }
    with pytest.raises(DataError, match="greets Rubio"):
        executive_officials_import([entry])
    secretary.refresh_from_db()
    assert secretary.name == "Marco Rubio"  # nothing imported

    [official] = executive_officials_import([{**entry, "salutation": "Dear Secretary Doe"}])
    assert official.salutation == "Dear Secretary Doe"


# --- constituents never see a placeholder -------------------------------------------------------


@pytest.fixture
def every_placeholder_campaign(secretary, ambassador):
    campaign = CampaignFactory(
        targets=[secretary, ambassador],
        # A name as long as the form takes fills a subject alone: the city is the one that fits.
        message_subject="From {constituent_city}: act now",
        thank_template=STATEMENT,
        urge_template=STATEMENT,
        executive_template=STATEMENT,
        suggested_message="I live in {constituent_city}; I am {constituent_name}. {policy_asks}",
        call_script_executive=f"Hello, I am calling {EVERY}. {{policy_asks}}",
    )
    PolicyAskFactory(campaign=campaign, position=1, title="Halt the transfers")
    Campaign.objects.get(pk=campaign.pk).full_clean()  # every template is one the rules take
    return campaign


def _no_placeholder(html: str, where: str):
    found = RAW_PLACEHOLDER.findall(html)
    assert not found, f"{where} shows {found}"


def test_no_placeholder_reaches_any_public_page(client, every_placeholder_campaign):
    campaign = every_placeholder_campaign
    url = reverse("alerts:campaign_detail", args=[campaign.slug])
    _no_placeholder(client.get(url).content.decode(), "the address step")
    embed = reverse("alerts:campaign_embed", args=[campaign.slug])
    _no_placeholder(client.get(embed).content.decode(), "the embedded address step")

    officials = client.post(url, {**CONSTITUENT, "step": "address", "token": "t"})
    assert 'name="officials"' in officials.content.decode()
    _no_placeholder(officials.content.decode(), "the officials step")

    ids = [str(o.pk) for o in campaign.targets.all()]
    chosen = {**CONSTITUENT, "officials": ids, "chosen": "1", "token": new_form_token()}
    message = client.post(url, {**chosen, "step": "officials"})
    html = message.content.decode()
    _no_placeholder(html, "the message step")
    # The subject box and the words box are filled in for this constituent.
    page = message.context["page"]
    assert page.value_of("subject") == "From Glendale: act now"
    assert page.value_of("message").startswith("I live in Glendale; I am Ani Petrosyan.")
    assert 'value="From Glendale: act now"' in html

    posted = {
        **chosen,
        "subject": page.value_of("subject"),
        "message": page.value_of("message"),
        "consent": "on",
    }
    _no_placeholder(client.post(url, {**posted, "step": "preview"}).content.decode(), "preview")
    sent = client.post(url, {**posted, "step": "send"})
    assert sent.status_code == 302, sent.context["form"].errors
    _no_placeholder(client.get(sent.url).content.decode(), "the thanks page")
    for delivery in Delivery.objects.all():
        _no_placeholder(f"{delivery.subject}\n{delivery.body}", "a delivery")


# --- what was sent is what is shown --------------------------------------------------------------


def test_a_delivery_keeps_whom_it_addressed_after_the_office_changes_hands(
    client, admin_client, secretary
):
    campaign = CampaignFactory(targets=[secretary])
    submitted = action_submit(
        campaign=campaign,
        constituent=CONSTITUENT,
        subject="Protect civilians",
        message="",
        officials=[secretary],
        consent_text="I agree.",
    )
    delivery = submitted.action.deliveries.get()
    assert (delivery.addressed_title, delivery.addressed_name, delivery.salutation) == (
        "Secretary of State",
        "Marco Rubio",
        "Dear Secretary Rubio",
    )

    secretary.name, secretary.last_name = "Pat Doe", "Doe"
    secretary.salutation = "Dear Secretary Doe"
    secretary.holder_verified_on = timezone.localdate()
    secretary.full_clean()
    secretary.save()

    delivery.refresh_from_db()
    assert delivery.addressed_name == "Marco Rubio"
    assert delivery.body.startswith("Dear Secretary Rubio,")
    action = Action.objects.get(pk=submitted.action.pk)
    [outcome] = action_outcomes(action)
    assert outcome.name == "Secretary of State Marco Rubio"

    admin_page = admin_client.get(reverse("admin:alerts_delivery_change", args=[delivery.pk]))
    html = admin_page.content.decode()
    for field, value in [("addressed_name", "Marco Rubio"), ("salutation", "Dear Secretary Rubio")]:
        row = html[html.index(f"field-{field}") :]
        assert value in row[: row.index("</div>\n")], field


def test_the_confirmation_page_names_whom_the_messages_address_not_the_new_holder(
    client, secretary
):
    campaign = CampaignFactory(targets=[secretary], double_opt_in=True)
    action = action_submit(
        campaign=campaign,
        constituent=CONSTITUENT,
        subject="Protect civilians",
        message="",
        officials=[secretary],
        consent_text="I agree.",
    ).action
    secretary.name, secretary.last_name = "Pat Doe", "Doe"
    secretary.salutation = "Dear Secretary Doe"
    secretary.full_clean()
    secretary.save()

    page = client.get(reverse("alerts:confirm", args=[action.public_id])).content.decode()
    assert "Secretary of State Marco Rubio" in page
    assert "Pat Doe" not in page
