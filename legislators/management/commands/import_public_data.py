from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Import everything the app reads from the public data folder (LEGISLATOR_DATA_DIR): "
        "Congress now and on 2023-09-20, the President and Vice President, ZIP districts of the "
        "118th and 119th Congress. Does nothing when the folder is absent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", type=Path, default=None)

    def handle(self, *args, data_dir, **options):
        root = Path(data_dir or settings.LEGISLATOR_DATA_DIR)
        if not root.is_dir():
            self.stdout.write(f"No data folder at {root}: skipping (the demo still loads).")
            return
        people = root / "congress-legislators"
        call_command("import_legislators", people / "legislators-current.yaml", stdout=self.stdout)
        snapshot = people / "snapshot-2023-09-20" / "legislators-current.yaml"
        if snapshot.exists():
            call_command("import_legislators", snapshot, historical=True, stdout=self.stdout)
        call_command("import_executive", people / "executive.yaml", stdout=self.stdout)
        for congress in (118, 119):
            csv = root / "zccd" / f"zccd_cd{congress}.csv"
            if csv.exists():
                call_command("import_zip_districts", csv, congress=congress, stdout=self.stdout)
