"""Set up Django for a benchmark on its own PostgreSQL database (created and migrated if new)."""

import os

import django
import psycopg

BENCH_DB = os.environ.get("BENCH_DATABASE", "action_alerts_bench")


def setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}")
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def bench_campaign(slug: str, **fields):
    """A live campaign of the benchmark's own, with the least text a message needs; `fields`
    add to it or replace. Created or brought back to this state."""
    from alerts.models import Campaign

    defaults = {
        "title": "Benchmark",
        "organization_name": "Bench",
        "summary": "s",
        "body": "b",
        "status": "live",
        "message_subject": "Benchmark message",
        "thank_template": "t",
        "urge_template": "u",
        "executive_template": "e",
        "double_opt_in": False,
        **fields,
    }
    campaign, _ = Campaign.objects.update_or_create(slug=slug, defaults=defaults)
    return campaign
