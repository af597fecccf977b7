"""Writes: every change to actions and deliveries goes through a function here."""

import datetime as dt
import functools
import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from legislators import contact_forms
from legislators.models import ContactForm, Official

from . import tasks
from .delivery import engine, routing
from .lifecycle import (  # noqa: F401 - the admin's door to the campaign lifecycle
    CampaignMoveRefused,
    campaign_status_set,
    campaigns_advance,
)
from .messages import ComposedMessage, message_compose, variant_for
from .models import (
    Action,
    ActionCount,
    Call,
    Campaign,
    Cosignature,
    Delivery,
    ExportLog,
    Letter,
    PolicyAsk,
)

REPEAT_WINDOW = dt.timedelta(hours=24)


@dataclass(frozen=True)
class Submitted:
    action: Action
    created: bool  # False when this form token had already been submitted


def campaign_topic(campaign: Campaign) -> str:
    """The topic offices' web forms are given: the campaign's own, else its CWC policy area."""
    return campaign.topic or campaign.cwc_topic


def officials_reach(*, officials, campaign: Campaign | None = None) -> dict[int, routing.Reach]:
    """How each official is reached now (for this campaign's topic, when one is given)."""
    topic = campaign_topic(campaign) if campaign is not None else ""
    return routing.reaches(officials=officials, topic=topic)


def web_form_topic_mapping(*, campaign: Campaign) -> list[tuple[Official, str | None]]:
    """For each office whose web form asks a topic: the option this campaign's topic is given
    as (None: nothing fits, and constituents send to that office themselves)."""
    topic = campaign_topic(campaign)
    rows = []
    for form in ContactForm.objects.select_related("official").order_by("official__title"):
        offered = contact_forms.topic_options(form.definition)
        if offered:
            rows.append((form.official, contact_forms.best_match(topic, offered)))
    return rows


def questions_of(ways) -> frozenset[str]:
    """What these ways to offices need the constituent to answer (see routing.Reach.asks)."""
    return frozenset().union(*(way.asks for way in ways))


def campaign_cosigner_ids(campaign: Campaign) -> set[int]:
    """Legislators who signed any of the campaign's letters: they get the thank variant."""
    return set(campaign.letters.values_list("cosignatures__legislator_id", flat=True)) - {None}


def campaign_wording(campaign: Campaign) -> tuple[set[int], list]:
    """What the messages of this campaign are composed from, beside the constituent's words:
    its cosigners (who get the thank variant) and its asks."""
    return campaign_cosigner_ids(campaign), list(campaign.asks.all())


def messages_compose(
    *, campaign, officials, subject, message, sender, wording=None
) -> list[ComposedMessage]:
    """What each official gets, in order, as the preview shows it and the delivery carries it:
    the variant from the campaign's letters, its asks read once (`wording`: the campaign's
    `campaign_wording`, when the caller has it)."""
    cosigner_ids, asks = wording if wording is not None else campaign_wording(campaign)
    today = timezone.localdate()
    return [
        message_compose(
            campaign=campaign,
            official=official,
            variant=variant_for(official, cosigner_ids=cosigner_ids),
            subject=subject,
            message=message,
            sender=sender,
            asks=asks,
            today=today,
        )
        for official in officials
    ]


