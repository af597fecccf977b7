import json as json_module

from django.core.management.base import BaseCommand

from alerts.selectors import delivery_stats


class Command(BaseCommand):
    help = "Deliveries by status and by channel, and how long the oldest queued one has waited."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Machine-readable output.")

    def handle(self, *args, **options):
        stats = delivery_stats()
        if options["json"]:
            documented = {  # the shape ADMIN.md promises to monitoring scripts
                "by_status": stats.by_status,
                "by_channel": stats.by_channel,
                "oldest_queued_seconds": stats.oldest_queued_seconds,
            }
            self.stdout.write(json_module.dumps(documented, sort_keys=True))
            return
        self.stdout.write("By status:")
        for status, count in stats.by_status.items():
            self.stdout.write(f"  {status:10s} {count:>8}")
        self.stdout.write("By channel:")
        for channel, count in stats.by_channel.items():
            self.stdout.write(f"  {channel:12s} {count:>8}")
        oldest = stats.oldest_queued_seconds
        self.stdout.write("Oldest queued: " + ("none" if oldest is None else f"{oldest:.0f} s ago"))
