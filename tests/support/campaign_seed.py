"""A campaign with a few hundred actions over several states and districts, for the dashboard's
and the staffer report's tests: confirmed and not, with and without their own words, several
sources, referrals, deliveries on several channels in every status, thank and urge, and calls.
The rows are written in bulk (factories build them), so a seed costs a few statements."""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from alerts.models import Action, ActionCount, Call, Campaign, Delivery
from legislators.models import Chamber, Official
from tests.factories import (
    ActionFactory,
    CampaignFactory,
    LegislatorFactory,
    OfficialFactory,
    PolicyAskFactory,
)

# (state, city, districts): each state's two senators and a representative per district.
PLACES = [
    ("CA", "Glendale", (30, 12)),
    ("TX", "Houston", (7,)),
    ("NY", "Albany", (20, 10)),
    ("VA", "Arlington", (8,)),
    ("WY", "Casper", (0,)),
]
SOURCES = ["", "partner-a", "newsletter", "partner-b", ""]
FIRST_NAMES = ["Ani", "Bo", "Chen", "Dana", "Eli", "Farah", "Gus"]


@dataclass
class Seed:
    campaign: Campaign
    senators: dict[str, list[Official]]
    representatives: dict[tuple[str, int], Official]
    secretary: Official
    cosigners: set[int]  # officials' pks the thank statement goes to


def _official(legislator, index: int) -> Official:
    channel = [Official.Channel.EMAIL, Official.Channel.CWC, Official.Channel.WEB_FORM][index % 3]
    return OfficialFactory(
        kind=Official.Kind.LEGISLATOR,
        key=legislator.bioguide_id,
        legislator=legislator,
        title="Senator" if legislator.chamber == Chamber.SENATE else "Representative",
        name=f"{legislator.first_name} {legislator.last_name}",
        last_name=legislator.last_name,
        channel=channel,
        cwc_office=f"H{index:04d}",
        contact_form_url=f"https://office{index}.example/contact",
    )


def seed_campaign(*, actions: int = 300, start=None, double_opt_in: bool = True) -> Seed:
    """`actions` actions from `start` (a whole hour, 5 days ago by default): a third in the
    campaign's first 24 hours, the rest over the four days after."""
    start = start or (timezone.now() - dt.timedelta(days=5)).replace(
        minute=0, second=0, microsecond=0
    )
    secretary = OfficialFactory(title="Secretary of State")
    campaign = CampaignFactory(
        double_opt_in=double_opt_in,
        target_congress=True,
        starts_at=start,
        goal=400,
        targets=[secretary],
    )
    PolicyAskFactory(campaign=campaign, position=1, title="Fund the program")
    PolicyAskFactory(campaign=campaign, position=2, title="Hold a hearing", detail="This year.")

    senators, representatives, index = {}, {}, 0
    for state, _, districts in PLACES:
        senators[state] = []
        for senate_class in (1, 2):
            legislator = LegislatorFactory(
                state=state, chamber=Chamber.SENATE, district=None, senate_class=senate_class
            )
            senators[state].append(_official(legislator, index))
            index += 1
        for district in districts:
            legislator = LegislatorFactory(state=state, chamber=Chamber.HOUSE, district=district)
            representatives[(state, district)] = _official(legislator, index)
            index += 1
    # The first senator of each state and the representatives of even districts cosigned.
    cosigners = {s[0].pk for s in senators.values()}
    cosigners |= {o.pk for (_, d), o in representatives.items() if d % 2 == 0}

    built = []
    first_day = actions // 3
    for i in range(actions):
        state, city, districts = PLACES[i % len(PLACES)]
        if i < first_day:
            created = start + dt.timedelta(minutes=(i * 1440) // first_day)
        else:
            created = start + dt.timedelta(hours=24, minutes=((i - first_day) * 5760) // actions)
        built.append(
            ActionFactory.build(
                campaign=campaign,
                first_name=FIRST_NAMES[i % len(FIRST_NAMES)],
                city=city,
                state=state,
                street=f"{i} Main St",
                message="" if i % 3 == 0 else f"Message {i} from {city}.\nPlease act.",
                source=SOURCES[i % len(SOURCES)],
                created_at=created,
                confirmed_at=created + dt.timedelta(minutes=5) if i % 4 != 3 else None,
            )
        )
    made = Action.objects.bulk_create(built)
    # The first three constituents shared their link: 9, 6 and 3 others came by it.
    referred = []
    for referrer, others in ((made[0], 9), (made[1], 6), (made[2], 3)):
        for action in made[10 + len(referred) : 10 + len(referred) + others]:
            action.referred_by = referrer
            referred.append(action)
    Action.objects.bulk_update(referred, ["referred_by"])

    deliveries, calls = [], []
    for i, action in enumerate(made):
        state, _, districts = PLACES[i % len(PLACES)]
        officials = [*senators[state], secretary]
        # Every tenth action wrote to no representative (its ZIP's choice left out).
        if i % 10 != 9:
            officials.append(representatives[(state, districts[i % len(districts)])])
        for j, official in enumerate(officials):
            deliveries.append(_delivery(action, official, i + j, cosigners=cosigners))
        if i % 7 == 0:
            outcome = Call.Outcome.values[i % len(Call.Outcome.values)]
            calls.append(
                Call(campaign=campaign, official=officials[0], action=action, outcome=outcome)
            )
    Delivery.objects.bulk_create(deliveries)
    Call.objects.bulk_create(calls)

    # The maintained count, as the services would have kept it (the rows were written here).
    confirmed = sum(1 for a in made if a.confirmed_at)
    ActionCount.objects.create(campaign=campaign, slot=0, actions=len(made), confirmed=confirmed)
    return Seed(campaign, senators, representatives, secretary, cosigners)


def _delivery(action, official, n: int, *, cosigners) -> Delivery:
    if official.kind == Official.Kind.EXECUTIVE:
        variant = Delivery.Variant.EXECUTIVE
    else:
        variant = Delivery.Variant.THANK if official.pk in cosigners else Delivery.Variant.URGE
    status, sent_at = Delivery.Status.PENDING, None
    if action.confirmed_at or not action.campaign.double_opt_in:
        status = [
            Delivery.Status.SENT,
            Delivery.Status.SENT,
            Delivery.Status.FAILED,
            Delivery.Status.QUEUED,
            Delivery.Status.MANUAL,
        ][n % 5]
        if status == Delivery.Status.SENT:
            sent_at = action.created_at + dt.timedelta(minutes=10)
    return Delivery(
        action=action,
        official=official,
        channel=official.channel,
        status=status,
        sent_at=sent_at,
        variant=variant,
        subject="Please act",
        organization_statement="Please act.",
        constituent_message=action.message,
        body="Dear official,\n\nPlease act.\n",
        created_at=action.created_at,
    )