def action_submit(
    *,
    campaign: Campaign,
    constituent: dict,
    subject: str,
    message: str,
    officials: Sequence[Official],
    consent_text: str,
    keep_informed_text: str = "",
    form_token: str | None = None,
    source: str = "",
    referral_code: str = "",
    ip_hash: str = "",
    pre_confirmed: bool = False,
    ways: dict[int, routing.Reach] | None = None,
    wording: tuple[set[int], list] | None = None,
) -> Submitted:
    """Store the action and one delivery per official, then queue them (or ask the constituent
    to confirm first) once that is committed.

    Nothing reaches the broker unless the rows exist, so a crash or a broker outage can delay a
    message but never lose the submission. A form token already used returns its action when
    this is the same submission sent again, and raises FormTokenUsed otherwise; an
    official this email wrote on this campaign in the last 24 hours is skipped.
    `keep_informed_text`: the separate keep-me-informed line as shown, if the constituent
    ticked it. `pre_confirmed` (operators' test blasts only) skips the confirmation email.
    `ways`: how each official is reached (`officials_reach`), when the caller already asked;
    `wording`: the campaign's `campaign_wording`, likewise.

    The same statements whatever the number of officials, none of them reading more rows as
    the campaign's actions grow (tests/alerts/test_submit_cost.py).
    """
    sender = {field: constituent[field] for field in Action.CONTACT_FIELDS}
    prefix = constituent.get("prefix", "")
    phone = constituent.get("phone", "")
    try:
        with transaction.atomic():
            action = Action(
                campaign=campaign,
                prefix=prefix,
                phone=phone,
                subject=subject,
                message=message,
                consent_text=consent_text,
                keep_informed=bool(keep_informed_text),
                keep_informed_text=keep_informed_text,
                form_token=form_token or None,
                source=source,
                referred_by=Action.objects.filter(
                    campaign=campaign, referral_code=referral_code
                ).first()
                if referral_code
                else None,
                ip_hash=ip_hash,
                confirmed_at=timezone.now() if pre_confirmed else None,
                **sender,
            )
            # The campaign and the referrer are rows just read: no query to check they exist.
            # The keep-me-informed check constraint is the INSERT's to enforce: validating it
            # here would cost a savepoint and a query.
            action.full_clean(
                exclude=["campaign", "referred_by"],
                validate_unique=False,
                validate_constraints=False,
            )
            # A token already used fails here, on its unique constraint (handled below).
            deliveries = _submission_write(
                action,
                _delivery_rows(action, officials, sender, ways=ways, wording=wording),
                confirmed=1 if pre_confirmed else 0,
            )
            if campaign.double_opt_in and not pre_confirmed:
                action_id = action.pk
                transaction.on_commit(lambda: tasks.enqueue(tasks.send_confirmation, action_id))
            else:
                queued = [d for d in deliveries if d["status"] == Delivery.Status.QUEUED]
                ids = [str(d["id"]) for d in queued]
                by_browser = [
                    str(d["id"]) for d in queued if d["channel"] == Official.Channel.WEB_FORM
                ]
                transaction.on_commit(
                    lambda: tasks.deliveries_enqueue(delivery_ids=ids, web_form_ids=by_browser)
                )
    except IntegrityError:
        if form_token and (done := Action.objects.filter(form_token=form_token).first()):
            if not _same_submission(
                done, campaign=campaign, sender=sender, subject=subject, message=message
            ):
                raise FormTokenUsed from None
            return Submitted(done, created=False)
        raise
    return Submitted(action, created=True)


class FormTokenUsed(Exception):
    """This form token was sent before with other details: a replay, or someone else at the
    same browser. Nothing of the first submission may be shown to them."""


def _same_submission(action: Action, *, campaign, sender, subject, message) -> bool:
    """Whether `action` is this very submission sent again (a double click, a reload): the
    same campaign, contact details, subject and words."""

    def details(values: dict) -> dict:
        return {**values, "email": values["email"].casefold()}

    stored = {name: getattr(action, name) for name in Action.CONTACT_FIELDS}
    return (
        action.campaign_id == campaign.pk
        and details(stored) == details(sender)
        and (action.subject, action.message) == (subject, message)
    )


def _submission_write(action: Action, rows: list[dict], *, confirmed: int) -> list[dict]:
    """Save the new action, add it to its campaign's count (`_count`) and write the delivery
    `rows` (`_delivery_rows`) of the officials this email did not write on this campaign in the
    last 24 hours; those it did are recorded as the action's skipped officials. Returns the rows
    written. Its constituent's lock (`_constituent_lock_key`) is held from before the 24-hour
    check to the end of the transaction, so two submissions of one email at once write each
    official once."""
    if connection.vendor == "postgresql":
        skipped = _submission_write_postgresql(action, rows, confirmed=confirmed)
        return [row for row in rows if row["official_id"] not in skipped]
    # SQLite serializes writers already: no lock to take.
    action.save()
    _count(action, actions=1, confirmed=confirmed)
    skipped = _recently_written(action.campaign, action.email, [row["official_id"] for row in rows])
    if skipped:
        action.skipped_officials.add(*skipped)
    written = [row for row in rows if row["official_id"] not in skipped]
    Delivery.objects.bulk_create([Delivery(action=action, **row) for row in written])
    return written


