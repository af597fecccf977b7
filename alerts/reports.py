"""Reads for the organizers' campaign dashboard and the staffer report (the admin's pages and
`manage.py campaign_report` read the same functions). Every figure comes from a few aggregate
queries, as many however many actions a campaign has; nothing here writes."""

import csv
import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, F, Max, Min, Q, Window
from django.db.models.functions import RowNumber, TruncDay, TruncHour
from django.utils import timezone

from legislators import states
from legislators.models import Chamber, Official, house_seat

from .models import Action, Call, Campaign, Delivery, PolicyAsk
from .selectors import actions_counted

HOURLY_SPAN = dt.timedelta(hours=24)


@dataclass(frozen=True)
class Bucket:
    """Actions created in [start, start + one hour or one day)."""

    start: dt.datetime
    hourly: bool
    total: int
    confirmed: int

    @property
    def unconfirmed(self) -> int:
        return self.total - self.confirmed


@dataclass(frozen=True)
class Tally:
    """Actions under one key (a state, a district, a source): all of them and the confirmed."""

    key: str
    label: str
    total: int
    confirmed: int


@dataclass(frozen=True)
class Referrer:
    """A constituent whose share link brought others, named as the staffer report names people:
    first name, city and state only."""

    first_name: str
    city: str
    state: str
    referred: int


@dataclass(frozen=True)
class Dashboard:
    campaign: Campaign
    total: int  # every action, as the admin's lists count them
    confirmed: int  # confirmed_at set
    counted: int  # Action.objects.counted(): what the public counter should show, recounted
    public_count: int  # what the public counter shows: the maintained count (actions_counted)
    with_message: int  # actions with the constituent's own words
    referred: int  # actions that came through another constituent's share link
    first_day_start: dt.datetime | None  # the hour the hourly chart starts at
    hourly: list[Bucket]
    daily: list[Bucket]
    by_state: list[Tally]
    by_district: list[Tally]
    without_district: int  # actions that wrote to no representative
    by_source: list[Tally]
    top_referrers: list[Referrer]
    # channel -> status -> deliveries, every status in Delivery.Status order, zeros included
    deliveries: dict[str, dict[str, int]]
    calls_by_outcome: dict[str, int]  # every Call.Outcome value, zeros included

    @property
    def unconfirmed(self) -> int:
        return self.total - self.confirmed

    @property
    def deliveries_by_status(self) -> dict[str, int]:
        totals = dict.fromkeys(Delivery.Status.values, 0)
        for row in self.deliveries.values():
            for status, n in row.items():
                totals[status] += n
        return totals

    @property
    def deliveries_total(self) -> int:
        return sum(self.deliveries_by_status.values())

    @property
    def calls_total(self) -> int:
        return sum(self.calls_by_outcome.values())

    @property
    def goal(self) -> int:
        return self.campaign.goal

    @property
    def goal_percent(self) -> int:
        """The public count as a share of the goal, in whole percent (can pass 100)."""
        return int(100 * self.public_count / self.goal) if self.goal else 0

    @property
    def counts_explained(self) -> str:
        """Why the admin's count of actions and the public counter can differ, in one line."""
        if self.campaign.double_opt_in:
            line = (
                f"This campaign asks for confirmation (double opt-in): an action counts and its "
                f"messages go out only once the constituent clicks the link in the email we "
                f"send. The public counter shows the {self.counted} confirmed; the admin lists "
                f"all {self.total} actions, {self.unconfirmed} of them not confirmed (yet)."
            )
        else:
            line = (
                f"This campaign sends without confirmation: every action counts and its "
                f"messages go out at once, so the public counter and the admin both count "
                f"{self.total}."
            )
        if self.public_count != self.counted:
            line += (
                f" The public counter reads the campaign's maintained count ({self.public_count}),"
                f" which differs from a recount of the actions ({self.counted}): some actions "
                f"were written or removed without it (an import, or a bug to report)."
            )
        return line


