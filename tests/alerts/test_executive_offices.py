"""Executive targets are offices first: a message names the holder only when someone verified,
within EXECUTIVE_VERIFY_DAYS, that they hold the office; otherwise it addresses the office."""

import datetime as dt
import io

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from alerts.messages import addressee, holder_is_current, message_compose
from alerts.models import Campaign
from alerts.operations.demo import demo_load
from alerts.services import messages_compose
from legislators.importers import executive_import
from legislators.models import Official
from tests.conftest import data_path
from tests.factories import CampaignFactory, LegislatorFactory, OfficialFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 5)
SENDER = {
    "first_name": "Ani",
    "last_name": "Petrosyan",
    "street": "1 Main St",
    "city": "Glendale",
    "state": "CA",
    "zip_code": "91203",
    "email": "ani@example.org",
}


def _secretary(verified_on):
    return OfficialFactory(
        title="Secretary of State",
        name="Antony Blinken",
        last_name="Blinken",
        holder_verified_on=verified_on,
    )


def _compose(official, *, template="{official_title} {official_last_name}, please act."):
    campaign = CampaignFactory.build(
        executive_template=template, message_subject="For {official_title} {official_last_name}"
    )
    return message_compose(
        campaign=campaign, official=official, variant="executive", subject=campaign.message_subject,
        message="", sender=SENDER, asks=[], today=TODAY,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("verified_on", "greeting", "statement", "subject"),
    [
        (TODAY - dt.timedelta(days=90), "Dear Secretary Blinken,",
         "Secretary of State Blinken, please act.", "For Secretary of State Blinken"),
        (TODAY - dt.timedelta(days=91), "Dear Secretary of State,",
         "Secretary of State, please act.", "For Secretary of State"),
        (None, "Dear Secretary of State,", "Secretary of State, please act.",
         "For Secretary of State"),
    ],
    ids=["verified", "stale", "unverified"],
)  # fmt: skip
def test_the_greeting_names_only_a_verified_holder(verified_on, greeting, statement, subject):
    message = _compose(_secretary(verified_on))
    assert message.body.startswith(f"{greeting}\n\n{statement}\n\n")
    assert message.subject == subject
    if verified_on is None or greeting == "Dear Secretary of State,":
        assert "Blinken" not in message.body


def test_a_lone_last_name_placeholder_becomes_the_office(settings):
    message = _compose(_secretary(None), template="Thank you, {official_last_name}.")
    assert "Thank you, Secretary of State." in message.body


def test_the_days_come_from_the_setting(settings):
    settings.EXECUTIVE_VERIFY_DAYS = 10
    official = _secretary(TODAY - dt.timedelta(days=11))
    assert not holder_is_current(official, today=TODAY)
    settings.EXECUTIVE_VERIFY_DAYS = 11
    assert holder_is_current(official, today=TODAY)


def test_a_holder_without_a_name_is_never_named():
    office = OfficialFactory(title="Secretary of State", name="", last_name="",
                             holder_verified_on=TODAY)  # fmt: skip
    assert addressee(office, today=TODAY) == "Secretary of State"


def test_legislators_are_governed_by_their_terms_not_the_date():
    legislator = LegislatorFactory(last_name="Vale", chamber="senate", district=None,
                                   senate_class=1)  # fmt: skip
    senator = OfficialFactory(
        kind=Official.Kind.LEGISLATOR,
        legislator=legislator,
        title="Senator",
        last_name="Vale",
        holder_verified_on=None,
    )
    assert _compose(senator).body.startswith("Dear Senator Vale,")


# --- import_executive ------------------------------------------------------------------------


def _officials_file(tmp_path, **entry):
    path = tmp_path / "officials.yaml"
    base = {
        "key": "us-secretary-of-state",
        "title": "Secretary of State",
        "name": "Pat Doe",
        "last_name": "Doe",
        "channel": "contact_form",
        "contact_form_url": "https://www.state.gov/contact-us/",
    }
    path.write_text(yaml.safe_dump([{**base, **entry}]))
    return path


def test_import_executive_officials_accepts_verified_on(tmp_path):
    executive = data_path("congress-legislators", "executive.yaml")
    path = _officials_file(tmp_path, verified_on="2026-11-30", phone="202-555-0100")
    out = io.StringIO()
    call_command("import_executive", str(executive), officials=str(path), stdout=out)
    official = Official.objects.get(key="us-secretary-of-state")
    assert official.holder_verified_on == dt.date(2026, 11, 30)
    assert official.phone == "202-555-0100"
    assert "Secretary of State: Pat Doe (Contact form only; holder verified 2026-11-30)" in (
        out.getvalue()
    )

    # Without verified_on, the entry says nobody verified the holder.
    call_command("import_executive", str(executive), officials=str(_officials_file(tmp_path)),
                 stdout=io.StringIO())  # fmt: skip
    official.refresh_from_db()
    assert official.holder_verified_on is None