def _submission_write_postgresql(action: Action, rows: list[dict], *, confirmed: int) -> set[int]:
    """`_submission_write` in one round trip: BEGIN, the lock, and one statement that writes
    the rest, sent together in a pipeline. The statement's snapshot is taken once the lock is
    held, so its 24-hour check sees what a submission that held the lock before committed.

    Without the ORM's per-field conversions, which cost a blast's submit more than the
    statement does (bench/README.md): psycopg takes the action's values as they are, and the
    rows go as one JSON parameter. So the statement is the same for any number of officials,
    and short enough for psycopg to keep it parsed and PostgreSQL prepared. Returns the
    skipped officials' ids."""
    sql, attnames = _submission_sql()
    params = [
        *(getattr(action, name) for name in attnames),
        confirmed,
        json.dumps(rows, default=_json_value),
        action.email,
        action.campaign_id,
        timezone.now() - REPEAT_WINDOW,
        Delivery.Status.FAILED.value,
    ]
    lock = _constituent_lock_key(action.campaign, action.email)
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        connection.connection.pipeline(),
    ):
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock])
        cursor.execute(sql, params)
        action.pk, skipped = cursor.fetchone()
    action._state.adding = False
    action._state.db = connection.alias
    return set(skipped)


def _json_value(value):
    """The values of a delivery row that JSON has no type for, as PostgreSQL reads them. Not
    DjangoJSONEncoder's: it cuts times to milliseconds, where the columns keep microseconds."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a column value of a delivery row")


_LENGTH_RE = re.compile(r"\(\d+\)$")


@functools.cache
def _submission_sql() -> tuple[str, tuple[str, ...]]:
    """The statement of `_submission_write_postgresql`, and the action's attributes its first
    parameters take. After the action and its count, it reads the delivery rows from their
    JSON, checks which officials this email wrote on the campaign in the last 24 hours
    (`_recently_written_sql`), records those as the action's skipped officials and writes the
    others."""
    quote = connection.ops.quote_name
    fields = [f for f in Action._meta.concrete_fields if not f.primary_key]
    actions, columns, values = _insert_parts(Action, fields)
    counts = quote(ActionCount._meta.db_table)
    delivery_fields = _delivery_row_fields()
    delivery_columns = ", ".join(quote(f.column) for f in delivery_fields)
    # Read by attribute name, as `_delivery_rows` keys them. Without a length: a value too long
    # for its column is refused by the INSERT, not cut short.
    row_type = ", ".join(
        f"{quote(f.attname)} {_LENGTH_RE.sub('', f.db_type(connection))}" for f in delivery_fields
    )
    deliveries = quote(Delivery._meta.db_table)
    action_fk = quote(Delivery._meta.get_field("action").column)
    through = Action.skipped_officials.through._meta
    skipped = quote(through.db_table)
    skipped_action = quote(through.get_field("action").column)
    skipped_official = quote(through.get_field("official").column)
    # Only names and types are formatted in; every value is a parameter. The count's slot is
    # chosen by the new action's id, as `_count` does. The rows are read once, as json: jsonb's
    # parsed form would cost PostgreSQL a third more (bench/README.md).
    sql = (
        f"WITH inserted AS (INSERT INTO {actions} ({columns}) VALUES ({values}) "  # noqa: S608
        "RETURNING id, campaign_id), "
        f"counted AS (INSERT INTO {counts} (campaign_id, slot, actions, confirmed) "
        f"SELECT campaign_id, id %% {ActionCount.SLOTS}, 1, %s FROM inserted "
        f"{_count_added(counts)}), "
        f"offered AS (SELECT * FROM json_to_recordset(%s::json) AS row_({row_type})), "
        f"recent AS ({_recently_written_sql('SELECT official_id FROM offered')}), "
        f"skipped AS (INSERT INTO {skipped} ({skipped_action}, {skipped_official}) "
        "SELECT inserted.id, recent.official_id FROM inserted, recent "
        f"RETURNING {skipped_official} AS official_id), "
        f"written AS (INSERT INTO {deliveries} ({action_fk}, {delivery_columns}) "
        "SELECT inserted.id, offered.* FROM inserted, offered "
        "WHERE offered.official_id NOT IN (SELECT official_id FROM recent)) "
        "SELECT id, ARRAY(SELECT official_id FROM skipped) FROM inserted"
    )
    return sql, tuple(f.attname for f in fields)


def _insert_parts(model, fields) -> tuple[str, str, str]:
    """For an INSERT of `fields` into `model`'s table: the table, its columns and as many
    placeholders, each quoted or listed as the statement takes them."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    return quote(model._meta.db_table), columns, ", ".join(["%s"] * len(fields))


