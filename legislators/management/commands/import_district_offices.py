from django.core.management.base import BaseCommand, CommandError

from legislators.district_offices import district_offices_import, parse_district_offices
from legislators.importers import DataError, read_source


class Command(BaseCommand):
    help = (
        "Load members of Congress's district offices (addresses, phone numbers) from "
        "congress-legislators' legislators-district-offices.yaml, a path or URL. Import the "
        "legislators first: offices of members not imported are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "source",
            help="e.g. ../shared/data/congress-legislators/legislators-district-offices.yaml",
        )

    def handle(self, *args, source, **options):
        try:
            summary = district_offices_import(
                parse_district_offices(read_source(source), name=source)
            )
        except DataError as exc:
            raise CommandError(f"Nothing imported: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(str(summary).capitalize()))
