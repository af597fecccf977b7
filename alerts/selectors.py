"""Reads shaped for their readers: the public pages, the admin, the operators' commands."""

import datetime as dt
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Min, Prefetch, Q, Sum
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext

from legislators import states
from legislators.district_offices import nearest_office
from legislators.models import DistrictOffice, Legislator, Official, Term

from .messages import holder_name, message_compose, render_for
from .models import (
    CAMPAIGN_TRANSITIONS,
    Action,
    ActionCount,
    Call,
    Campaign,
    Cosignature,
    Delivery,
    Letter,
)


def actions_counted(campaign: Campaign) -> int:
    """The number the campaign's counter and the thank-you page show: its actions that count
    (`Action.objects.counted()`), read from the count the services maintain (`ActionCount`),
    so it costs the same however many actions there are."""
    totals = ActionCount.objects.filter(campaign=campaign).aggregate(
        actions=Sum("actions"), confirmed=Sum("confirmed")
    )
    return (totals["confirmed"] if campaign.double_opt_in else totals["actions"]) or 0


@dataclass(frozen=True)
class Signer:
    """A cosigner as they were on the letter's date (Adam Schiff signed as a Representative)."""

    legislator: Legislator
    role: str
    party: str
    seat: str

    @property
    def is_lead(self):
        return self.role == Cosignature.Role.LEAD


def letter_signers_by_state(letter: Letter) -> list[tuple[str, list[Signer]]]:
    """Signers grouped under their state's name, states and names in alphabetical order."""
    cosignatures = list(letter.cosignatures.all())
    terms = {
        term.legislator_id: term
        for term in Term.objects.covering(letter.sent_on).filter(
            legislator__in=[c.legislator_id for c in cosignatures]
        )
    }
    by_state: dict[str, list[Signer]] = {}
    for cosignature in cosignatures:
        legislator = cosignature.legislator
        term = terms.get(legislator.pk)
        state = term.state if term else legislator.state
        signer = Signer(
            legislator=legislator,
            role=cosignature.role,
            party=term.party if term else legislator.party,
            seat=term.seat if term else legislator.seat,
        )
        by_state.setdefault(state, []).append(signer)
    named = [(states.ALL.get(code, code), signers) for code, signers in by_state.items()]
    for _, signers in named:
        signers.sort(key=lambda s: (s.legislator.last_name, s.legislator.first_name))
    return sorted(named, key=lambda item: item[0])


def campaign_letters(campaign: Campaign) -> list[tuple[Letter, list]]:
    letters = campaign.letters.prefetch_related(
        Prefetch("cosignatures", queryset=Cosignature.objects.select_related("legislator"))
    )
    return [(letter, letter_signers_by_state(letter)) for letter in letters]


@dataclass(frozen=True)
class DeliveryStats:
    """What operators watch: deliveries counted by channel and status, and how long the oldest
    queued one has waited."""

    # One row per channel that has deliveries, in channel order; each row has every status in
    # Delivery.Status order, zeros included, so the rows line up as a table.
    by_channel_and_status: dict[str, dict[str, int]]
    oldest_queued_seconds: float | None

    @property
    def by_status(self) -> dict[str, int]:
        """Every status, zeros included."""
        totals = dict.fromkeys(Delivery.Status.values, 0)
        for counts in self.by_channel_and_status.values():
            for status, n in counts.items():
                totals[status] = totals.get(status, 0) + n
        return totals

    @property
    def by_channel(self) -> dict[str, int]:
        """The channels that have deliveries."""
        return {channel: sum(row.values()) for channel, row in self.by_channel_and_status.items()}


def delivery_stats(*, now=None) -> DeliveryStats:
    """The counters the deliveries admin page and `manage.py delivery_stats` show."""
    now = now or timezone.now()
    table: dict[str, dict[str, int]] = {}
    for row in Delivery.objects.values("channel", "status").annotate(n=Count("pk")).order_by():
        counts = table.setdefault(row["channel"], dict.fromkeys(Delivery.Status.values, 0))
        counts[row["status"]] = row["n"]
    oldest = Delivery.objects.filter(status=Delivery.Status.QUEUED).aggregate(t=Min("queued_at"))
    return DeliveryStats(
        by_channel_and_status=dict(sorted(table.items())),
        oldest_queued_seconds=(now - oldest["t"]).total_seconds() if oldest["t"] else None,
    )


