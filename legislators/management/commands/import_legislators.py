from django.core.management.base import BaseCommand, CommandError

from legislators.importers import DataError, legislators_import, parse_people, read_source


class Command(BaseCommand):
    help = (
        "Import members of Congress from a congress-legislators YAML or JSON file (a path or an "
        "http(s) URL). Idempotent; all or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "source", help="e.g. ../shared/data/congress-legislators/legislators-current.yaml"
        )
        parser.add_argument(
            "--historical",
            action="store_true",
            help="An older snapshot: only add missing people and terms; change nobody's office.",
        )

    def handle(self, *args, source, historical, **options):
        try:
            self.stdout.write(f"Reading {source}")
            people = parse_people(read_source(source), name=source)
            summary = legislators_import(people, historical=historical, progress=self.stdout.write)
        except DataError as exc:
            raise CommandError(f"Nothing imported: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"{len(people)} people: {summary}"))
