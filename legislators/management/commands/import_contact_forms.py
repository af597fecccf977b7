from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from legislators import sources
from legislators.contact_forms import contact_forms_import


class Command(BaseCommand):
    help = (
        "Import offices' web-form definitions (contact-congress format) from a folder with "
        "senate/<bioguide>.yaml and executive/<key>.yaml, each keyed to its official and "
        "versioned by content hash. A file that does not parse is refused; the others load."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="Default: CONTACT_FORMS_DIR.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Read and check everything, save nothing."
        )

    def handle(self, *args, path, dry_run, **options):
        if path is None:  # CONTACT_FORMS_DIR, else the pinned public files, fetched once
            path = str(sources.local_or_fetched("contact-forms", progress=self.stdout.write))
        if not Path(path).exists():
            raise CommandError(f"no contact forms at {path} (set CONTACT_FORMS_DIR or pass PATH)")
        summary = contact_forms_import(path, dry_run=dry_run)
        for refusal in summary.refused:
            self.stderr.write(f"refused {refusal}")
        for source in summary.no_official:
            self.stderr.write(f"skipped {source}: no official with that key")
        self.stdout.write(("[dry run] " if dry_run else "") + summary.line())
