"""Each official gets the statement that fits: a cosigner the thank text, a non-signer the urge
text, an executive the executive text. Checked in the messages an SMTP server received."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from alerts.delivery.engine import Outcome, delivery_send
from alerts.models import Action, Campaign
from legislators.models import Official
from tests.factories import (
    CampaignFactory,
    CosignatureFactory,
    LetterFactory,
    OfficialFactory,
    PolicyAskFactory,
)
from tests.support.forms import CONSTITUENT, action_post

pytestmark = pytest.mark.django_db

SANDBOX_INBOX = "inbox@organizers.example"
THANK = "Thank you for signing, {official_title} {official_last_name}. We still ask:\n{policy_asks}"
URGE = "Please sign too, {official_title} {official_last_name}. We ask:\n{policy_asks}"
EXECUTIVE = "Please act, {official_title} {official_last_name}. We ask:\n{policy_asks}"
ASKS = "1. Halt the transfers\n2. Protect aid workers"
OWN_WORDS = "My cousin lives there; I think of her every day."


@pytest.fixture
def sandbox_smtp(smtp_settings, smtp_sink):
    """Every delivery, whatever its channel, goes in this process to the real SMTP sink."""
    smtp_settings.DELIVERY_SANDBOX = True
    smtp_settings.DELIVERY_SANDBOX_EMAIL = SANDBOX_INBOX
    return smtp_sink


@pytest.fixture
def secretary():
    return OfficialFactory(
        key="us-secretary-of-state",
        title="Secretary of State",
        name="Alex Stone",
        last_name="Stone",
    )


@pytest.fixture
def va_senators(real_data):
    senators = list(
        Official.objects.filter(
            legislator__chamber="senate", legislator__state="VA", legislator__in_office=True
        ).order_by("legislator__bioguide_id")
    )
    assert len(senators) == 2
    return senators


@pytest.fixture
def campaign(real_data, secretary, va_senators):
    campaign = CampaignFactory(
        target_congress=True,
        double_opt_in=False,
        targets=[secretary],
        thank_template=THANK,
        urge_template=URGE,
        executive_template=EXECUTIVE,
    )
    # Made out of order: the list follows the positions.
    PolicyAskFactory(campaign=campaign, position=2, title="Protect aid workers")
    PolicyAskFactory(campaign=campaign, position=1, title="Halt the transfers")
    letter = LetterFactory(campaign=campaign)
    CosignatureFactory(letter=letter, legislator=va_senators[0].legislator)
    return campaign


def _address():
    """The constituent, living in Virginia (where the senators come from the real data)."""
    return {
        **CONSTITUENT,
        "street": "1 Main St",
        "city": "Arlington",
        "state": "VA",
        "zip_code": "22201",
    }


def _url(campaign):
    return reverse("alerts:campaign_detail", args=[campaign.slug])


def _statement(template, official):
    return (
        template.replace("{official_title}", official.title)
        .replace("{official_last_name}", official.last_name)
        .replace("{policy_asks}", ASKS)
    )


def test_each_official_receives_the_statement_for_its_variant(
    client, campaign, secretary, va_senators, sandbox_smtp
):
    cosigner, other_senator = va_senators
    page = client.post(_url(campaign), {**_address(), "step": "address"})
    offered = page.context["form"].recipients.checkable
    [representative] = [o for o in offered if o.legislator and o.legislator.chamber == "house"]
    assert set(offered) == {cosigner, other_senator, representative, secretary}

    response = client.post(
        _url(campaign),
        action_post(offered, **_address(), chosen="1", subject="Act now", message=OWN_WORDS),
    )
    assert response.status_code == 302
    action = Action.objects.get()
    deliveries = list(action.deliveries.select_related("official"))
    assert len(deliveries) == 4
    for delivery in deliveries:
        assert delivery_send(delivery_id=delivery.id).outcome == Outcome.SENT

    received = sandbox_smtp.messages()
    assert len(received) == 4
    by_key = {}
    for message in received:
        assert message.rcpt_tos == [SANDBOX_INBOX]
        by_key[message.message["X-Official-Id"]] = message
    assert set(by_key) == {o.key for o in (cosigner, other_senator, representative, secretary)}

    expected = {
        cosigner: ("thank", THANK),
        other_senator: ("urge", URGE),
        representative: ("urge", URGE),
        secretary: ("executive", EXECUTIVE),
    }
    delivery_of = {d.official: d for d in deliveries}
    for official, (variant, template) in expected.items():
        message = by_key[official.key]
        body = message.message.get_content().replace("\r\n", "\n")
        statement = _statement(template, official)
        assert "{" not in statement, "every placeholder is one this test fills in"
        # An office is greeted by its form of address, not its whole title.
        greeting = "Secretary" if official == secretary else official.title
        assert body.startswith(f"Dear {greeting} {official.last_name},\n\n{statement}\n\n")
        assert OWN_WORDS in body
        assert "Ani Petrosyan\n1 Main St\nArlington, VA 22201" in body
        # The other variants' words are not in it.
        for other_variant, other_template in {
            "thank": THANK,
            "urge": URGE,
            "executive": EXECUTIVE,
        }.items():
            if other_variant != variant:
                assert other_template.split(",")[0] not in body
        assert message.message["X-Delivery-Id"] == str(delivery_of[official].id)
        assert delivery_of[official].variant == variant
        assert delivery_of[official].organization_statement == statement
    assert by_key[cosigner.key].message["X-Official-Channel"] == cosigner.channel


def test_the_officials_page_labels_each_official_with_its_variant(client, campaign, va_senators):
    cosigner, other_senator = va_senators
    response = client.post(_url(campaign), {**_address(), "step": "address"})
    variants = {p["official"]: p["variant"] for p in response.context["previews"]}
    assert variants[cosigner] == "thank"
    assert variants[other_senator] == "urge"


@pytest.mark.parametrize(
    "field", ["message_subject", "thank_template", "urge_template", "executive_template"]
)
def test_an_unknown_placeholder_is_a_validation_error_naming_it(field):
    campaign = CampaignFactory.build(**{field: "Dear {official_title}, {foo} matters."})
    with pytest.raises(ValidationError) as raised:
        campaign.full_clean()
    errors = raised.value.message_dict
    assert list(errors) == [field]
    assert "{foo}" in errors[field][0]
    assert "{official_title}" not in errors[field][0].split(".")[0], "known ones are not blamed"


def test_known_placeholders_pass_validation():
    CampaignFactory.build(thank_template=THANK, urge_template=URGE).full_clean()


def _admin_add_data(**changes):
    data = {
        "title": "Stop the transfers",
        "slug": "stop-the-transfers",
        "organization_name": "Example Advocates",
        "summary": "Write to your officials.",
        "body": "Why it matters.",
        "status": "draft",
        "starts_at_0": "",
        "starts_at_1": "",
        "ends_at_0": "",
        "ends_at_1": "",
        "goal": "1000",
        "message_subject": "Please act",
        "thank_template": THANK,
        "urge_template": URGE,
        "executive_template": EXECUTIVE,
        "suggested_message": "",
        "double_opt_in": "on",
        "allowed_origins": "",
        "target_congress": "on",
        "topic": "",
        "cwc_topic": "International Affairs",
        "asks-TOTAL_FORMS": "0",
        "asks-INITIAL_FORMS": "0",
        "asks-MIN_NUM_FORMS": "0",
        "asks-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def test_the_admin_shows_an_unknown_placeholder_as_an_error(admin_client):
    url = reverse("admin:alerts_campaign_add")
    assert admin_client.get(url).status_code == 200

    response = admin_client.post(url, _admin_add_data(urge_template="Dear {foo},\n{policy_asks}"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["urge_template"]
    assert "Unknown placeholder {foo}" in response.content.decode()
    assert not Campaign.objects.filter(slug="stop-the-transfers").exists()

    # The same form without the unknown placeholder saves: the error above was that one.
    response = admin_client.post(url, _admin_add_data())
    assert response.status_code == 302
    assert Campaign.objects.get(slug="stop-the-transfers").urge_template == URGE