def campaign_dashboard(campaign: Campaign, *, now=None) -> Dashboard:
    """Everything the campaign's dashboard shows, in eleven queries whatever the number of
    actions."""
    now = now or timezone.now()
    actions = Action.objects.filter(campaign=campaign)
    confirmed = Q(confirmed_at__isnull=False)
    summary = actions.aggregate(
        total=Count("pk"),
        confirmed=Count("pk", filter=confirmed),
        counted=Count("pk", filter=confirmed | Q(campaign__double_opt_in=False)),
        with_message=Count("pk", filter=~Q(message="")),
        referred=Count("pk", filter=Q(referred_by__isnull=False)),
        first=Min("created_at"),
        last=Max("created_at"),
    )
    first_day_start, hourly, daily = _timeline(campaign, actions, summary, now=now)
    by_district, without_district = _by_district(campaign, total=summary["total"])
    return Dashboard(
        campaign=campaign,
        total=summary["total"],
        confirmed=summary["confirmed"],
        counted=summary["counted"],
        public_count=actions_counted(campaign),
        with_message=summary["with_message"],
        referred=summary["referred"],
        first_day_start=first_day_start,
        hourly=hourly,
        daily=daily,
        by_state=_tallies(actions, "state", label=lambda code: states.ALL.get(code, code)),
        by_district=by_district,
        without_district=without_district,
        by_source=_tallies(actions, "source", label=lambda source: source or "(none)"),
        top_referrers=_top_referrers(actions),
        deliveries=_deliveries(campaign),
        calls_by_outcome=_calls(campaign),
    )


def _confirmed_counts(prefix: str = "") -> dict:
    return {
        "total": Count("pk"),
        "confirmed": Count("pk", filter=Q(**{f"{prefix}confirmed_at__isnull": False})),
    }


def _tallies(actions, key: str, *, label) -> list[Tally]:
    """Actions per value of `key`, the largest first."""
    rows = actions.values(key).annotate(**_confirmed_counts()).order_by("-total", key)
    return [Tally(row[key], label(row[key]), row["total"], row["confirmed"]) for row in rows]


def _timeline(campaign, actions, summary, *, now):
    """Hourly buckets for the campaign's first 24 hours (from its start, or its first action if
    earlier or if it has no start), then daily buckets (days in the site's time zone) up to its
    last action or its end: two queries, empty buckets filled with zeros. The first daily bucket
    holds only the hours after the hourly ones, so each action is in exactly one bucket."""
    starts = [t for t in (campaign.starts_at, summary["first"]) if t is not None]
    if not starts:
        return None, [], []
    first_hour = timezone.localtime(min(starts)).replace(minute=0, second=0, microsecond=0)
    # Hours added in absolute time (UTC), so that a daylight-saving change neither skips nor
    # repeats one.
    first_hour_utc = first_hour.astimezone(dt.UTC)
    cutoff = first_hour_utc + HOURLY_SPAN
    if campaign.ends_at is not None:
        end = min(now, campaign.ends_at)
    elif campaign.status == Campaign.Status.CLOSED and summary["last"] is not None:
        end = summary["last"]
    else:
        end = now
    if summary["last"] is not None:
        end = max(end, summary["last"])

    # Two queries rather than one CASE: a Trunc gives aware times only at the top level.
    found: dict[bool, dict] = {}
    for hourly, part, trunc in (
        (True, actions.filter(created_at__lt=cutoff), TruncHour),
        (False, actions.filter(created_at__gte=cutoff), TruncDay),
    ):
        rows = (
            part.annotate(bucket=trunc("created_at"))
            .values("bucket")
            .annotate(**_confirmed_counts())
            .order_by("bucket")
        )
        found[hourly] = {row["bucket"]: (row["total"], row["confirmed"]) for row in rows}

    calendar = {
        True: [timezone.localtime(first_hour_utc + dt.timedelta(hours=i)) for i in range(24)],
        False: [],
    }
    if end >= cutoff:
        day = timezone.localtime(cutoff).date()
        last_day = timezone.localtime(end).date()
        while day <= last_day:
            calendar[False].append(timezone.make_aware(dt.datetime.combine(day, dt.time())))
            day += dt.timedelta(days=1)
    hourly, daily = (
        [
            Bucket(start, kind, *found[kind].get(start, (0, 0)))
            # A bucket the calendar missed (a daylight-saving change) is kept, not dropped.
            for start in sorted(set(calendar[kind]) | set(found[kind]))
        ]
        for kind in (True, False)
    )
    return first_hour, hourly, daily


