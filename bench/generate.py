"""Fill a benchmark database with actions and deliveries, fast, without going through the form.

    .venv/bin/python -m bench.generate --actions 1000000 [--deliveries-per-action 7]
                                       [--database action_alerts_bench_1000000] [--force]

The database (by default `action_alerts_bench_<actions>`, never the tests' or bench.delivery's)
is created and migrated if new, given the public data (`import_public_data`) and the demo
campaign (`load_demo`), then holds exactly `--actions` generated actions on that campaign, each
with `--deliveries-per-action` deliveries. A database that already holds them is left as it is
(`--force` generates again), so a second `make bench` does not pay for the large size twice;
actions not generated (a benchmark's submissions) are deleted, and the tables vacuumed as
autovacuum would.

Rows are written by PostgreSQL itself, `INSERT ... SELECT` over `generate_series`, in batches,
and are what the app would have written:

- actions: unique public ids, form tokens and referral codes; distinct emails; addresses from
  real ZIP codes; created over the last 30 days (so some fall in the submit's 24-hour window);
  nine in ten confirmed (the demo campaign asks for confirmation), the rest awaiting it;
- deliveries, unique per (action, official): the campaign's executive targets first, then
  legislators in turn; the channel is the official's; confirmed actions' deliveries are `sent`
  (with `sent_at`, the executive offices' as by their web forms), one in fifty `failed`,
  `manual` for legislators reached only through their contact form; unconfirmed actions' are
  `pending`. Bodies are short (a few hundred bytes):
  the measurements are about which rows a request reads, not how wide they are.

Not generated: attempts (a sent delivery's log), calls, skipped officials. The app's
maintained count of actions (`ActionCount`, where it exists) is set to what the table holds.
Foreign keys are not re-checked row by row (session_replication_role = replica, as pg_restore
does): the rows reference ids read from the same database a moment before.
"""

import argparse
import io
import os
import time

import psycopg

BATCH = 50_000
GENERATED_EMAIL_DOMAIN = "generated.bench.invalid"


def database_name(actions: int) -> str:
    return f"action_alerts_bench_{actions}"


def database_ready(name: str) -> None:
    """Create the database if missing and point Django at it (before django.setup)."""
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


def _column_values(model, known: dict, connection) -> tuple[list[str], list[str], dict]:
    """Columns and SQL expressions for every concrete field of `model`: `known` for the fields
    this generator understands, the field's default for any other (a field added since)."""
    columns, expressions, params = [], [], {}
    for field in model._meta.concrete_fields:
        if field.attname in known:
            expression = known[field.attname]
        elif field.primary_key and field.get_internal_type() in {"BigAutoField", "AutoField"}:
            continue
        elif field.has_default() and not callable(field.default):
            key = f"default_{model._meta.model_name}_{field.attname}"
            expression = f"%({key})s"
            params[key] = field.get_db_prep_save(field.default, connection=connection)
        elif field.null:
            expression = "NULL"
        elif field.get_internal_type() in {"CharField", "TextField", "SlugField", "EmailField"}:
            expression = "''"
        else:
            raise SystemExit(
                f"bench.generate does not know how to fill {model.__name__}.{field.name}: "
                "add it to the generator"
            )
        columns.append(field.column)
        expressions.append(expression)
    return columns, expressions, params


def _recount(campaign_model, action_model) -> None:
    """The app's maintained count of each campaign's actions (`ActionCount`, if this version
    of the app keeps one) set to what the table holds: rows written here bypass the services
    that maintain it."""
    from django.db import transaction
    from django.db.models import Count, Q

    from alerts import models

    counter = getattr(models, "ActionCount", None)
    if counter is None:
        return
    totals = (
        action_model.objects.order_by()
        .values("campaign_id")
        .annotate(actions=Count("pk"), confirmed=Count("pk", filter=Q(confirmed_at__isnull=False)))
    )
    with transaction.atomic():
        counter.objects.all().delete()
        counter.objects.bulk_create(
            counter(
                campaign_id=row["campaign_id"],
                slot=0,
                actions=row["actions"],
                confirmed=row["confirmed"],
            )
            for row in totals
        )


