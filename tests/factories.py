import datetime as dt

import factory
from django.utils import timezone

from alerts.models import Action, Campaign, Cosignature, Delivery, Letter, PolicyAsk
from legislators.models import Chamber, Legislator, Official, Term


class LegislatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Legislator
        django_get_or_create = ("bioguide_id",)

    # Real ids are a letter and six digits from 000000 (T000250 is a senator's): the real data
    # some tests import stays for the session, and get_or_create would hand out its members.
    bioguide_id = factory.Sequence(lambda n: f"Z9{n:05d}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    party = "D"
    state = "VA"
    chamber = Chamber.HOUSE
    district = factory.Sequence(lambda n: n % 11 + 1)


def seated_legislator(
    first,
    last,
    *,
    on,
    party="D",
    state="CA",
    district=1,
    chamber=Chamber.HOUSE,
    start=None,
    end=None,
    **fields,
):
    """A legislator holding a seat on day `on`, with the Term that says so; `fields` go to the
    Legislator (their present seat is the same as on that day)."""
    senate = chamber == Chamber.SENATE
    seat = {
        "party": party,
        "state": state,
        "chamber": chamber,
        "district": None if senate else district,
        "senate_class": 1 if senate else None,
    }
    legislator = LegislatorFactory(first_name=first, last_name=last, **seat, **fields)
    Term.objects.create(
        legislator=legislator,
        start=start or on - dt.timedelta(days=260),
        end=end or on + dt.timedelta(days=470),
        **seat,
    )
    return legislator


class OfficialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Official

    key = factory.Sequence(lambda n: f"official-{n}")
    kind = Official.Kind.EXECUTIVE
    title = "Secretary"
    name = factory.Faker("name")
    last_name = factory.LazyAttribute(lambda o: o.name.split()[-1])
    channel = Official.Channel.EMAIL
    email = factory.Sequence(lambda n: f"office{n}@officials.example")
    # Verified today: messages greet the holder by name (see alerts.messages.holder_is_current).
    holder_verified_on = factory.LazyFunction(timezone.localdate)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"campaign-{n}")
    title = factory.Sequence(lambda n: f"Campaign {n}")
    organization_name = "Example Advocates"
    summary = "Write to your officials."
    body = "Why it matters.\n\nWhat to do."
    status = Campaign.Status.LIVE
    starts_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    # Most tests are about fixed targets; the ones about Congress turn this on.
    target_congress = False
    message_subject = "Please act now"
    thank_template = "Thank you for signing, {official_title} {official_last_name}."
    urge_template = "Please join your colleagues and sign. Our asks:\n{policy_asks}"
    executive_template = "Please act, {official_title}. Our asks:\n{policy_asks}"
    suggested_message = "I ask you to support this."
    # Most tests are about delivery; the opt-in tests turn this on.
    double_opt_in = False

    @factory.post_generation
    def targets(self, create, extracted, **kwargs):
        if create and extracted:
            self.targets.add(*extracted)


class PolicyAskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyAsk

    campaign = factory.SubFactory(CampaignFactory)
    position = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Ask {n}")


class LetterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Letter

    campaign = factory.SubFactory(CampaignFactory)
    title = "A letter"
    sent_on = dt.date(2023, 9, 20)
    recipients = "The Secretary of State"


class CosignatureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cosignature

    letter = factory.SubFactory(LetterFactory)
    legislator = factory.SubFactory(LegislatorFactory)


class ActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Action

    campaign = factory.SubFactory(CampaignFactory)
    first_name = "Ani"
    last_name = "Petrosyan"
    email = factory.Sequence(lambda n: f"constituent{n}@example.org")
    street = "1 Main St"
    city = "Glendale"
    state = "CA"
    zip_code = "91203"
    subject = "Please act"
    message = "Thank you."
    consent_text = "I agree."


class DeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delivery

    action = factory.SubFactory(ActionFactory)
    official = factory.SubFactory(OfficialFactory)
    channel = factory.LazyAttribute(lambda d: d.official.channel)
    status = Delivery.Status.QUEUED
    queued_at = factory.LazyFunction(timezone.now)
    variant = Delivery.Variant.EXECUTIVE
    subject = "Please act"
    organization_statement = "Please act."
    body = "Dear Secretary,\n\nPlease act.\n"


def three_email_officials() -> list:
    """A Secretary of State, a Senator and a Representative, each reached by email."""
    return [
        OfficialFactory(title="Secretary of State", name="Alex Stone", last_name="Stone"),
        OfficialFactory(title="Senator", name="Robin Vale", last_name="Vale"),
        OfficialFactory(title="Representative", name="Sam Ortiz", last_name="Ortiz"),
    ]