# --- Calls beside letters ---------------------------------------------------------------------


@dataclass(frozen=True)
class Phone:
    label: str
    number: str

    @property
    def href(self) -> str:
        """tel:+12025551234 for a US number written 202-555-1234; otherwise the digits."""
        digits = "".join(ch for ch in self.number if ch.isdigit())
        if len(digits) == 10:
            digits = "1" + digits
        return f"tel:+{digits}"


@dataclass(frozen=True)
class CallSheet:
    """What a constituent needs to call one official: numbers to dial and what to say."""

    official: Official
    phones: list[Phone]
    script: str
    district_office: DistrictOffice | None = None


CALL_SCRIPT_FIELDS = {
    "thank": "call_script_thank",
    "urge": "call_script_urge",
    "executive": "call_script_executive",
}


def call_sheets(
    *, campaign: Campaign, targets, zip_code: str, sender: dict | None = None
) -> dict[int, CallSheet]:
    """Per official (by pk): the Washington office's number (the legislator's, else the
    official's own), for members of Congress the district office nearest `zip_code`
    (`legislators.district_offices.nearest_office`), and the campaign's call script for the
    official's variant, its placeholders filled as in messages.

    `targets` are (official, variant) pairs. Three queries whatever their number: the
    legislators' numbers, their district offices and the campaign's asks.
    """
    targets = list(targets)
    legislator_ids = [o.legislator_id for o, _ in targets if o.legislator_id]
    dc_phones = dict(Legislator.objects.filter(pk__in=legislator_ids).values_list("pk", "phone"))
    offices: dict[int, list[DistrictOffice]] = {}
    for office in DistrictOffice.objects.filter(legislator_id__in=legislator_ids):
        offices.setdefault(office.legislator_id, []).append(office)
    asks = list(campaign.asks.all()) if any(_script_of(campaign, v) for _, v in targets) else []
    sheets = {}
    for official, variant in targets:
        phones = []
        dc = dc_phones.get(official.legislator_id) or official.phone
        if dc:
            phones.append(Phone(gettext("Washington office"), dc))
        nearest = nearest_office(offices.get(official.legislator_id, []), zip_code)
        if nearest is not None:
            phones.append(Phone(gettext("%(city)s office") % {"city": nearest.city}, nearest.phone))
        script = _script_of(campaign, variant)
        if script:
            script = call_script_render(script, official=official, asks=asks, sender=sender or {})
        sheets[official.pk] = CallSheet(official, phones, script, nearest)
    return sheets


def _script_of(campaign, variant) -> str:
    return (getattr(campaign, CALL_SCRIPT_FIELDS.get(variant, ""), "") or "").strip()


def call_script_render(script: str, *, official, asks, sender: dict) -> str:
    """The script with the messages' placeholders filled: the official's (office-only when
    its holder is not verified), the asks, and the constituent's when known (else left as
    the organizer wrote them, for the constituent to fill in)."""
    values = {
        "official_title": official.title,
        "official_last_name": official.last_name,
        "policy_asks": "\n".join(f"{ask.position}. {ask.title}" for ask in asks),
    }
    if sender.get("first_name") or sender.get("last_name"):
        values["constituent_name"] = f"{sender.get('first_name', '')} {sender.get('last_name', '')}"
    if sender.get("city"):
        values["constituent_city"] = sender["city"]
    return render_for(script, values, official=official).strip()


# --- Honest statuses ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryReport:
    """What the constituent is told about one delivery, on the thanks page and in email.

    `state` is one of: "done" (it reached the office's system), "waiting" (it will go by
    itself), "yourself" (the constituent sends it: `link`, and the text to paste), "failed"
    (with what to do), "call" (no way to write: `phone` to call).
    """

    state: str
    text: str
    link: str = ""
    reason: str = ""
    phone: str = ""

    @property
    def paste_text(self) -> bool:
        return self.state in {"yourself", "failed"}


def _cwc_system(delivery) -> str:
    code = delivery.official.cwc_office or ""
    if not code and delivery.official.legislator_id:
        code = delivery.official.legislator.cwc_office_code or ""
    return (
        gettext("the Senate's CWC system")
        if code.startswith("S")
        else gettext("the House's CWC system")
    )


