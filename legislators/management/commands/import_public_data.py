from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from legislators import sources


class Command(BaseCommand):
    help = (
        "Import everything the app reads from the public data folder (LEGISLATOR_DATA_DIR): "
        "Congress now and on 2023-09-20, the President and Vice President, ZIP districts of the "
        "118th and 119th Congress, district offices, and offices' web forms (CONTACT_FORMS_DIR). "
        "Without those folders, the pinned files are downloaded once (checked by sha256) into "
        "var/public-data/ from PUBLIC_DATA_BASE_URL."
    )

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", type=Path, default=None)

    def handle(self, *args, data_dir, **options):
        if data_dir is not None:
            root = Path(data_dir)
            if not root.is_dir():
                raise CommandError(f"No data folder at {root}")
        else:
            root = sources.local_or_fetched("public-data", progress=self.stdout.write)
        people = root / "congress-legislators"
        call_command("import_legislators", people / "legislators-current.yaml", stdout=self.stdout)
        snapshot = people / "snapshot-2023-09-20" / "legislators-current.yaml"
        if snapshot.exists():
            call_command("import_legislators", snapshot, historical=True, stdout=self.stdout)
        call_command("import_executive", people / "executive.yaml", stdout=self.stdout)
        self._import_district_offices(people)
        for congress in (118, 119):
            csv = root / "zccd" / f"zccd_cd{congress}.csv"
            if csv.exists():
                call_command("import_zip_districts", csv, congress=congress, stdout=self.stdout)
        call_command("import_contact_forms", stdout=self.stdout, stderr=self.stderr)

    def _import_district_offices(self, people: Path):
        """District offices' phone numbers, for the call buttons (after the legislators)."""
        offices = people / "legislators-district-offices.yaml"
        if offices.exists():
            call_command("import_district_offices", offices, stdout=self.stdout)
