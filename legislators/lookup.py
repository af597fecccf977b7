"""Address → members of Congress. The one place that answers "who represents this constituent?"

One statement: the ZIP's districts, each with the sitting officials who may represent it.
"""

import functools
import logging
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from . import states
from .geocoders import GeocoderError, get_geocoder
from .models import Chamber, Legislator, Official, ZipDistrict, house_seat

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
    with connection.cursor() as cursor:
        cursor.execute(delegation_sql(), [congress, zip5])
        rows = cursor.fetchall()
    seats = sorted({Seat(state=row[0], district=row[1]) for row in rows})
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

    return _with_officials(
        Delegation(zip_code=zip5, seats=seats, geocoded=geocoded), _officials(rows)
    )


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


@functools.cache
def delegation_sql() -> str:
    """The one statement of a lookup, parameters (congress, zip5): a row per district of the ZIP
    and sitting official who may represent it (the state's senators, the district's member), or
    one row of NULLs for a district with neither; columns: state, district, then every column of
    Official and of its Legislator, in model order.

    Written out rather than built by the ORM: the two ORM queries it replaces spent nearly three
    times the database's time building statements (bench.lookup: 1.6 ms a lookup against 0.4 ms
    of SQL). The column lists come from the models, so a new field is read too. A state's
    senators come once per district of the ZIP in that state, hence the de-duplication in
    _officials. bench.lookup sends this same statement raw as its ceiling.
    """
    quote = connection.ops.quote_name

    def columns(model, alias):
        return ", ".join(f"{alias}.{quote(f.column)}" for f in model._meta.concrete_fields)

    # Table and column names come from the models, not from input.
    return (
        f"SELECT zd.state, zd.district, {columns(Official, 'o')}, {columns(Legislator, 'l')} "  # noqa: S608
        f"FROM {quote(ZipDistrict._meta.db_table)} zd "
        f"LEFT JOIN ({quote(Legislator._meta.db_table)} l "
        f"JOIN {quote(Official._meta.db_table)} o ON o.legislator_id = l.id AND o.is_active) "
        "ON l.state = zd.state AND l.in_office "
        f"AND (l.chamber = '{Chamber.SENATE}' OR l.district = zd.district) "
        "WHERE zd.congress = %s AND zd.zip_code = %s"
    )


def _officials(rows) -> list[Official]:
    """The rows' officials, each once, with its legislator loaded as select_related would."""
    official_names = [f.attname for f in Official._meta.concrete_fields]
    legislator_names = [f.attname for f in Legislator._meta.concrete_fields]
    split = 2 + len(official_names)
    db = connection.alias
    officials = {}
    for row in rows:
        official_id = row[2]
        if official_id is None or official_id in officials:
            continue
        official = Official.from_db(db, official_names, row[2:split])
        # Assigning the reverse one-to-one caches both sides, as select_related does.
        Legislator.from_db(db, legislator_names, row[split:]).official = official
        officials[official_id] = official
    return list(officials.values())


def _with_officials(delegation: Delegation, officials: list[Official]) -> Delegation:
    # The statement found the officials of every district of the ZIP; keep those of the seats
    # left after narrowing by state or geocoder.
    states_kept = set(delegation.states)
    delegation.representatives = dict.fromkeys(delegation.seats)
    for official in sorted(
        officials, key=lambda o: (o.legislator.state, o.legislator.senate_class or 0)
    ):
        legislator = official.legislator
        if legislator.chamber == Chamber.SENATE:
            if legislator.state in states_kept:
                delegation.senators.append(official)
        else:
            seat = Seat(legislator.state, legislator.district)
            if seat in delegation.representatives:
                delegation.representatives[seat] = official
    return delegation