def _count_added(table: str) -> str:
    """The clause that adds to a slot's counts when the slot's row exists already."""
    return (
        "ON CONFLICT (campaign_id, slot) DO UPDATE SET "
        f"actions = {table}.actions + EXCLUDED.actions, "
        f"confirmed = {table}.confirmed + EXCLUDED.confirmed"
    )


def _count(action: Action, *, actions: int = 0, confirmed: int = 0) -> None:
    """Add to the action's campaign's maintained count (`ActionCount`), in the caller's
    transaction, on one of the campaign's slots (chosen by the action's id)."""
    _count_add(
        campaign_id=action.campaign_id,
        slot=action.pk % ActionCount.SLOTS,
        actions=actions,
        confirmed=confirmed,
    )


def _count_add(*, campaign_id: int, slot: int, actions: int, confirmed: int) -> None:
    """One statement: the slot's row is created on first use, else added to."""
    table = connection.ops.quote_name(ActionCount._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            # Only the table's own name is formatted in; the values are parameters.
            f"INSERT INTO {table} (campaign_id, slot, actions, confirmed) "  # noqa: S608
            f"VALUES (%s, %s, %s, %s) {_count_added(table)}",
            [campaign_id, slot, actions, confirmed],
        )


@transaction.atomic
def actions_delete(*, action_ids) -> int:
    """Delete these actions (their deliveries with them) and take them off their campaigns'
    counts. Returns how many actions were deleted."""
    ids = list(action_ids)
    # Locked first, so a confirmation racing the deletion is counted before or not at all.
    rows = (
        Action.objects.filter(pk__in=ids)
        .select_for_update()
        .values_list("campaign_id", "confirmed_at")
    )
    totals: dict[int, list[int]] = {}
    for campaign_id, confirmed_at in rows:
        counts = totals.setdefault(campaign_id, [0, 0])
        counts[0] += 1
        counts[1] += confirmed_at is not None
    for campaign_id, (n, confirmed) in totals.items():
        _count_add(campaign_id=campaign_id, slot=0, actions=-n, confirmed=-confirmed)
    _, deleted = Action.objects.filter(pk__in=ids).delete()
    return deleted.get(Action._meta.label, 0)