def _by_district(campaign, *, total: int) -> tuple[list[Tally], int]:
    """Actions per congressional district: the seat of the representative each action wrote to
    (the constituent chose it when their ZIP code spans districts). Actions that wrote to no
    representative (a campaign of fixed targets only) are counted apart."""
    rows = (
        Delivery.objects.filter(
            action__campaign=campaign, official__legislator__chamber=Chamber.HOUSE
        )
        .values("official__legislator__state", "official__legislator__district")
        .annotate(**_confirmed_counts("action__"))
        .order_by("-total", "official__legislator__state", "official__legislator__district")
    )
    tallies = []
    for row in rows:
        seat = house_seat(row["official__legislator__state"], row["official__legislator__district"])
        tallies.append(Tally(seat, seat, row["total"], row["confirmed"]))
    return tallies, total - sum(t.total for t in tallies)


def _top_referrers(actions, *, limit: int = 10) -> list[Referrer]:
    rows = (
        actions.filter(referred_by__isnull=False)
        .values(
            "referred_by_id",
            "referred_by__first_name",
            "referred_by__city",
            "referred_by__state",
        )
        .annotate(referred=Count("pk"))
        .order_by("-referred", "referred_by_id")[:limit]
    )
    return [
        Referrer(
            row["referred_by__first_name"],
            row["referred_by__city"],
            row["referred_by__state"],
            row["referred"],
        )
        for row in rows
    ]


