from django.core.management.base import BaseCommand, CommandError

from legislators.importers import DataError
from legislators.senate_offices import refresh


class Command(BaseCommand):
    help = (
        "Import the Senate's CWC active-offices list (JSON, from a path or an http(s) URL): "
        "its offices are listed, every other office unlisted. All or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", help="e.g. https://…/api/active_offices or a saved file")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the list and count; change nothing."
        )

    def handle(self, *args, source, dry_run, **options):
        try:
            summary = refresh(source, dry_run=dry_run)
        except DataError as exc:
            raise CommandError(f"Nothing imported: {exc}") from exc
        prefix = "Dry run, nothing changed: " if dry_run else ""
        self.stdout.write(self.style.SUCCESS(f"{prefix}{summary}"))
