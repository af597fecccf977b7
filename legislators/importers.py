"""Importers for the public data sets: congress-legislators (YAML/JSON), executive.yaml, and the
ZCTA → congressional district CSV. Each runs in one transaction: a bad record changes nothing."""

import csv
import datetime as dt
import io
import json
import re
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.db import transaction
from django.db.models import Q

from . import states
from .models import Chamber, Legislator, Official, Term, ZipDistrict

PARTIES = {"Democrat": "D", "Republican": "R", "Independent": "I", "Libertarian": "L"}
CHAMBERS = {"rep": Chamber.HOUSE, "sen": Chamber.SENATE}
SENATE_CONTACT_FALLBACK = "https://www.senate.gov/senators/senators-contact.htm"
WHITE_HOUSE_CONTACT = "https://www.whitehouse.gov/contact/"

Progress = Callable[[str], None]


class DataError(Exception):
    """The source is malformed; the message names the record at fault."""


def read_source(source: str | Path, *, timeout: float = 60.0) -> bytes:
    """The bytes of a local path or an http(s) URL."""
    text = str(source)
    scheme = urllib.parse.urlsplit(text).scheme
    if scheme in {"http", "https"}:
        # The scheme is checked above, so urlopen cannot be steered to file:// or ftp://.
        headers = {"User-Agent": "action-alerts importer"}
        request = urllib.request.Request(text, headers=headers)  # noqa: S310
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.read()
    if scheme and len(scheme) > 1:
        raise DataError(f"{text}: only local paths and http(s) URLs can be read")
    try:
        return Path(text).read_bytes()
    except OSError as exc:
        raise DataError(f"{text}: {exc.strerror}") from exc


def parse_people(raw: bytes, *, name: str = "source") -> list[dict]:
    """congress-legislators people, from JSON or YAML (told apart by the first character)."""
    text = raw.decode("utf-8-sig")
    try:
        if text.lstrip()[:1] in {"[", "{"}:
            people = json.loads(text)
        else:
            people = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 (safe loader)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise DataError(f"{name}: not valid YAML or JSON ({exc})") from exc
    if not isinstance(people, list):
        raise DataError(f"{name}: expected a list of people, got {type(people).__name__}")
    return people


# --- Legislators ----------------------------------------------------------------------------


@dataclass
class LegislatorSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    left_office: int = 0
    terms_created: int = 0
    terms_updated: int = 0

    def __str__(self):
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.left_office} left office; terms: {self.terms_created} created, "
            f"{self.terms_updated} updated"
        )


@dataclass
class _Person:
    bioguide_id: str
    fields: dict
    terms: list[dict] = field(default_factory=list)


def cwc_office_code(*, chamber: str, state: str, district: int | None, senate_class: int | None):
    """House: H + state + 2-digit district (at-large 00). Senate: the seat, S + state + 0 +
    class (SCA03 is California's class-3 seat), as the Senate's CWC names it."""
    if chamber == Chamber.HOUSE:
        return f"H{state}{district:02d}"
    return senate_seat_code(state=state, senate_class=senate_class)


def senate_seat_code(*, state: str, senate_class: int) -> str:
    """S + state + 0 + class: California's class-3 seat is SCA03."""
    return f"S{state}0{senate_class}"


def _date(value, where):
    try:
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    except ValueError:
        raise DataError(f"{where}: bad date {value!r}") from None


