import datetime as dt

import yaml
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from legislators.importers import (
    DataError,
    executive_import,
    executive_officials_import,
    parse_people,
    read_source,
)


class Command(BaseCommand):
    help = (
        "Set the President and Vice President from congress-legislators' executive.yaml (by term "
        "dates), and optionally other executive officials from a short YAML list (see ADMIN.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "source", help="e.g. ../shared/data/congress-legislators/executive.yaml"
        )
        parser.add_argument(
            "--on", type=dt.date.fromisoformat, help="Who held office on this day (default: today)."
        )
        parser.add_argument(
            "--officials",
            help="YAML list of other executive officials: key, title, name, salutation, ...",
        )

    def handle(self, *args, source, on, officials, **options):
        on = on or timezone.localdate()
        try:
            people = parse_people(read_source(source), name=source)
            entries = yaml.safe_load(read_source(officials)) or [] if officials else []
            with transaction.atomic():  # both parts or neither
                imported = executive_import(people, on=on)
                imported += executive_officials_import(entries)
        except (DataError, yaml.YAMLError) as exc:
            raise CommandError(f"Nothing imported: {exc}") from exc
        for official in imported:
            on_day = official.holder_verified_on
            verified = f"holder verified {on_day}" if on_day else "holder unverified"
            self.stdout.write(
                f"  {official.title}: {official.name} ({official.get_channel_display()}; "
                f"{verified})"
            )
        self.stdout.write(self.style.SUCCESS(f"{len(imported)} executive officials as of {on}"))