def _vacuum(connection, action_model, delivery_model) -> None:
    """What autovacuum would do after a run's rows are deleted, on a PostgreSQL that runs
    without it (this machine's does): the next run then starts from the same tables, not from
    tables and indexes grown with every earlier run's dead rows (and the count's row with
    every update a run made)."""
    from alerts import models as app_models

    counter = getattr(app_models, "ActionCount", None)  # as _recount: older versions lack it
    models = [action_model, delivery_model, action_model.skipped_officials.through]
    models += [counter] if counter is not None else []
    tables = [connection.ops.quote_name(model._meta.db_table) for model in models]
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {', '.join(tables)}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--actions", type=int, default=1000)
    parser.add_argument("--deliveries-per-action", type=int, default=7)
    parser.add_argument("--database", default=None)
    parser.add_argument("--force", action="store_true", help="generate again even if filled")
    args = parser.parse_args()
    name = args.database or database_name(args.actions)
    database_ready(name)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from alerts.models import Action, Campaign, Delivery
    from alerts.operations.demo import SLUG
    from legislators.models import Official, ZipDistrict

    started = time.perf_counter()
    quiet = io.StringIO()
    call_command("migrate", verbosity=0, stdout=quiet)
    if not ZipDistrict.objects.exists():
        print(f"{name}: importing the public data...", flush=True)
        call_command("import_public_data", verbosity=0, stdout=quiet, stderr=quiet)
    if not Campaign.objects.filter(slug=SLUG).exists():
        call_command("load_demo", verbosity=0, stdout=quiet)
    campaign = Campaign.objects.get(slug=SLUG)
    per_action = args.deliveries_per_action

    actions = Action._meta.db_table
    deliveries = Delivery._meta.db_table
    if not args.force:
        # What a benchmark run submitted through the form goes; the generated rows stay.
        extra = Action.objects.exclude(email__endswith=GENERATED_EMAIL_DOMAIN)
        if extra.exists():
            deleted, _ = extra.delete()
            print(f"{name}: {deleted} rows of submitted actions deleted")
            _vacuum(connection, Action, Delivery)
        have, have_deliveries = Action.objects.count(), Delivery.objects.count()
        if have == args.actions and have_deliveries == args.actions * per_action:
            _recount(Campaign, Action)
            print(f"{name}: holds {have} actions and {have_deliveries} deliveries")
            return

    targets = list(campaign.targets.filter(is_active=True).order_by("pk"))
    legislators = list(
        Official.objects.filter(is_active=True, kind=Official.Kind.LEGISLATOR).order_by("pk")
    )
    officials = [*targets, *legislators]
    fixed = min(len(targets), per_action)
    if per_action - fixed > len(legislators):
        raise SystemExit(f"only {len(officials)} officials for {per_action} deliveries an action")

    with connection.cursor() as cursor:
        cursor.execute(f'TRUNCATE "{actions}" CASCADE')  # and deliveries, attempts, calls...
        cursor.execute("CREATE TEMP TABLE bench_zips (n int PRIMARY KEY, zip text, state text)")
        zip_table = ZipDistrict._meta.db_table
        cursor.execute(
            f"INSERT INTO bench_zips SELECT row_number() OVER (ORDER BY zip_code) - 1, zip_code, "  # noqa: S608
            f"min(state) FROM {zip_table} GROUP BY zip_code"
        )
        cursor.execute("SELECT count(*) FROM bench_zips")
        (zips,) = cursor.fetchone()
        cursor.execute(
            "CREATE TEMP TABLE bench_officials "
            "(n int PRIMARY KEY, id bigint, channel text, variant text)"
        )
        cosigners = set(campaign.letters.values_list("cosignatures__legislator_id", flat=True)) - {
            None
        }
        cursor.executemany(
            "INSERT INTO bench_officials VALUES (%s, %s, %s, %s)",
            [
                (
                    n,
                    o.pk,
                    o.channel,
                    "executive"
                    if o.kind == Official.Kind.EXECUTIVE
                    else ("thank" if o.legislator_id in cosigners else "urge"),
                )
                for n, o in enumerate(officials)
            ],
        )

    subject = campaign.message_subject
    message = (
        "I am writing as your constituent. " * 8
        + "Please act before it is too late; this matters to my family and my community."
    )
    statement = campaign.executive_template[:300]
    action_columns, action_expressions, action_params = _column_values(
        Action,
        {
            "public_id": "gen_random_uuid()",
            "campaign_id": str(int(campaign.pk)),
            "prefix": "''",
            "first_name": "'Constituent'",
            "last_name": "'Number ' || i",
            "email": f"'constituent' || i || '@{GENERATED_EMAIL_DOMAIN}'",
            "street": "(1 + mod(i, 9999)) || ' Main Street'",
            "city": "'Springfield'",
            "state": "z.state",
            "zip_code": "z.zip",
            "phone": "''",
            "subject": "%(subject)s",
            "message": "%(message)s",
            "consent_text": "%(consent)s",
            "source": "CASE WHEN mod(i, 4) = 0 THEN 'newsletter' ELSE '' END",
            "referral_code": "'gen' || i",
            "referred_by_id": "NULL",
            "ip_hash": "md5(i::text)",
            "form_token": "'gen-' || i",
            "created_at": "t.created",
            "confirmation_sent_at": "t.created + interval '1 second'",
            "reminder_sent_at": "NULL",
            "confirmed_at": "CASE WHEN mod(i, 10) <> 0 THEN t.created + interval '5 minutes' END",
        },
        connection,
    )
    # Status per (action, official): pending until confirmed; then manual for legislators with
    # no automatic way, one in fifty failed, the rest sent (the executive offices' web forms).
    status = (
        "CASE WHEN a.confirmed_at IS NULL THEN 'pending' "
        "WHEN o.channel = 'contact_form' AND o.variant <> 'executive' THEN 'manual' "
        "WHEN mod(a.id + k, 50) = 0 THEN 'failed' ELSE 'sent' END"
    )
    delivery_columns, delivery_expressions, delivery_params = _column_values(
        Delivery,
        {
            "id": "gen_random_uuid()",
            "action_id": "a.id",
            "official_id": "o.id",
            "channel": "o.channel",
            "status": "s.status",
            "variant": "o.variant",
            "subject": "%(subject)s",
            "organization_statement": "%(statement)s",
            "constituent_message": "%(message)s",
            "body": "%(statement)s || E'\\n\\n' || %(message)s",
            "attempts": "CASE WHEN s.status IN ('sent', 'failed') THEN 1 ELSE 0 END",
            "last_error": "CASE WHEN s.status = 'failed' "
            "THEN '550 mailbox unavailable' ELSE '' END",
            "manual_reason": "CASE WHEN s.status = 'manual' THEN 'Contact form only' ELSE '' END",
            "created_at": "a.created_at",
            "queued_at": "a.confirmed_at",
            "enqueued_at": "a.confirmed_at",
            "next_attempt_at": "NULL",
            "sending_started_at": "CASE WHEN s.status IN ('sent', 'failed') "
            "THEN a.confirmed_at + interval '2 seconds' END",
            "lease_expires_at": "NULL",
            "sent_at": "CASE WHEN s.status = 'sent' THEN a.confirmed_at + interval '3 seconds' END",
            "failed_at": "CASE WHEN s.status = 'failed' "
            "THEN a.confirmed_at + interval '3 seconds' END",
            "constituent_notified_at": "CASE WHEN s.status = 'failed' "
            "THEN a.confirmed_at + interval '1 hour' END",
            "updated_at": "coalesce(a.confirmed_at, a.created_at)",
        },
        connection,
    )
    # Offices in turn: the campaign's targets first, then legislators, distinct per action.
    official_n = (
        f"CASE WHEN k < {fixed} THEN k "
        f"ELSE {fixed} + mod(a.id * {per_action - fixed} + k - {fixed}, "
        f"{len(officials) - fixed}) END"
    )
    sql = f"""
        WITH a AS (
            INSERT INTO "{actions}" ({", ".join(action_columns)})
            SELECT {", ".join(action_expressions)}
            FROM generate_series(%(low)s::bigint, %(high)s::bigint) AS i
            JOIN bench_zips z ON z.n = mod(i, {zips})
            CROSS JOIN LATERAL (
                SELECT now() - mod(i * 7919, 2592000) * interval '1 second' AS created
            ) t
            RETURNING id, created_at, confirmed_at
        )
        INSERT INTO "{deliveries}" ({", ".join(delivery_columns)})
        SELECT {", ".join(delivery_expressions)}
        FROM a
        CROSS JOIN generate_series(0, {per_action - 1}) AS k
        JOIN bench_officials o ON o.n = {official_n}
        CROSS JOIN LATERAL (SELECT {status} AS status) s
    """  # noqa: S608 (table and column names from the models, numbers from argparse)
    params = {
        **action_params,
        **delivery_params,
        "subject": subject,
        "message": message,
        "statement": statement,
        "consent": f"I agree that {campaign.organization_name} may use my name, address and "
        "email to deliver my message.",
    }
    prepared = time.perf_counter()
    print(
        f"{name}: generating {args.actions} actions x {per_action} deliveries "
        f"({len(officials)} officials, {zips} ZIP codes)...",
        flush=True,
    )
    for low in range(1, args.actions + 1, BATCH):
        high = min(args.actions, low + BATCH - 1)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(sql, {**params, "low": low, "high": high})
        if high % 200_000 == 0 or high == args.actions:
            rate = high / (time.perf_counter() - prepared)
            print(f"  {high} actions ({rate:,.0f}/s)", flush=True)
    _recount(Campaign, Action)
    generated = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f'VACUUM ANALYZE "{actions}", "{deliveries}"')
    done = time.perf_counter()
    print(
        f"{name}: {Action.objects.count()} actions, {Delivery.objects.count()} deliveries; "
        f"setup {prepared - started:.0f} s, rows {generated - prepared:.0f} s, "
        f"VACUUM ANALYZE {done - generated:.0f} s, total {done - started:.0f} s"
    )


if __name__ == "__main__":
    main()