def _person(index: int, raw: dict) -> _Person:
    if not isinstance(raw, dict):
        raise DataError(f"record {index + 1}: expected a mapping")
    name = raw.get("name") or {}
    label = name.get("official_full") or " ".join(
        filter(None, [name.get("first"), name.get("last")])
    )
    bioguide_id = (raw.get("id") or {}).get("bioguide")
    where = f"record {index + 1} ({label or 'no name'})"
    if not bioguide_id:
        raise DataError(f"{where}: no bioguide id")
    where = f"record {index + 1} ({bioguide_id}, {label})"
    if not name.get("first") or not name.get("last"):
        raise DataError(f"{where}: first and last name are required")
    raw_terms = raw.get("terms") or []
    if not raw_terms:
        raise DataError(f"{where}: no terms")

    terms = []
    for number, term in enumerate(raw_terms, start=1):
        term_where = f"{where}, term {number}"
        chamber = CHAMBERS.get(term.get("type"))
        if chamber is None:
            raise DataError(f"{term_where}: unknown term type {term.get('type')!r}")
        state = term.get("state")
        if state not in states.ALL:
            raise DataError(f"{term_where}: unknown state {state!r}")
        district = term.get("district") if chamber == Chamber.HOUSE else None
        if chamber == Chamber.HOUSE and not isinstance(district, int):
            raise DataError(f"{term_where}: House term without a district")
        if chamber == Chamber.HOUSE:
            district = max(district, 0)  # the data's -1 (an at-large seat, historically) is 0
        senate_class = term.get("class") if chamber == Chamber.SENATE else None
        if chamber == Chamber.SENATE and senate_class not in {1, 2, 3}:
            raise DataError(f"{term_where}: Senate term without a class")
        terms.append(
            {
                "chamber": chamber,
                "state": state,
                "district": district,
                "senate_class": senate_class,
                "party": PARTIES.get(term.get("party"), ""),
                "start": _date(term.get("start"), term_where),
                "end": _date(term.get("end"), term_where),
                "_raw": term,
            }
        )

    last = terms[-1]
    if not last["party"]:
        raise DataError(f"{where}: unknown party {last['_raw'].get('party')!r}")
    contact = last["_raw"]
    fields = {
        "first_name": name["first"],
        "middle_name": name.get("middle") or "",
        "last_name": name["last"],
        "suffix": name.get("suffix") or "",
        "nickname": name.get("nickname") or "",
        "official_full_name": name.get("official_full") or "",
        "party": last["party"],
        "state": last["state"],
        "chamber": last["chamber"],
        "district": last["district"],
        "senate_class": last["senate_class"],
        "phone": contact.get("phone") or "",
        "office_address": contact.get("address") or "",
        "contact_form_url": contact.get("contact_form") or "",
        "website": contact.get("url") or "",
        "cwc_office_code": cwc_office_code(
            chamber=last["chamber"],
            state=last["state"],
            district=last["district"],
            senate_class=last["senate_class"],
        ),
    }
    return _Person(bioguide_id=bioguide_id, fields=fields, terms=terms)


def legislators_import(
    people: Iterable[dict], *, historical: bool = False, progress: Progress | None = None
) -> LegislatorSummary:
    """Upsert people and all their terms, keyed by bioguide id.

    A "current" file (the default) also decides who is in office: everyone in it is, and anyone
    missing from it has left (kept, with their terms and cosignatures). A `historical` file
    (an older snapshot) only adds people and terms that are not known yet, and never changes who
    is in office or anyone's present seat.
    """
    parsed = [_person(index, raw) for index, raw in enumerate(people)]
    seen = {}
    for person in parsed:
        if person.bioguide_id in seen:
            raise DataError(f"{person.bioguide_id}: appears twice in the source")
        seen[person.bioguide_id] = person

    summary = LegislatorSummary()
    with transaction.atomic():
        existing = {leg.bioguide_id: leg for leg in Legislator.objects.all()}
        to_create, to_update = [], []
        for count, person in enumerate(parsed, start=1):
            legislator = existing.get(person.bioguide_id)
            if legislator is None:
                legislator = Legislator(
                    bioguide_id=person.bioguide_id, in_office=not historical, **person.fields
                )
                to_create.append(legislator)
                existing[person.bioguide_id] = legislator
                summary.created += 1
            elif historical:
                summary.unchanged += 1
            else:
                wanted = {**person.fields, "in_office": True}
                changed = [k for k, v in wanted.items() if getattr(legislator, k) != v]
                for key in changed:
                    setattr(legislator, key, wanted[key])
                if changed:
                    to_update.append(legislator)
                    summary.updated += 1
                else:
                    summary.unchanged += 1
            if progress and count % 100 == 0:
                progress(f"{count}/{len(parsed)} people read")
        Legislator.objects.bulk_create(to_create, batch_size=500)
        update_fields = [*parsed[0].fields, "in_office", "updated_at"] if parsed else []
        Legislator.objects.bulk_update(to_update, update_fields, batch_size=500)

        if not historical:
            leaving = Legislator.objects.in_office().exclude(bioguide_id__in=seen)
            summary.left_office = leaving.update(in_office=False)

        _import_terms(parsed, existing, summary, add_only=historical)
        officials_sync()
    return summary


TERM_FIELDS = ("state", "district", "senate_class", "party", "end")