def _destination(delivery) -> str:
    channel = delivery.channel
    if channel == Official.Channel.CWC:
        return _cwc_system(delivery)
    if channel == Official.Channel.WEB_FORM:
        return gettext("the office's web form")
    if channel == Official.Channel.EMAIL:
        return gettext("the office's email")
    if channel == Official.Channel.WEBHOOK:
        return gettext("the office's system")
    return gettext("the office's contact form")


def _accepted(delivery) -> str:
    channel = delivery.channel
    if channel == Official.Channel.CWC:
        return gettext("accepted by %(system)s") % {"system": _cwc_system(delivery)}
    if channel == Official.Channel.WEB_FORM:
        return gettext("submitted through the office's web form (confirmation page seen)")
    if channel == Official.Channel.EMAIL:
        return gettext("sent to the office's email")
    return gettext("accepted by the office's system")


def official_phone(official) -> str:
    """The Washington number: the legislator's (congress-legislators), else the official's."""
    if official.legislator_id and official.legislator.phone:
        return official.legislator.phone
    return official.phone


def delivery_status(delivery: Delivery) -> DeliveryReport:
    """The one wording of a delivery's fate, by channel and status (select the delivery with
    `official__legislator` to read it without queries)."""
    status, official = delivery.status, delivery.official
    link = official.contact_form_url
    phone = official_phone(official)
    if status == Delivery.Status.SENT:
        return DeliveryReport("done", _accepted(delivery))
    if status == Delivery.Status.PENDING:
        text = gettext("waiting for your confirmation, then it goes to %(where)s")
        return DeliveryReport("waiting", text % {"where": _destination(delivery)})
    if status == Delivery.Status.SENDING:
        text = gettext("being sent to %(where)s now")
        return DeliveryReport("waiting", text % {"where": _destination(delivery)})
    if status == Delivery.Status.QUEUED:
        text = gettext("queued: it goes to %(where)s shortly")
        return DeliveryReport("waiting", text % {"where": _destination(delivery)})
    if status == Delivery.Status.MANUAL:
        if link:
            return DeliveryReport(
                "yourself",
                gettext(
                    "please send this one yourself through the office's contact form; here is "
                    "your text"
                ),
                link=link,
                reason=delivery.manual_reason,
            )
        return DeliveryReport(
            "call",
            gettext("call: %(number)s") % {"number": phone}
            if phone
            else gettext("call the office"),
            reason=delivery.manual_reason,
            phone=phone,
        )
    # Failed.
    if link:
        text = gettext(
            "failed: the office's system did not take it. Please send it yourself through "
            "the office's contact form; here is your text"
        )
        return DeliveryReport("failed", text, link=link, phone=phone)
    text = gettext("failed: the office's system did not take it. Please call the office")
    return DeliveryReport("failed", text, phone=phone)


@dataclass(frozen=True)
class OfficialOutcome:
    """One official on the thanks page or in the confirmation email."""

    delivery: Delivery
    name: str  # title and holder, or the office alone when its holder is not verified
    report: DeliveryReport
    calls: CallSheet | None


def action_outcomes(action: Action) -> list[OfficialOutcome]:
    """Each official of an action, with what happened or will happen, and how to call them."""
    deliveries = list(
        action.deliveries.select_related("official__legislator").order_by(
            "official__kind", "created_at"
        )
    )
    sheets = call_sheets(
        campaign=action.campaign,
        targets=[(d.official, d.variant) for d in deliveries],
        zip_code=action.zip_code,
        sender={name: getattr(action, name) for name in Action.CONTACT_FIELDS},
    )
    return [
        OfficialOutcome(
            delivery=d,
            name=addressed_as(d),
            report=delivery_status(d),
            calls=sheets.get(d.official.pk),
        )
        for d in deliveries
    ]


def addressed_as(delivery: Delivery) -> str:
    """Whom a delivery was addressed to, as it was written: the office's title and the holder
    it named, not whoever holds the office now. Deliveries written before these were kept
    show the office as it is."""
    if delivery.addressed_title:
        return " ".join(filter(None, [delivery.addressed_title, delivery.addressed_name]))
    official = delivery.official
    return " ".join(filter(None, [official.title, holder_name(official)]))