def test_a_bad_verified_on_imports_nothing(tmp_path):
    from django.core.management import CommandError

    executive = data_path("congress-legislators", "executive.yaml")
    path = _officials_file(tmp_path, verified_on="last week")
    with pytest.raises(CommandError, match="verified_on: bad date"):
        call_command("import_executive", str(executive), officials=str(path))
    assert not Official.objects.filter(key="us-secretary-of-state").exists()


def test_the_president_counts_as_verified_on_the_import_day_when_the_term_covers_it():
    people = [
        {"name": {"first": "Old", "last": "Holder"},
         "terms": [{"type": "prez", "start": "2021-01-20", "end": "2025-01-20"},
                   {"type": "viceprez", "start": "2021-01-20", "end": "2025-01-20"}]},
        {"name": {"first": "New", "last": "Holder"},
         "terms": [{"type": "prez", "start": "2025-01-20", "end": "2029-01-20"},
                   {"type": "viceprez", "start": "2025-01-20", "end": "2029-01-20"}]},
    ]  # fmt: skip
    executive_import(people, on=TODAY, today=TODAY)
    president = Official.objects.get(key="us-president")
    assert (president.name, president.holder_verified_on) == ("New Holder", TODAY)

    # Who held it on the letter's date is not who holds it today: imported unverified.
    executive_import(people, on=dt.date(2023, 9, 20), today=TODAY)
    president.refresh_from_db()
    assert (president.name, president.holder_verified_on) == ("Old Holder", None)
    assert addressee(president, today=TODAY) == "President"


# --- the admin ---------------------------------------------------------------------------------


def test_the_admin_warns_on_live_campaigns_with_unverified_targets(admin_client):
    verified = OfficialFactory(title="President", holder_verified_on=timezone.localdate())
    stale = _secretary(timezone.localdate() - dt.timedelta(days=400))
    warned = CampaignFactory(title="Warned", targets=[verified, stale])
    fine = CampaignFactory(title="Fine", targets=[verified])
    CampaignFactory(title="Draft", targets=[stale], status=Campaign.Status.DRAFT)

    changelist = admin_client.get(reverse("admin:alerts_campaign_changelist")).content.decode()
    assert changelist.count("is live and its messages address these offices") == 1
    assert "“Warned” is live" in changelist
    assert "Secretary of State." in changelist

    change = admin_client.get(reverse("admin:alerts_campaign_change", args=[warned.pk]))
    assert "“Warned” is live and its messages address these offices" in change.content.decode()
    quiet = admin_client.get(reverse("admin:alerts_campaign_change", args=[fine.pk]))
    assert "is live and its messages" not in quiet.content.decode()

    url = reverse("admin:alerts_campaign_changelist")
    unverified = admin_client.get(url + "?targets_verified=no").context["cl"].result_list
    assert {c.title for c in unverified} == {"Warned", "Draft"}
    all_verified = admin_client.get(url + "?targets_verified=yes").context["cl"].result_list
    assert {c.title for c in all_verified} == {"Fine"}


# --- the demo ------------------------------------------------------------------------------


def test_the_demo_never_greets_a_stale_holder():
    campaign = demo_load()
    executives = list(campaign.targets.filter(kind=Official.Kind.EXECUTIVE))
    assert len(executives) == 4
    # Their published public lines, for the call list: 10 digits each.
    assert all(len(o.phone.replace("-", "")) == 10 for o in executives)
    messages = messages_compose(
        campaign=campaign, officials=executives, subject=campaign.message_subject,
        message="", sender=SENDER,
    )  # fmt: skip
    greetings = sorted(m.body.split("\n", 1)[0] for m in messages)
    # The offices the letter names have a salutation naming no one; the others' title alone.
    assert greetings == [
        "Dear Ambassador,",
        "Dear President,",
        "Dear Secretary,",
        "Dear Vice President,",
    ]
    for name in ("Blinken", "Thomas-Greenfield", "Biden", "Harris"):
        assert all(name not in m.body for m in messages)
    # The letter's facts stay facts.
    assert "Antony Blinken" in campaign.letters.get().recipients


def test_the_demo_on_a_database_with_the_2023_holders_still_addresses_the_offices():
    """An older demo load named the letter-day holders and no verified date."""
    Official.objects.create(
        key="us-secretary-of-state", kind="executive", title="Secretary of State",
        name="Antony Blinken", last_name="Blinken", channel="contact_form",
        contact_form_url="https://www.state.gov/contact-us/",
    )  # fmt: skip
    campaign = demo_load()
    official = campaign.targets.get(key="us-secretary-of-state")
    [message] = messages_compose(campaign=campaign, officials=[official], subject="s",
                                 message="", sender=SENDER)  # fmt: skip
    assert message.body.startswith("Dear Secretary,\n")
    assert "Blinken" not in message.body
