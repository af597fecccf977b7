from django.core.management.base import BaseCommand

from alerts.operations.demo import demo_load


class Command(BaseCommand):
    help = "Create (or refresh) the demo campaign. Safe to run any number of times."

    def handle(self, *args, **options):
        campaign = demo_load()
        letter = campaign.letters.get()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo campaign '{campaign.slug}': {campaign.asks.count()} asks, "
                f"{letter.cosignatures.count()} signers on the {letter.sent_on} letter, "
                f"{campaign.targets.count()} executive targets."
            )
        )
