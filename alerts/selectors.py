"""Reads shaped for their readers: the public pages, the admin, the operators' commands."""

from dataclasses import dataclass

from django.db.models import Count, Min, Prefetch
from django.utils import timezone

from legislators import states
from legislators.models import Legislator, Term

from .models import Campaign, Cosignature, Delivery, Letter


def actions_counted(campaign: Campaign) -> int:
    """The number the campaign page, its counter and the thank-you page show."""
    return campaign.actions.counted().count()


def by_mode(deliveries) -> tuple[list[Delivery], list[Delivery]]:
    """(sent for the constituent, to send themselves through the office's contact form)."""
    deliveries = list(deliveries)
    manual = [d for d in deliveries if d.status == Delivery.Status.MANUAL]
    return [d for d in deliveries if d.status != Delivery.Status.MANUAL], manual


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
