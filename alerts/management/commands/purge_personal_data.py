from django.core.management.base import BaseCommand

from alerts.privacy import personal_data_purge


class Command(BaseCommand):
    help = (
        "Anonymise constituents' personal data older than PERSONAL_DATA_RETENTION_DAYS and "
        "delete actions whose confirmation link expired unconfirmed (beat runs this daily)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count the actions it would touch; change nothing.",
        )

    def handle(self, *args, dry_run, **options):
        done = personal_data_purge(dry_run=dry_run)
        if dry_run:
            self.stdout.write(
                f"Would delete {done.actions_removed} unconfirmed actions and anonymise "
                f"{done.actions_anonymised}."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Deleted {done.actions_removed} unconfirmed actions, anonymised "
                f"{done.actions_anonymised}; deliveries deleted {done.deliveries_removed}, "
                f"anonymised {done.deliveries_anonymised}; screenshot folders removed "
                f"{done.evidence_removed}; cache keys removed {done.cache_keys_removed}."
            )
        )
