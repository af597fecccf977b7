"""The submit on SQLite, the database `make run` starts with: PostgreSQL writes it in one
statement (test_submit_cost.py), SQLite through the ORM. Run in a process of its own, on a
fresh SQLite file, since the suite's database is PostgreSQL."""

import json
import os
import subprocess
import sys

from tests.support.processes import ROOT

SUBMIT_TWICE = """
import json
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from alerts.models import ActionCount, Delivery
from alerts.services import action_submit
from tests.factories import CampaignFactory, OfficialFactory

officials = [OfficialFactory(title=f"Secretary {n}") for n in range(3)]
campaign = CampaignFactory(targets=officials, double_opt_in=False)
who = dict(first_name="Ani", last_name="Petrosyan", email="ani@example.org",
           street="100 N Brand Blvd", city="Glendale", state="CA", zip_code="91203")
first = action_submit(campaign=campaign, constituent=who, subject="Please act", message="",
                      officials=officials[:2], consent_text="I agree.").action
again = action_submit(campaign=campaign, constituent={**who, "email": "ANI@example.org"},
                      subject="Please act", message="", officials=officials,
                      consent_text="I agree.").action
print(json.dumps({
    "first": sorted(first.deliveries.values_list("official_id", flat=True)),
    "again": sorted(again.deliveries.values_list("official_id", flat=True)),
    "skipped": sorted(again.skipped_officials.values_list("pk", flat=True)),
    "queued": Delivery.objects.filter(status="queued").count(),
    "counted": sum(ActionCount.objects.filter(campaign=campaign).values_list("actions", flat=True)),
    "officials": [o.pk for o in officials],
}))
"""


def test_on_sqlite_a_submit_writes_its_deliveries_and_a_repeat_skips_the_officials_written(
    tmp_path,
):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "-c", SUBMIT_TWICE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    written = json.loads(result.stdout.strip().splitlines()[-1])
    one, two, three = written["officials"]
    assert written["first"] == [one, two]
    assert written["again"] == [three]
    assert written["skipped"] == [one, two]
    assert written["queued"] == 3
    assert written["counted"] == 2
