from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from alerts.models import Campaign
from alerts.reports import office_exists, staffer_report, staffer_report_csv


class Command(BaseCommand):
    help = (
        "The staffer report of a campaign: per office, how many constituents wrote, thank and "
        "urge counts, the campaign's asks and a sample of their own words (the admin's "
        "printable report and CSV, from the same reads)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The campaign's slug.")
        parser.add_argument("--office", help="One office's key (e.g. a bioguide id).")
        parser.add_argument(
            "--csv", action="store_true", help="The numbers as CSV, as the admin's download."
        )

    def handle(self, *args, slug, office=None, csv=False, **options):
        campaign = Campaign.objects.filter(slug=slug).first()
        if campaign is None:
            raise CommandError(f"No campaign with the slug {slug!r}.")
        if office is not None and not office_exists(office):
            raise CommandError(f"No office with the key {office!r}.")
        report = staffer_report(campaign, office_key=office, messages=0 if csv else 10)
        if csv:
            staffer_report_csv(report, self.stdout)
            return
        write = self.stdout.write
        write(f"{campaign.title} ({campaign.slug}), organized by {campaign.organization_name}")
        write(f"Report of {timezone.localtime():%Y-%m-%d %H:%M %Z}")
        write("")
        write("What they ask:")
        for ask in report.asks:
            write(f"  {ask.position}. {ask.title}")
        if not report.asks:
            write("  (no asks listed)")
        for row in report.offices:
            write("")
            write(f"{row.heading} [{row.key}]")
            write(f"  Constituents who wrote: {row.constituents}")
            write(f"  Thank: {row.thank}  Urge: {row.urge}  Executive: {row.executive}")
            write(f"  Delivered so far: {row.sent}")
            for voice in row.voices:
                words = " ".join(voice.message.split())
                write(
                    f"  - {voice.first_name}, {voice.city}, {voice.state} "
                    f"({timezone.localtime(voice.created_at):%Y-%m-%d}): {words}"
                )
        if not report.offices:
            write("")
            write("No constituent has written to " + ("this office" if office else "any office"))
