"""Members of Congress's offices at home (congress-legislators' legislators-district-offices),
and which of them is nearest a constituent's ZIP code."""

from collections.abc import Iterable
from dataclasses import dataclass

import yaml
from django.db import transaction

from . import states
from .importers import DataError
from .models import DistrictOffice, Legislator

OFFICE_FIELDS = (
    "legislator_id",
    "address",
    "suite",
    "building",
    "city",
    "state",
    "zip_code",
    "latitude",
    "longitude",
    "phone",
)


@dataclass
class DistrictOfficeSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    unknown_legislators: int = 0

    def __str__(self):
        return (
            f"district offices: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.removed} removed; "
            f"{self.unknown_legislators} members not imported skipped"
        )


def parse_district_offices(raw: bytes, *, name: str = "source") -> list[dict]:
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(raw.decode("utf-8-sig"), Loader=loader)  # noqa: S506 (safe loader)
    except yaml.YAMLError as exc:
        raise DataError(f"{name}: not valid YAML ({exc})") from exc
    if not isinstance(data, list):
        raise DataError(f"{name}: expected a list of members, got {type(data).__name__}")
    return data


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _coordinate(value, where):
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DataError(f"{where}: bad coordinate {value!r}") from None


def district_offices_import(members: Iterable[dict]) -> DistrictOfficeSummary:
    """Upsert every office keyed by its id (`<bioguide>-<city>`), all or nothing.

    Offices of members who are not imported are skipped (counted); offices that left the file
    are removed, so running it again with the same file changes nothing.
    """
    legislators = dict(Legislator.objects.values_list("bioguide_id", "pk"))
    wanted: dict[str, dict] = {}
    summary = DistrictOfficeSummary()
    for index, member in enumerate(members):
        if not isinstance(member, dict):
            raise DataError(f"record {index + 1}: expected a mapping")
        bioguide_id = (member.get("id") or {}).get("bioguide")
        where = f"record {index + 1} ({bioguide_id or 'no bioguide id'})"
        if not bioguide_id:
            raise DataError(f"{where}: no bioguide id")
        if bioguide_id not in legislators:
            summary.unknown_legislators += 1
            continue
        for number, office in enumerate(member.get("offices") or [], start=1):
            office_where = f"{where}, office {number}"
            office_id = _text(office.get("id"))
            if not office_id:
                raise DataError(f"{office_where}: no id")
            if office_id in wanted:
                raise DataError(f"{office_where}: id {office_id} appears twice")
            state = _text(office.get("state"))
            if state not in states.ALL:
                raise DataError(f"{office_where} ({office_id}): unknown state {state!r}")
            if not _text(office.get("city")):
                raise DataError(f"{office_where} ({office_id}): no city")
            wanted[office_id] = {
                "legislator_id": legislators[bioguide_id],
                "address": _text(office.get("address"))[:300],
                "suite": _text(office.get("suite"))[:100],
                "building": _text(office.get("building"))[:200],
                "city": _text(office.get("city"))[:100],
                "state": state,
                "zip_code": _text(office.get("zip"))[:10],
                "latitude": _coordinate(office.get("latitude"), office_where),
                "longitude": _coordinate(office.get("longitude"), office_where),
                "phone": _text(office.get("phone"))[:30],
            }

    with transaction.atomic():
        existing = {o.office_id: o for o in DistrictOffice.objects.all()}
        to_create, to_update = [], []
        for office_id, values in wanted.items():
            office = existing.get(office_id)
            if office is None:
                to_create.append(DistrictOffice(office_id=office_id, **values))
            elif any(getattr(office, k) != v for k, v in values.items()):
                for key, value in values.items():
                    setattr(office, key, value)
                to_update.append(office)
            else:
                summary.unchanged += 1
        DistrictOffice.objects.bulk_create(to_create, batch_size=1000)
        DistrictOffice.objects.bulk_update(to_update, OFFICE_FIELDS, batch_size=1000)
        summary.created, summary.updated = len(to_create), len(to_update)
        summary.removed, _ = DistrictOffice.objects.exclude(office_id__in=list(wanted)).delete()
    return summary


def _zip5(value: str) -> str:
    digits = "".join(ch for ch in (value or "")[:5] if ch.isdigit())
    return digits if len(digits) == 5 else ""


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def nearest_office(offices: Iterable[DistrictOffice], zip_code: str) -> DistrictOffice | None:
    """The office nearest a constituent's ZIP code, among `offices` (one member's), with a
    phone number.

    There are no ZIP coordinates in our data, so "nearest" is a heuristic on the ZIP codes
    themselves, which USPS assigns by area: the first digit is a group of states, the first
    three a sectional center (a region around one mail hub), all five a delivery area. The
    office whose ZIP shares the longest prefix with the constituent's wins (same delivery area,
    then same sectional center, ...); a tie goes to the smaller numeric difference between the
    two ZIP codes (neighbouring numbers are usually, not always, neighbouring places), then to
    the office id, so the answer is stable. Offices without a usable ZIP come last. Without a
    usable constituent ZIP, the first office with a phone (by city) is returned.
    """
    candidates = [o for o in offices if o.phone]
    if not candidates:
        return None
    target = _zip5(zip_code)

    def rank(office):
        theirs = _zip5(office.zip_code)
        if not target or not theirs:
            return (1, 0, 0, office.city, office.office_id)
        return (
            0,
            -_common_prefix(target, theirs),
            abs(int(target) - int(theirs)),
            "",
            office.office_id,
        )

    return min(candidates, key=rank)
