from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from legislators.importers import DataError, read_source, zip_districts_import


class Command(BaseCommand):
    help = "Load ZIP (ZCTA) → congressional district rows for one Congress from a CSV path or URL."

    def add_arguments(self, parser):
        parser.add_argument("source", help="e.g. ../shared/data/zccd/zccd_cd119.csv")
        parser.add_argument("--congress", type=int, choices=[118, 119], required=True)

    def handle(self, *args, source, congress, **options):
        try:
            summary = zip_districts_import(read_source(source), congress=congress, name=source)
        except DataError as exc:
            raise CommandError(f"Nothing imported: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"Congress {congress}: {summary}"))
        if congress != settings.ACTIVE_CONGRESS:
            self.stdout.write(
                f"Note: lookups use Congress {settings.ACTIVE_CONGRESS} (ACTIVE_CONGRESS)."
            )