def _import_terms(parsed, legislators, summary, *, add_only):
    ids = [legislators[p.bioguide_id].pk for p in parsed]
    known = {
        (term.legislator_id, term.chamber, term.start): term
        for term in Term.objects.filter(legislator_id__in=ids)
    }
    to_create, to_update = [], []
    for person in parsed:
        legislator = legislators[person.bioguide_id]
        for data in person.terms:
            values = {k: data[k] for k in TERM_FIELDS}
            term = known.get((legislator.pk, data["chamber"], data["start"]))
            if term is None:
                to_create.append(
                    Term(
                        legislator=legislator,
                        chamber=data["chamber"],
                        start=data["start"],
                        **values,
                    )
                )
            elif not add_only and any(getattr(term, k) != v for k, v in values.items()):
                for key, value in values.items():
                    setattr(term, key, value)
                to_update.append(term)
    Term.objects.bulk_create(to_create, batch_size=1000)
    Term.objects.bulk_update(to_update, TERM_FIELDS, batch_size=1000)
    summary.terms_created += len(to_create)
    summary.terms_updated += len(to_update)


def _official_values(legislator: Legislator) -> dict:
    house = legislator.chamber == Chamber.HOUSE
    return {
        "kind": Official.Kind.LEGISLATOR,
        "channel": Official.Channel.CWC if house else Official.Channel.CONTACT_FORM,
        "cwc_office": legislator.cwc_office_code,
        "title": legislator.title,
        "name": legislator.display_name,
        "last_name": legislator.last_name,
        "contact_form_url": legislator.contact_form_url
        or legislator.website
        or SENATE_CONTACT_FALLBACK,
        "is_active": legislator.in_office,
        "email": "",
        "webhook_url": "",
    }