def _deliveries(campaign) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    rows = (
        Delivery.objects.filter(action__campaign=campaign)
        .values("channel", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        counts = table.setdefault(row["channel"], dict.fromkeys(Delivery.Status.values, 0))
        counts[row["status"]] = row["n"]
    return dict(sorted(table.items()))


def _calls(campaign) -> dict[str, int]:
    counts = dict.fromkeys(Call.Outcome.values, 0)
    rows = Call.objects.filter(campaign=campaign).values("outcome").annotate(n=Count("pk"))
    for row in rows.order_by():
        counts[row["outcome"]] = row["n"]
    return counts


# --- The staffer report -------------------------------------------------------------------------


@dataclass(frozen=True)
class Voice:
    """A constituent's own words, named by first name, city and state only."""

    first_name: str
    city: str
    state: str
    message: str
    created_at: dt.datetime


@dataclass(frozen=True)
class OfficeReport:
    """One office's part: the constituents who wrote to it on this campaign (actions that count:
    confirmed, or needing no confirmation; the others were never sent), by the statement they
    carried (thanks for cosigning, an urge to sign, or to an executive office)."""

    key: str
    title: str
    name: str
    seat: str  # "CA" for a senator, "CA-12" for a representative, "" for an executive office
    constituents: int
    thank: int
    urge: int
    executive: int
    sent: int  # of these, delivered to the office so far
    voices: list[Voice] = field(default_factory=list)

    @property
    def heading(self) -> str:
        who = " ".join(filter(None, [self.title, self.name]))
        return f"{who} ({self.seat})" if self.seat else who


@dataclass(frozen=True)
class StafferReport:
    campaign: Campaign
    asks: list[PolicyAsk]
    offices: list[OfficeReport]
    messages_per_office: int


CSV_HEADER = (
    "office_key",
    "title",
    "name",
    "seat",
    "constituents",
    "thank",
    "urge",
    "executive",
    "delivered",
)


def staffer_report(
    campaign: Campaign, *, office_key: str | None = None, messages: int = 10
) -> StafferReport:
    """Per office the campaign's constituents wrote to (or only `office_key`'s): how many wrote,
    thank and urge counts, and up to `messages` of their own words, the most recent first.
    Three queries whatever the number of actions or offices."""
    variant = Delivery.Variant
    deliveries = Delivery.objects.filter(
        action__in=Action.objects.filter(campaign=campaign).counted()
    )
    if office_key is not None:
        deliveries = deliveries.filter(official__key=office_key)
    rows = (
        deliveries.values(
            "official_id",
            "official__key",
            "official__kind",
            "official__title",
            "official__name",
            "official__legislator__chamber",
            "official__legislator__state",
            "official__legislator__district",
        )
        .annotate(
            constituents=Count("pk"),
            thank=Count("pk", filter=Q(variant=variant.THANK)),
            urge=Count("pk", filter=Q(variant=variant.URGE)),
            executive=Count("pk", filter=Q(variant=variant.EXECUTIVE)),
            sent=Count("pk", filter=Q(status=Delivery.Status.SENT)),
        )
        .order_by()
    )
    voices = _voices(deliveries, limit=messages) if messages > 0 else {}
    offices = [
        OfficeReport(
            key=row["official__key"],
            title=row["official__title"],
            name=row["official__name"],
            seat=_seat(row),
            constituents=row["constituents"],
            thank=row["thank"],
            urge=row["urge"],
            executive=row["executive"],
            sent=row["sent"],
            voices=voices.get(row["official_id"], []),
        )
        for row in rows
    ]
    offices.sort(key=_office_order)
    return StafferReport(
        campaign=campaign,
        asks=list(PolicyAsk.objects.filter(campaign=campaign).order_by("position")),
        offices=offices,
        messages_per_office=messages,
    )


def _seat(row) -> str:
    chamber = row["official__legislator__chamber"]
    if chamber == Chamber.SENATE:
        return row["official__legislator__state"]
    if chamber == Chamber.HOUSE:
        return house_seat(row["official__legislator__state"], row["official__legislator__district"])
    return ""


def _office_order(office: OfficeReport):
    """Executive offices first, then by state; in a state its senators before its districts."""
    if not office.seat:
        return (0, "", 0, office.title, office.name)
    state, _, district = office.seat.partition("-")
    return (1, state, 1 if district else 0, district, office.name)


def _voices(deliveries, *, limit: int) -> dict[int, list[Voice]]:
    """Per official, the latest `limit` non-empty messages of the actions written to it, in
    one query (a row number per official)."""
    ranked = (
        deliveries.exclude(action__message="")
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("official_id")],
                order_by=[F("action__created_at").desc(), F("action_id").desc()],
            )
        )
        .filter(rank__lte=limit)
        .values(
            "official_id",
            "action__first_name",
            "action__city",
            "action__state",
            "action__message",
            "action__created_at",
        )
        .order_by("official_id", "-action__created_at", "-action_id")
    )
    found: dict[int, list[Voice]] = {}
    for row in ranked:
        found.setdefault(row["official_id"], []).append(
            Voice(
                first_name=row["action__first_name"],
                city=row["action__city"],
                state=row["action__state"],
                message=row["action__message"],
                created_at=row["action__created_at"],
            )
        )
    return found


def staffer_report_csv(report: StafferReport, out) -> None:
    """The report's numbers, one row per office, to a text file-like object: the admin's
    download and `campaign_report --csv` write the same bytes."""
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for office in report.offices:
        writer.writerow(
            [
                office.key,
                office.title,
                office.name,
                office.seat,
                office.constituents,
                office.thank,
                office.urge,
                office.executive,
                office.sent,
            ]
        )


def office_exists(key: str) -> bool:
    return Official.objects.filter(key=key).exists()
