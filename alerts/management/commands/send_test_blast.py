from django.core.management.base import BaseCommand, CommandError

from alerts.operations.blast import BlastError, test_blast_send


class Command(BaseCommand):
    help = (
        "Pre-launch check of a deployment: create COUNT sandbox actions through the same "
        "service the form uses and queue their deliveries. Refuses unless DELIVERY_SANDBOX is on."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--campaign", help="Campaign slug (default: the newest live one).")
        parser.add_argument(
            "--zip", default="22201", help="ZIP whose members of Congress are written."
        )

    def handle(self, *args, count, campaign, zip, **options):
        try:
            summary = test_blast_send(count=count, campaign_slug=campaign, zip_code=zip)
        except BlastError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary.actions} test actions on '{summary.campaign}': "
                f"{summary.deliveries} deliveries queued. Follow them with "
                "`manage.py delivery_stats`."
            )
        )