def officials_sync() -> None:
    """Every sitting legislator is a deliverable Official; those who left stay, inactive.

    House members are reached through CWC; senators through their contact forms until a
    Senate channel is configured.
    """
    officials = {o.legislator_id: o for o in Official.objects.filter(legislator__isnull=False)}
    to_create, to_update = [], []
    fields = None
    for legislator in Legislator.objects.filter(Q(in_office=True) | Q(pk__in=officials)):
        values = _official_values(legislator)
        fields = list(values)
        official = officials.get(legislator.pk)
        if official is None:
            to_create.append(
                Official(key=legislator.bioguide_id.lower(), legislator=legislator, **values)
            )
        elif any(getattr(official, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(official, key, value)
            to_update.append(official)
    Official.objects.bulk_create(to_create, batch_size=500)
    if to_update:
        Official.objects.bulk_update(to_update, fields, batch_size=500)


# --- Executive officials --------------------------------------------------------------------

EXECUTIVE_OFFICES = {
    "prez": ("us-president", "President"),
    "viceprez": ("us-vice-president", "Vice President"),
}
OFFICIAL_FILE_KEYS = {"key", "title", "name", "last_name", "channel"}


def executive_import(
    people: Iterable[dict], *, on: dt.date, today: dt.date | None = None
) -> list[Official]:
    """The President and Vice President serving `on` a day, from executive.yaml.

    A holder whose term covers `today` (default: the real today) counts as verified today: the
    file says who holds the office now. A holder found for another day is imported unverified,
    so messages address the office alone (alerts.messages.holder_is_current).
    """
    from django.utils import timezone

    today = today or timezone.localdate()
    holders = {}
    for index, person in enumerate(people):
        name = person.get("name") or {}
        for term in person.get("terms") or []:
            if term.get("type") not in EXECUTIVE_OFFICES:
                continue
            where = f"record {index + 1} ({name.get('official_full') or name.get('last')})"
            start, end = _date(term.get("start"), where), _date(term.get("end"), where)
            if start <= on < end:
                holders[term["type"]] = (name, start <= today < end)
    missing = set(EXECUTIVE_OFFICES) - set(holders)
    if missing:
        raise DataError(f"nobody holds {', '.join(sorted(missing))} on {on}")
    officials = []
    with transaction.atomic():
        for office, (name, current) in holders.items():
            key, title = EXECUTIVE_OFFICES[office]
            official, _ = Official.objects.update_or_create(
                key=key,
                defaults={
                    "kind": Official.Kind.EXECUTIVE,
                    "title": title,
                    "name": name.get("official_full") or f"{name['first']} {name['last']}",
                    "last_name": name["last"],
                    # Used only while the holder is verified (alerts.messages.salutation_for).
                    "salutation": f"Dear {title} {name['last']}",
                    "channel": Official.Channel.CONTACT_FORM,
                    "contact_form_url": WHITE_HOUSE_CONTACT,
                    "holder_verified_on": today if current else None,
                    "is_active": True,
                },
            )
            officials.append(official)
    return officials


OFFICIAL_FILE_OPTIONAL = {
    "email",
    "contact_form_url",
    "webhook_url",
    "phone",
    "verified_on",
    "salutation",
}


def executive_officials_import(entries: Iterable[dict]) -> list[Official]:
    """Other executive officials (a Secretary, an Ambassador) from a short YAML list; see
    ADMIN.md for the format. `verified_on: YYYY-MM-DD` says when someone last checked that the
    holder named still holds the office; without it the holder is unverified and messages
    address the office alone. `salutation` ("Dear Secretary Rubio"): without it the office's
    is kept, and an entry naming a new holder while that salutation names the previous one is
    refused. Validated like the admin form, all or nothing."""
    from django.core.exceptions import ValidationError

    officials = []
    with transaction.atomic():
        for index, entry in enumerate(entries):
            where = f"entry {index + 1} ({entry.get('key', 'no key')})"
            missing = OFFICIAL_FILE_KEYS - set(entry)
            if missing:
                raise DataError(f"{where}: missing {', '.join(sorted(missing))}")
            unknown = set(entry) - OFFICIAL_FILE_KEYS - OFFICIAL_FILE_OPTIONAL
            if unknown:
                raise DataError(f"{where}: unknown field {', '.join(sorted(unknown))}")
            entry = dict(entry)
            verified_on = entry.pop("verified_on", None)
            official = Official.objects.filter(key=entry["key"]).first() or Official(
                key=entry["key"]
            )
            for key, value in entry.items():
                setattr(official, key, value)
            official.holder_verified_on = (
                _date(verified_on, f"{where}, verified_on") if verified_on else None
            )
            official.kind = Official.Kind.EXECUTIVE
            official.is_active = True
            try:
                official.full_clean()
            except ValidationError as exc:
                raise DataError(f"{where}: {exc.messages}") from exc
            official.save()
            officials.append(official)
    return officials


# --- ZIP → district -------------------------------------------------------------------------

ZIP_COLUMNS = {"state_abbr", "zcta", "cd"}
ZCTA_RE = re.compile(r"^\d{5}$")


@dataclass
class ZipSummary:
    rows: int
    zip_codes: int
    split_zip_codes: int
    replaced: int

    def __str__(self):
        return (
            f"{self.rows} rows for {self.zip_codes} ZIP codes "
            f"({self.split_zip_codes} in more than one district); {self.replaced} old rows replaced"
        )


def zip_districts_import(raw: bytes, *, congress: int, name: str = "source") -> ZipSummary:
    """Replace one Congress's ZIP → district rows. ZIPs are kept as strings: 00601 stays 00601."""
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
    if not reader.fieldnames or not set(reader.fieldnames) >= ZIP_COLUMNS:
        raise DataError(f"{name}: expected columns {', '.join(sorted(ZIP_COLUMNS))}")
    rows, seen = [], set()
    for line, row in enumerate(reader, start=2):
        zip_code, state, cd = row["zcta"], row["state_abbr"], row["cd"]
        if not ZCTA_RE.match(zip_code or ""):
            raise DataError(f"{name}, line {line}: bad ZIP {zip_code!r}")
        if state not in states.ALL:
            raise DataError(f"{name}, line {line}: unknown state {state!r}")
        if not (cd or "").isdigit():
            raise DataError(f"{name}, line {line}: bad district {cd!r}")
        key = (zip_code, state, int(cd))
        if key not in seen:
            seen.add(key)
            rows.append(
                ZipDistrict(congress=congress, zip_code=zip_code, state=state, district=int(cd))
            )
    per_zip: dict[str, int] = {}
    for zip_code, _, _ in seen:
        per_zip[zip_code] = per_zip.get(zip_code, 0) + 1
    with transaction.atomic():
        replaced, _ = ZipDistrict.objects.filter(congress=congress).delete()
        ZipDistrict.objects.bulk_create(rows, batch_size=5000)
    return ZipSummary(
        rows=len(rows),
        zip_codes=len(per_zip),
        split_zip_codes=sum(1 for n in per_zip.values() if n > 1),
        replaced=replaced,
    )
