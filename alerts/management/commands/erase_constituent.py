from django.core.management.base import BaseCommand, CommandError

from alerts.privacy import constituent_erase


class Command(BaseCommand):
    help = (
        "Erase everything held about the constituent who used EMAIL (any case): their "
        "unconfirmed actions deleted, the rest anonymised as the retention purge does. An "
        "Erasure row records that it happened, not whose."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        try:
            erasure = constituent_erase(email=email)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        # The address is not repeated: this output may end up in a log.
        self.stdout.write(
            self.style.SUCCESS(
                f"Erasure {erasure.pk}: {erasure.actions_erased} actions and "
                f"{erasure.deliveries_erased} deliveries erased."
            )
        )