def unverified_executive_q(*, today=None, prefix: str = "") -> Q:
    """Executive officials whose holder a message may not name (see `holder_is_current`)."""
    today = today or timezone.localdate()
    oldest = today - dt.timedelta(days=settings.EXECUTIVE_VERIFY_DAYS)
    p = prefix
    return Q(**{f"{p}kind": Official.Kind.EXECUTIVE}) & (
        Q(**{f"{p}holder_verified_on__isnull": True})
        | Q(**{f"{p}holder_verified_on__lt": oldest})
        | Q(**{f"{p}name": ""})
        | Q(**{f"{p}last_name": ""})
    )


def unverified_targets(campaign: Campaign, *, today=None) -> list[Official]:
    return list(campaign.targets.filter(unverified_executive_q(today=today)))


def calls_by_office(campaign: Campaign) -> list[dict]:
    """Logged calls per official: total and by outcome, most called first."""
    rows = (
        Call.objects.filter(campaign=campaign)
        .values("official_id", "official__title", "official__name")
        .annotate(
            total=Count("pk"),
            **{outcome: Count("pk", filter=Q(outcome=outcome)) for outcome in Call.Outcome.values},
        )
        .order_by("-total", "official__title")
    )
    return list(rows)


@dataclass(frozen=True)
class OfficeDeliveries:
    official_id: int
    last_sent_at: object  # datetime | None
    failed_last_7_days: int
    manual: int
    total: int


def deliveries_by_office(*, now=None, limit: int = 50) -> list[OfficeDeliveries]:
    """Per office that has deliveries: when one last went through, how many failed in the last
    seven days, how many were left to constituents; the most failing first. One query."""
    now = now or timezone.now()
    week_ago = now - dt.timedelta(days=7)
    rows = (
        Delivery.objects.values("official_id")
        .annotate(
            last_sent_at=Max("sent_at"),
            failed_last_7_days=Count(
                "pk", filter=Q(status=Delivery.Status.FAILED, failed_at__gte=week_ago)
            ),
            manual=Count("pk", filter=Q(status=Delivery.Status.MANUAL)),
            total=Count("pk"),
        )
        .order_by("-failed_last_7_days", "-total", "official_id")[:limit]
    )
    return [OfficeDeliveries(**row) for row in rows]


# Who the messages are checked with before a campaign may go live (`campaign_problems`): a
# made-up constituent, and a sitting legislator's office when the database has none yet.
SAMPLE_SENDER = {
    "first_name": "Alex",
    "last_name": "Sample",
    "email": "alex.sample@example.org",
    "street": "1 Main Street",
    "city": "Springfield",
    "state": "VA",
    "zip_code": "22150",
}
_SAMPLE_LEGISLATOR = {"title": "Senator", "name": "Sam Example", "last_name": "Example"}
_RAW_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_STATEMENTS = {
    "thank": "thank_template",
    "urge": "urge_template",
    "executive": "executive_template",
}


def campaign_problems(
    campaign: Campaign, *, asks: list | None = None, targets: list | None = None
) -> list[str]:
    """What keeps `campaign` from going live, in plain words (empty: nothing). `asks` and
    `targets` stand for the saved ones when the caller has unsaved ones (the admin's form)."""
    if asks is None:
        asks = list(campaign.asks.all()) if campaign.pk else []
    if targets is None:
        targets = list(campaign.targets.all()) if campaign.pk else []
    active = [t for t in targets if t.is_active]
    problems = []
    if not asks:
        problems.append(gettext("It has no policy asks: add at least one under “Policy asks”."))
    writes_legislators = campaign.target_congress or any(
        t.kind == Official.Kind.LEGISLATOR for t in active
    )
    if not writes_legislators and not active:
        problems.append(
            gettext(
                "It has no one to write to: tick “target the constituent's members of "
                "Congress”, or add fixed targets."
            )
        )
    for inactive in (t for t in targets if not t.is_active):
        problems.append(
            gettext("Its target %(office)s is inactive: remove it or make it active.")
            % {"office": inactive}
        )
    if writes_legislators:
        problems += _letter_problems(campaign)
    problems += _template_problems(
        campaign,
        asks=asks,
        variants=(["thank", "urge"] if writes_legislators else [])
        + (["executive"] if any(t.kind == Official.Kind.EXECUTIVE for t in active) else []),
        executives=[t for t in active if t.kind == Official.Kind.EXECUTIVE],
    )
    return problems