def _constituent_lock_key(campaign, email) -> int:
    """The advisory lock that serializes submissions of one email on one campaign, so the
    24-hour check holds under concurrency."""
    digest = hashlib.blake2b(f"{campaign.pk}:{email.lower()}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


def _recently_written(campaign, email, official_ids) -> set[int]:
    """`_recently_written_sql` on SQLite (PostgreSQL asks it within `_submission_sql`)."""
    if not official_ids:
        return set()
    since = connection.ops.adapt_datetimefield_value(timezone.now() - REPEAT_WINDOW)
    with connection.cursor() as cursor:
        cursor.execute(
            _recently_written_sql(", ".join(["%s"] * len(official_ids))),
            [email, campaign.pk, *official_ids, since, Delivery.Status.FAILED.value],
        )
        return {official_id for (official_id,) in cursor.fetchall()}


def _recently_written_sql(official_ids: str) -> str:
    """The 24-hour repeat check: which of `official_ids` (placeholders, or a subquery) this
    email wrote on this campaign in the last 24 hours, failed deliveries aside. Parameters:
    the email, the campaign's id, those of `official_ids`, the time 24 hours ago, the failed
    status. It finds the constituent's actions through the index on (UPPER(email), campaign),
    so it reads theirs only."""
    quote = connection.ops.quote_name
    # Only names and `official_ids` (no values) are formatted in; every value is a parameter.
    return (
        f"SELECT DISTINCT d.official_id FROM {quote(Delivery._meta.db_table)} d "  # noqa: S608
        f"JOIN {quote(Action._meta.db_table)} a ON a.id = d.action_id "
        "WHERE UPPER(a.email) = UPPER(%s) AND a.campaign_id = %s "
        f"AND d.official_id IN ({official_ids}) AND d.created_at >= %s AND d.status <> %s"
    )


def _delivery_rows(action, officials, sender, *, ways=None, wording=None) -> list[dict]:
    """One new delivery per official, composed, as the values of its columns (by attribute
    name) but its action's: cheaper than a model instance each, which a blast's submit would
    build only to read back."""
    campaign = action.campaign
    now = timezone.now()
    composed_messages = messages_compose(
        campaign=campaign,
        officials=officials,
        subject=action.subject,
        message=action.message,
        sender=sender,
        wording=wording,
    )
    confirmed = action.confirmed_at is not None or not campaign.double_opt_in
    waiting = Delivery.Status.QUEUED if confirmed else Delivery.Status.PENDING
    if ways is None or any(o.pk not in ways for o in officials):
        ways = routing.reaches(officials=officials, topic=campaign_topic(campaign))
    constant, per_row = _delivery_defaults()
    rows = []
    for official, composed in zip(officials, composed_messages, strict=True):
        way = ways[official.pk]
        # No automatic way to this office: the constituent sends it through its own page.
        manual = way.is_manual and not settings.DELIVERY_SANDBOX
        status = Delivery.Status.MANUAL if manual else waiting
        rows.append(
            {
                **constant,
                **{f.attname: f.get_default() for f in per_row},
                "official_id": official.pk,
                "channel": way.channel,
                "status": status,
                "manual_reason": way.manual_reason if manual else "",
                "queued_at": now if status == Delivery.Status.QUEUED else None,
                "variant": composed.variant,
                "subject": composed.subject,
                "organization_statement": composed.organization_statement,
                "constituent_message": composed.constituent_message,
                "body": composed.body,
                "addressed_title": composed.addressed_title,
                "addressed_name": composed.addressed_name,
                "salutation": composed.salutation,
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


@functools.cache
def _delivery_row_fields() -> tuple:
    """The columns of a delivery row (`_delivery_rows`): all but its action's."""
    return tuple(f for f in Delivery._meta.concrete_fields if f.attname != "action_id")


@functools.cache
def _delivery_defaults() -> tuple[dict, tuple]:
    """The defaults of a new delivery's columns: those that are values, by attribute name, and
    the fields whose default is a callable (an id, a time), to be called for each row."""
    per_row = tuple(f for f in _delivery_row_fields() if f.has_default() and callable(f.default))
    constant = {f.attname: f.get_default() for f in _delivery_row_fields() if f not in per_row}
    return constant, per_row


def action_confirm(*, action: Action) -> int | None:
    """The constituent confirmed their email: queue what waited. Returns how many deliveries
    were queued, or None when it was already confirmed (confirming twice does nothing)."""
    now = timezone.now()
    with transaction.atomic():
        if not Action.objects.filter(pk=action.pk, confirmed_at__isnull=True).update(
            confirmed_at=now
        ):
            return None
        _count(action, confirmed=1)
        waiting = Delivery.objects.filter(action=action, status=Delivery.Status.PENDING)
        ids = [str(pk) for pk in waiting.values_list("id", flat=True)]
        Delivery.objects.filter(pk__in=ids).transition(
            source=Delivery.Status.PENDING, target=Delivery.Status.QUEUED, now=now, queued_at=now
        )
        transaction.on_commit(lambda: tasks.deliveries_enqueue(delivery_ids=ids))
    return len(ids)


def campaign_touch(*, campaign_id: int) -> None:
    """Something the campaign's page shows changed other than the campaign itself (a letter,
    its cosigners): a new `updated_at` keeps the page's cached rendering (`web/pages.py`) from
    being used again. Call it in the transaction that makes the change."""
    Campaign.objects.filter(pk=campaign_id).update(updated_at=timezone.now())


@transaction.atomic
def cosignatures_save(*, letter: Letter, legislator_ids: Iterable[int], role: str) -> int:
    """Record that these legislators signed `letter` in `role`; an existing cosignature keeps
    its row and takes the new role. Returns how many distinct legislators were saved."""
    if role not in Cosignature.Role.values:
        raise ValueError(f"unknown cosignature role {role!r}")
    ids = list(dict.fromkeys(legislator_ids))
    Cosignature.objects.bulk_create(
        [Cosignature(letter=letter, legislator_id=pk, role=role) for pk in ids],
        update_conflicts=True,
        unique_fields=["letter", "legislator"],
        update_fields=["role"],
    )
    campaign_touch(campaign_id=letter.campaign_id)
    return len(ids)


def deliveries_retry(*, delivery_ids) -> int:
    """An operator's retry: failed deliveries only, queued afresh with all their attempts
    (their history stays). Returns how many."""
    now = timezone.now()
    failed = Delivery.objects.filter(pk__in=list(delivery_ids), status=Delivery.Status.FAILED)
    with transaction.atomic():
        ids = [str(pk) for pk in failed.select_for_update().values_list("pk", flat=True)]
        retried = Delivery.objects.filter(pk__in=ids).transition(
            source=Delivery.Status.FAILED,
            target=Delivery.Status.QUEUED,
            now=now,
            attempts=0,
            queued_at=now,
            next_attempt_at=None,
            failed_at=None,
        )
        transaction.on_commit(lambda: tasks.deliveries_enqueue(delivery_ids=ids))
    return retried


def deliveries_reclaim(*, delivery_ids) -> engine.Reclaimed:
    """An operator takes stuck deliveries back now instead of waiting for the sweep."""
    with transaction.atomic():
        reclaimed = engine.deliveries_reclaim(delivery_ids=delivery_ids)
        transaction.on_commit(lambda: tasks.failure_notices_enqueue(delivery_ids=reclaimed.failed))
    return reclaimed


def call_log(*, action: Action, official_id: int, outcome: str) -> Call:
    """A constituent's "I called" for one of their action's officials (one it wrote, or one it
    skipped as already written today); anyone else is refused, so the form cannot count calls
    to an office the action never named. Raises ValidationError naming the field at fault."""
    if outcome not in Call.Outcome.values:
        choices = ", ".join(str(label) for label in Call.Outcome.labels)
        message = _("Choose how the call went: %(choices)s.") % {"choices": choices}
        raise ValidationError({"outcome": message})
    officials = Official.objects.filter(
        Q(deliveries__action=action) | Q(pk__in=action.skipped_officials.values("pk"))
    )
    official = officials.filter(pk=official_id).distinct().first()
    if official is None:
        raise ValidationError({"official": _("That official is not one of this action's.")})
    call = Call(campaign_id=action.campaign_id, official=official, action=action, outcome=outcome)
    call.full_clean()
    call.save()
    return call


# Not copied by `campaign_clone`: who it is, when it runs, and the row's own bookkeeping.
_NOT_CLONED = {"id", "slug", "title", "status", "starts_at", "ends_at", "created_at", "updated_at"}


@transaction.atomic
def campaign_clone(*, campaign: Campaign) -> Campaign:
    """A new draft copied from `campaign`: its text, settings, targets, asks, letters and their
    cosigners; no dates, and nothing constituents did (actions, deliveries, counts, calls).
    Its slug is `<slug>-copy` (then `-copy-2`, ...), its title "Copy of <title>"."""
    copy = Campaign(
        slug=_free_slug(f"{campaign.slug}-copy"),
        title=_("Copy of %(title)s") % {"title": campaign.title},
        status=Campaign.Status.DRAFT,
        **{
            f.attname: getattr(campaign, f.attname)
            for f in Campaign._meta.concrete_fields
            if f.name not in _NOT_CLONED
        },
    )
    copy.title = copy.title[: Campaign._meta.get_field("title").max_length]
    copy.save()
    copy.targets.set(campaign.targets.all())
    PolicyAsk.objects.bulk_create(
        PolicyAsk(campaign=copy, position=a.position, title=a.title, detail=a.detail)
        for a in campaign.asks.all()
    )
    for letter in campaign.letters.prefetch_related("cosignatures").order_by("pk"):
        signers = list(letter.cosignatures.all())
        letter.pk, letter.campaign, letter._state.adding = None, copy, True
        letter.save()
        Cosignature.objects.bulk_create(
            Cosignature(letter=letter, legislator_id=c.legislator_id, role=c.role) for c in signers
        )
    return copy


def _free_slug(base: str) -> str:
    """`base`, or `base-2`, `base-3`, ... whichever is not taken, within the slug's length."""
    longest = Campaign._meta.get_field("slug").max_length
    taken = set(
        Campaign.objects.filter(slug__startswith=base[:longest]).values_list("slug", flat=True)
    )
    n = 1
    while True:
        suffix = "" if n == 1 else f"-{n}"
        slug = base[: longest - len(suffix)] + suffix
        if slug not in taken:
            return slug
        n += 1


def export_log_begin(*, user, campaign: Campaign | None, filters: dict) -> ExportLog:
    """Record that `user` began an export of actions (`admin.exports`)."""
    return ExportLog.objects.create(
        user=user, username=user.get_username(), campaign=campaign, filters=filters
    )


def export_log_end(*, log: ExportLog, rows: int, complete: bool) -> None:
    """Record how an export ended: the rows sent, and whether it reached its end."""
    ExportLog.objects.filter(pk=log.pk).update(
        rows=rows, complete=complete, finished_at=timezone.now()
    )
