import pytest
from django.core.management import call_command

from alerts.models import Campaign, Cosignature, PolicyAsk
from legislators.models import Legislator, Official

pytestmark = pytest.mark.django_db


def _snapshot():
    return {
        model.__name__: sorted(model.objects.values_list("pk", flat=True))
        for model in (Campaign, PolicyAsk, Cosignature, Legislator, Official)
    }


def test_load_demo_creates_the_campaign_and_is_idempotent():
    call_command("load_demo")
    first = _snapshot()
    call_command("load_demo")
    assert _snapshot() == first

    campaign = Campaign.objects.get()
    assert campaign.status == Campaign.Status.LIVE
    assert list(campaign.asks.values_list("position", flat=True)) == [1, 2, 3, 4, 5, 6, 7]
    letter = campaign.letters.get()
    assert str(letter.sent_on) == "2023-09-20"
    assert letter.cosignatures.count() == 45
    leads = letter.cosignatures.filter(role="lead").values_list("legislator__last_name", flat=True)
    assert sorted(leads) == ["Bilirakis", "Pallone", "Schiff", "Valadao"]
    assert sorted(campaign.targets.values_list("title", flat=True)) == [
        "President",
        "Secretary of State",
        "U.S. Ambassador to the United Nations",
        "Vice President",
    ]


def test_demo_cosigners_carry_their_seats():
    call_command("load_demo")
    norton = Legislator.objects.get(last_name="Norton")
    assert (norton.state, norton.district, norton.title) == ("DC", 0, "Delegate")
    assert Legislator.objects.get(bioguide_id="M001226").first_name == "Robert"