def _letter_problems(campaign: Campaign) -> list[str]:
    """Legislators who signed the campaign's letter are thanked, the others urged: that takes a
    letter with its date and its signers."""
    letters = (
        list(campaign.letters.annotate(signers=Count("cosignatures")).order_by("pk"))
        if campaign.pk
        else []
    )
    if not letters:
        return [
            gettext(
                "It writes to legislators but has no letter: add the letter with its date and "
                "cosigners (Letters), so that those who signed are thanked and the others urged."
            )
        ]
    problems = []
    for letter in letters:
        if letter.sent_on is None:
            problems.append(
                gettext("The letter “%(title)s” has no date.") % {"title": letter.title}
            )
        if not letter.signers:
            problems.append(
                gettext("The letter “%(title)s” has no cosigners yet: match them (Letters).")
                % {"title": letter.title}
            )
    return problems


def _template_problems(campaign, *, asks, variants, executives) -> list[str]:
    """Each statement a constituent's message may carry, and the subject, pass the field's
    validation and render, for a made-up constituent, to text with no placeholder left."""
    problems = []
    subject_field = Campaign._meta.get_field("message_subject")
    problems += _field_problems(subject_field, campaign.message_subject)
    for variant in variants:
        field = Campaign._meta.get_field(_STATEMENTS[variant])
        problems += _field_problems(field, getattr(campaign, field.name))
    if problems:
        return problems
    for variant in variants:
        field = Campaign._meta.get_field(_STATEMENTS[variant])
        for official in executives if variant == "executive" else [_sample_legislator()]:
            composed = message_compose(
                campaign=campaign,
                official=official,
                variant=variant,
                subject=campaign.message_subject,
                message="",
                sender=SAMPLE_SENDER,
                asks=asks,
            )
            if not composed.organization_statement.strip():
                problems.append(
                    gettext("The %(field)s renders empty for %(office)s.")
                    % {"field": field.verbose_name, "office": official.title}
                )
            for text, name in (
                (composed.subject, subject_field.verbose_name),
                (composed.organization_statement, field.verbose_name),
            ):
                if raw := _RAW_PLACEHOLDER.search(text):
                    problems.append(
                        gettext("The %(field)s leaves %(raw)s unfilled for %(office)s.")
                        % {"field": name, "raw": raw.group(0), "office": official.title}
                    )
            if len(composed.subject) > subject_field.max_length:
                problems.append(
                    gettext("The subject is longer than %(max)s characters for %(office)s.")
                    % {"max": subject_field.max_length, "office": official.title}
                )
    return list(dict.fromkeys(problems))


def _field_problems(field, value) -> list[str]:
    if not (value or "").strip():
        return [gettext("The %(field)s is empty.") % {"field": field.verbose_name}]
    try:
        field.run_validators(value)
    except ValidationError as exc:
        return [f"{capfirst(field.verbose_name)}: {message}" for message in exc.messages]
    return []


def _sample_legislator() -> Official:
    """A legislator's office to render the thank and urge statements for: a real one when the
    database has one, else one made up (never saved)."""
    official = (
        Official.objects.filter(kind=Official.Kind.LEGISLATOR, is_active=True)
        .order_by("pk")
        .first()
    )
    return official or Official(kind=Official.Kind.LEGISLATOR, **_SAMPLE_LEGISLATOR)


def campaign_move_problems(
    campaign: Campaign,
    *,
    target: str,
    now=None,
    asks: list | None = None,
    targets: list | None = None,
) -> list[str]:
    """Why `campaign` (as it is: its `status` is where it moves from) may not move to `target`,
    in plain words; empty when it may. `asks`, `targets`: as for `campaign_problems`."""
    now = now or timezone.now()
    source = campaign.status
    Status = Campaign.Status
    if target != source and target not in CAMPAIGN_TRANSITIONS[source]:
        return [
            gettext("A %(source)s campaign cannot become %(target)s.")
            % {"source": Status(source).label.lower(), "target": Status(target).label.lower()}
        ]
    problems = []
    if target in (Status.SCHEDULED, Status.LIVE):
        if target == Status.SCHEDULED and campaign.starts_at is None:
            problems.append(gettext("A scheduled campaign needs a start time (“Starts at”)."))
        if campaign.ends_at is not None and campaign.ends_at <= now:
            problems.append(
                gettext("Its end time (“Ends at”) has passed: set a later one, or clear it.")
            )
        problems += campaign_problems(campaign, asks=asks, targets=targets)
    return problems
