"""Actions as CSV, streamed: one query over a server-side cursor, rows written as they come, so a
campaign of a million actions costs the web worker the same memory as one of ten.

Each row is one action: who the constituent is, the congressional district of the
representative they wrote to, whom they wrote to (as addressed then), where they came from, when
they acted and confirmed, and whether they asked to be kept informed. The officials and the
district are aggregated in the same statement, not a query per row."""

import csv
import io
from collections.abc import Iterator

from django.contrib.postgres.aggregates import StringAgg
from django.db import connections, transaction
from django.db.models import Aggregate, Case, CharField, Max, QuerySet, Value, When
from django.db.models.functions import Cast, Concat, LPad, Trim

from legislators.models import Chamber

from .models import Action

# (heading, the value's name in the query)
COLUMNS = (
    ("first name", "first_name"),
    ("last name", "last_name"),
    ("email", "email"),
    ("street", "street"),
    ("city", "city"),
    ("state", "state"),
    ("ZIP code", "zip_code"),
    ("congressional district", "export_district"),
    ("officials written", "export_officials"),
    ("source", "source"),
    ("referral code", "referral_code"),
    ("referred by", "referred_by__referral_code"),
    ("created (UTC)", "export_created_at"),
    ("confirmed (UTC)", "export_confirmed_at"),
    ("keep me informed", "keep_informed"),
    ("keep me informed: wording agreed to", "keep_informed_text"),
)
HEADER = tuple(heading for heading, _ in COLUMNS)
OFFICIALS_SEPARATOR = "; "
# What the constituent typed, and codes that may begin with "-": a cell of it that a
# spreadsheet would take for a formula ("=HYPERLINK(...)") gets a leading apostrophe, as OWASP
# advises for CSV downloads.
TYPED = frozenset(
    {"first_name", "last_name", "email", "street", "city", "source", "referral_code"}
    | {"referred_by__referral_code"}
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

CHUNK_ROWS = 2000  # rows fetched from the cursor at a time
FLUSH_BYTES = 64 * 1024  # bytes written before a piece is handed to the response


class _GroupConcat(Aggregate):
    """SQLite's group_concat (the default mode's database): PostgreSQL uses string_agg."""

    function = "GROUP_CONCAT"
    output_field = CharField()


def _addressed_as():
    """A delivery's official as the message addressed them (`selectors.addressed_as`): the
    title and holder kept on the delivery, or the office as it is for deliveries made before
    those were kept."""
    return Case(
        When(
            deliveries__addressed_title="",
            then=Trim(
                Concat("deliveries__official__title", Value(" "), "deliveries__official__name")
            ),
        ),
        default=Trim(
            Concat("deliveries__addressed_title", Value(" "), "deliveries__addressed_name")
        ),
        output_field=CharField(),
    )


def _officials_written(vendor: str) -> Aggregate:
    names = _addressed_as()
    if vendor == "postgresql":
        return StringAgg(names, delimiter=OFFICIALS_SEPARATOR, order_by=names, default="")
    return _GroupConcat(names, Value(OFFICIALS_SEPARATOR), default="")


def _district_written() -> Aggregate:
    """The House seat ("CA-30", "WY-AL") of the representative the action wrote to; empty when
    it wrote to none. The dashboard counts districts the same way (`reports`)."""
    legislator = "deliveries__official__legislator"
    state, district = f"{legislator}__state", f"{legislator}__district"
    seat = Case(
        When(**{district: 0}, then=Concat(state, Value("-AL"))),
        default=Concat(
            state, Value("-"), LPad(Cast(district, output_field=CharField()), 2, Value("0"))
        ),
        output_field=CharField(),
    )
    return Max(
        Case(When(**{f"{legislator}__chamber": Chamber.HOUSE}, then=seat)),
        default="",
        output_field=CharField(),
    )


def actions_to_export(
    *,
    campaign_id: int | None = None,
    keep_informed: bool | None = None,
    confirmed: bool | None = None,
    actions: QuerySet | None = None,
) -> QuerySet:
    """The actions an export covers, oldest first: `actions` (an admin selection) or all, then
    narrowed to a campaign, to those who asked to be kept informed (or not), confirmed (or
    not)."""
    chosen = Action.objects.all()
    if actions is not None:
        # Only which actions: the selection's own annotations and ordering stay behind.
        chosen = chosen.filter(pk__in=actions.order_by().values("pk"))
    if campaign_id is not None:
        chosen = chosen.filter(campaign_id=campaign_id)
    if keep_informed is not None:
        chosen = chosen.filter(keep_informed=keep_informed)
    if confirmed is not None:
        chosen = chosen.filter(confirmed_at__isnull=not confirmed)
    return chosen.order_by("pk")


def export_rows(actions: QuerySet) -> QuerySet:
    """One tuple per action, the values of `COLUMNS` in order, from one statement: the actions
    joined to their deliveries (and those to their officials) and grouped, which PostgreSQL
    runs as a merge of the two primary-key-ordered indexes, streaming, for a cursor."""
    vendor = connections[actions.db].vendor
    return actions.annotate(
        export_officials=_officials_written(vendor),
        export_district=_district_written(),
        # As text, cut to the second below: the connection's time zone is UTC, and parsing a
        # million datetimes in Python would cost more than the rest of a row.
        export_created_at=Cast("created_at", output_field=CharField()),
        export_confirmed_at=Cast("confirmed_at", output_field=CharField()),
    ).values_list(*(name for _, name in COLUMNS))


def _cell_writers():
    """A row's cells as written: typed text guarded, times in UTC to the second, the consent as
    yes or no (None is written empty by the csv module)."""
    names = [name for _, name in COLUMNS]
    typed = [index for index, name in enumerate(names) if name in TYPED]
    times = [index for index, name in enumerate(names) if name.endswith("_at")]
    flag = names.index("keep_informed")

    def cells(row: tuple) -> list:
        values = list(row)
        for index in typed:
            if values[index] and values[index].startswith(FORMULA_STARTS):
                values[index] = "'" + values[index]
        for index in times:
            if values[index] is not None:
                values[index] = values[index][:19]  # 2026-12-05 13:28:42
        values[flag] = "yes" if values[flag] else "no"
        return values

    return cells


class ActionsCsv:
    """Iterating gives the CSV (UTF-8, with the byte-order mark spreadsheets look for) in pieces
    of about `FLUSH_BYTES`; `rows` counts the actions written so far.

    On PostgreSQL the rows come through a server-side cursor inside a transaction of its own:
    Django's cursor outside a transaction is WITH HOLD, which makes PostgreSQL compute the whole
    result before the first row; inside one, rows leave as the query produces them. The
    transaction only reads. Elsewhere (SQLite, whose transactions here take the write lock) the
    rows are fetched in chunks without one."""

    def __init__(self, actions: QuerySet):
        self.actions = actions
        self.rows = 0

    def __iter__(self) -> Iterator[bytes]:
        connection = connections[self.actions.db]
        if connection.vendor == "postgresql":
            with transaction.atomic(using=self.actions.db):
                with connection.cursor() as cursor:
                    # Compiling the query to machine code costs more than it saves here, and
                    # delays the first row by a second or two.
                    cursor.execute("SET LOCAL jit = off")
                yield from self._pieces()
        else:
            yield from self._pieces()

    def _pieces(self) -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow(HEADER)
        cells = _cell_writers()
        for row in export_rows(self.actions).iterator(chunk_size=CHUNK_ROWS):
            writer.writerow(cells(row))
            self.rows += 1
            if buffer.tell() >= FLUSH_BYTES:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode()
