import json

from django.core.management.base import BaseCommand, CommandError

from alerts.privacy import constituent_export


class Command(BaseCommand):
    help = "Print everything held about the constituent who used EMAIL (any case), as JSON."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        try:
            exported = constituent_export(email=email)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(exported, indent=2, ensure_ascii=False))
