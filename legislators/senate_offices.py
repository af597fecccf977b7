"""The Senate's CWC active-offices list: which seats' offices take CWC messages now.

The list (`GET {SCWC}/api/active_offices`) is a JSON list of entries like
`{"name": "Alex Padilla [bioguide_id: P000145]", "office_code": "SCA03"}`; an object with the
list under "offices" is read too. Office codes name the seat: S + state + 0 + senate class.
An import is all or nothing: one bad entry, and nothing changes."""

import json
import re
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from . import states
from .importers import DataError, read_source, senate_seat_code
from .models import SenateCwcOffice

OFFICE_CODE = re.compile(r"S(?P<state>[A-Z]{2})0(?P<senate_class>[1-3])")
_BIOGUIDE_IN_NAME = re.compile(r"\s*\[bioguide_id:\s*(?P<bioguide>[A-Z][0-9]{6})\s*\]\s*$")
MAX_BYTES = 1_000_000  # the real list is a few kilobytes
FETCH_TIMEOUT = 30.0  # seconds


seat_code = senate_seat_code  # the Senate CWC office code of a seat


def is_senate_code(code: str) -> bool:
    return bool(OFFICE_CODE.fullmatch(code or ""))


def listed_codes() -> frozenset[str]:
    """The seats on the latest list imported."""
    return frozenset(
        SenateCwcOffice.objects.filter(listed=True).values_list("office_code", flat=True)
    )


@dataclass(frozen=True)
class Entry:
    office_code: str
    name: str
    bioguide_id: str


@dataclass
class Summary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    delisted: int = 0  # on an earlier list, not on this one
    listed: int = 0  # on this list

    def __str__(self):
        return (
            f"{self.listed} offices listed: {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.delisted} no longer listed"
        )


def parse(raw: bytes, *, name: str = "source") -> list[Entry]:
    """Every entry of the list, checked; DataError names the first bad one."""
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{name}: not valid JSON ({exc})") from exc
    if isinstance(data, dict) and "offices" in data:
        data = data["offices"]
    if not isinstance(data, list):
        raise DataError(f"{name}: expected a list of offices, got {type(data).__name__}")
    entries, seen = [], {}
    for index, raw_entry in enumerate(data):
        entry = _entry(raw_entry, where=f"{name}: entry {index}")
        if entry.office_code in seen:
            raise DataError(
                f"{name}: entry {index}: office_code {entry.office_code} repeats entry "
                f"{seen[entry.office_code]}"
            )
        seen[entry.office_code] = index
        entries.append(entry)
    return entries


def _entry(raw, *, where: str) -> Entry:
    if not isinstance(raw, dict):
        raise DataError(f"{where}: expected an object, got {type(raw).__name__}")
    code, name = raw.get("office_code"), raw.get("name", "")
    if not isinstance(code, str) or not (match := OFFICE_CODE.fullmatch(code.strip())):
        raise DataError(
            f"{where}: office_code {code!r} is not S + state + 0 + senate class (e.g. SCA03)"
        )
    code = code.strip()
    if match["state"] not in states.STATES:
        raise DataError(f"{where}: office_code {code}: no state {match['state']}")
    if not isinstance(name, str):
        raise DataError(f"{where} ({code}): name must be text")
    found = _BIOGUIDE_IN_NAME.search(name)
    bioguide = found["bioguide"] if found else ""
    return Entry(code, name.strip()[:200], bioguide)


def offices_import(entries: Iterable[Entry], *, dry_run: bool = False, now=None) -> Summary:
    """Make the table match the list: add and update its offices, unlist the others. With
    `dry_run`, count what would change and change nothing."""
    now = now or timezone.now()
    entries = list(entries)
    summary = Summary(listed=len(entries))
    with transaction.atomic():
        existing = {o.office_code: o for o in SenateCwcOffice.objects.select_for_update()}
        for entry in entries:
            office = existing.get(entry.office_code)
            values = {"name": entry.name, "bioguide_id": entry.bioguide_id, "listed": True}
            if office is None:
                summary.added += 1
                if not dry_run:
                    SenateCwcOffice.objects.create(
                        office_code=entry.office_code, refreshed_at=now, **values
                    )
                continue
            changed = any(getattr(office, field) != value for field, value in values.items())
            summary.updated += changed
            summary.unchanged += not changed
            if not dry_run:
                SenateCwcOffice.objects.filter(pk=office.pk).update(refreshed_at=now, **values)
        dropped = SenateCwcOffice.objects.filter(listed=True).exclude(
            office_code__in=[entry.office_code for entry in entries]
        )
        summary.delisted = dropped.count()
        if not dry_run:
            dropped.update(listed=False, refreshed_at=now)
    return summary


def read(source: str | Path) -> bytes:
    """The list's bytes from a local path or an http(s) URL (as the importers read them, with
    a timeout), refused above MAX_BYTES: a URL is read no further than that."""
    text = str(source)
    if urllib.parse.urlsplit(text).scheme in {"http", "https"}:
        headers = {"User-Agent": "action-alerts importer"}
        request = urllib.request.Request(text, headers=headers)  # noqa: S310 (scheme checked)
        try:
            with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:  # noqa: S310
                raw = response.read(MAX_BYTES + 1)
        except (OSError, ValueError) as exc:  # URLError and HTTPError are OSErrors
            raise DataError(f"{text}: {exc}") from exc
    else:
        raw = read_source(text)
    if len(raw) > MAX_BYTES:
        raise DataError(f"{text}: larger than {MAX_BYTES} bytes, not an active-offices list")
    return raw


def refresh(source: str | Path, *, dry_run: bool = False) -> Summary:
    """Read, check and import the list at `source` (a path or an http(s) URL)."""
    name = str(source)
    return offices_import(parse(read(source), name=name), dry_run=dry_run)
