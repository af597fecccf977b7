"""Address → members of Congress. The one place that answers "who represents this constituent?"

Two queries: the ZIP's districts, then the sitting officials for them.
"""

import logging
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from . import states
from .geocoders import GeocoderError, get_geocoder
from .models import Chamber, Official, ZipDistrict, house_seat

logger = logging.getLogger(__name__)

ZIP_RE = re.compile(r"^(\d{5})(?:-?(\d{4}))?$")
GEOCODE_CACHE_SECONDS = 24 * 3600


class AddressError(Exception):
    """The address cannot be mapped; the message is written for the constituent."""


@dataclass(frozen=True, order=True)
class Seat:
    state: str
    district: int

    def __str__(self):
        return house_seat(self.state, self.district)


@dataclass
class Delegation:
    """Who represents one ZIP code: senators, and the House seat(s) it may be in."""

    zip_code: str
    seats: list[Seat]
    senators: list[Official] = field(default_factory=list)
    # Seat → its sitting member, or None when the seat is vacant.
    representatives: dict[Seat, Official | None] = field(default_factory=dict)
    geocoded: bool = False

    @property
    def is_split(self) -> bool:
        """True when the ZIP spans several districts and the constituent must say which."""
        return len(self.seats) > 1

    @property
    def states(self) -> list[str]:
        return sorted({seat.state for seat in self.seats})

    @property
    def vacant_seats(self) -> list[Seat]:
        return [seat for seat, official in self.representatives.items() if official is None]

    @property
    def vacant_senate_seats(self) -> int:
        voting = [s for s in self.states if s in states.STATES]
        return 2 * len(voting) - len(self.senators)

    @property
    def candidate_representatives(self) -> list[Official]:
        return [o for o in self.representatives.values() if o is not None]


def normalize_zip(value: str) -> str:
    match = ZIP_RE.match((value or "").strip())
    if not match:
        raise AddressError(_("Enter a 5-digit ZIP code, like 20001 or 20001-1234."))
    return match.group(1)


def delegation_for_address(
    *,
    zip_code: str,
    state: str | None = None,
    street: str = "",
    city: str = "",
    congress: int | None = None,
) -> Delegation:
    """The members of Congress for an address, with the districts a ZIP leaves open.

    `state`, when given, narrows a ZIP that crosses a state line. A configured geocoder turns a
    split ZIP into one district when it can place the full street address.
    """
    zip5 = normalize_zip(zip_code)
    congress = congress or settings.ACTIVE_CONGRESS
    rows = ZipDistrict.objects.filter(congress=congress, zip_code=zip5).order_by()
    seats = sorted(Seat(state=s, district=d) for s, d in rows.values_list("state", "district"))
    if not seats:
        raise AddressError(
            _("We could not find ZIP code %(zip)s. Check it, or use the ZIP of your home address.")
            % {"zip": zip5}
        )
    if state:
        in_state = [seat for seat in seats if seat.state == state]
        if not in_state:
            name = states.ALL.get(state, state)
            raise AddressError(
                _("ZIP code %(zip)s is not in %(state)s. Check the ZIP code and state.")
                % {"zip": zip5, "state": name}
            )
        seats = in_state

    geocoded = False
    if len(seats) > 1 and street and city:
        seats, geocoded = _narrow_by_geocoder(seats, street=street, city=city, zip_code=zip_code)

    return _with_officials(Delegation(zip_code=zip5, seats=seats, geocoded=geocoded))


def _narrow_by_geocoder(seats, *, street, city, zip_code):
    geocoder = get_geocoder()
    if geocoder is None:
        return seats, False
    address = {"street": street, "city": city, "state": seats[0].state, "zip_code": zip_code}
    try:
        match = _geocoded(geocoder, address)
    except GeocoderError:
        return seats, False
    if match is not None:
        seat = Seat(state=match.state, district=match.district)
        if seat in seats:
            return [seat], True
    return seats, False


_NOT_CACHED = object()


def _geocoded(geocoder, address: dict):
    """The geocoder's answer for `address`, asked once a day: the form recomputes officials
    from the address at every step, and a network call each time would slow every step. The
    cache key is an HMAC of the address (personal data), the value only a district. A cache
    that is down costs a call, not the lookup; a geocoder error is not remembered."""
    asked = repr((settings.GEOCODER, sorted(address.items())))
    key = f"geocode:{salted_hmac('legislators.geocode', asked).hexdigest()}"
    try:
        match = cache.get(key, _NOT_CACHED)
    except Exception:
        logger.warning("geocode cache unavailable", exc_info=True)
        match = _NOT_CACHED
    if match is _NOT_CACHED:
        match = geocoder.district_for(**address)
        try:
            cache.set(key, match, GEOCODE_CACHE_SECONDS)
        except Exception:
            logger.warning("geocode cache unavailable", exc_info=True)
    return match


def _with_officials(delegation: Delegation) -> Delegation:
    # One simple query for the states' sitting members, narrowed to the seats in Python: a
    # cheaper statement to build than one OR branch per seat, and never more than a few rows
    # beyond the ones kept.
    officials = (
        Official.objects.filter(
            Q(legislator__chamber=Chamber.SENATE)
            | Q(legislator__district__in={seat.district for seat in delegation.seats}),
            is_active=True,
            legislator__in_office=True,
            legislator__state__in=delegation.states,
        )
        .select_related("legislator")
        .order_by()
    )
    delegation.representatives = dict.fromkeys(delegation.seats)
    for official in sorted(
        officials, key=lambda o: (o.legislator.state, o.legislator.senate_class or 0)
    ):
        legislator = official.legislator
        if legislator.chamber == Chamber.SENATE:
            delegation.senators.append(official)
        else:
            seat = Seat(legislator.state, legislator.district)
            if seat in delegation.representatives:
                delegation.representatives[seat] = official
    return delegation
