"""The Senate's CWC active-offices list: `manage.py import_senate_offices PATH_OR_URL`, and the
daily refresh by beat."""

import datetime as dt
import json
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from legislators import senate_offices
from legislators.importers import DataError
from legislators.models import SenateCwcOffice
from legislators.tasks import refresh_senate_offices
from tests.support.fixtures import server_fixture
from tests.support.processes import ROOT
from tests.support.receivers import HttpReceiver, Reply

pytestmark = pytest.mark.django_db

PADILLA = {"name": "Alex Padilla [bioguide_id: P000145]", "office_code": "SCA03"}
SCHIFF = {"name": "Adam Schiff [bioguide_id: S001150]", "office_code": "SCA01"}
BOOKER = {"name": "Cory Booker [bioguide_id: B001288]", "office_code": "SNJ02"}

server = server_fixture(HttpReceiver)


def _write(tmp_path, data, name="active_offices.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def _import(*args):
    out = []

    class Out:
        def write(self, text, *a, **k):
            out.append(text)

        def flush(self):
            pass

    call_command("import_senate_offices", *map(str, args), stdout=Out())
    return "".join(out)


def _table():
    return {o.office_code: (o.name, o.bioguide_id, o.listed) for o in SenateCwcOffice.objects.all()}


def test_a_list_is_imported_with_bioguide_ids_and_a_summary_line(tmp_path):
    out = _import(_write(tmp_path, [PADILLA, SCHIFF]))

    assert _table() == {
        "SCA03": (PADILLA["name"], "P000145", True),
        "SCA01": (SCHIFF["name"], "S001150", True),
    }
    assert "2 offices listed: 2 added, 0 updated, 0 unchanged, 0 no longer listed" in out
    assert senate_offices.listed_codes() == {"SCA03", "SCA01"}


def test_the_list_may_come_wrapped_in_an_object(tmp_path):
    _import(_write(tmp_path, {"offices": [BOOKER]}))
    assert set(_table()) == {"SNJ02"}


def test_an_office_missing_from_a_new_list_is_unlisted_and_one_back_is_listed_again(tmp_path):
    _import(_write(tmp_path, [PADILLA, SCHIFF]))
    out = _import(_write(tmp_path, [PADILLA, BOOKER], "second.json"))

    assert _table()["SCA01"][2] is False
    assert _table()["SNJ02"][2] is True
    assert "2 offices listed: 1 added, 0 updated, 1 unchanged, 1 no longer listed" in out
    assert senate_offices.listed_codes() == {"SCA03", "SNJ02"}

    out = _import(_write(tmp_path, [PADILLA, BOOKER, SCHIFF], "third.json"))
    assert _table()["SCA01"][2] is True
    assert "1 updated" in out


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ({"name": "Someone", "office_code": "SCA00"}, "entry 1: office_code 'SCA00'"),
        ({"name": "Someone", "office_code": "HVA08"}, "entry 1: office_code 'HVA08'"),
        ({"name": "Someone", "office_code": "SDC01"}, "entry 1: office_code SDC01: no state DC"),
        ({"name": "Someone"}, "entry 1: office_code None"),
        ("SCA03", "entry 1: expected an object"),
        (PADILLA, "entry 1: office_code SCA03 repeats entry 0"),
    ],
)
def test_one_bad_entry_changes_nothing_and_the_error_names_it(tmp_path, bad, named):
    _import(_write(tmp_path, [SCHIFF]))
    before = _table()

    with pytest.raises(CommandError) as caught:
        _import(_write(tmp_path, [PADILLA, bad], "bad.json"))

    assert "Nothing imported" in str(caught.value)
    assert named in str(caught.value)
    assert _table() == before


@pytest.mark.parametrize("text", ["not json", '{"something": []}', "42"])
def test_a_file_that_is_not_a_list_is_refused(tmp_path, text):
    path = tmp_path / "list.json"
    path.write_text(text)
    with pytest.raises(CommandError, match="Nothing imported"):
        _import(path)
    assert _table() == {}


def test_a_dry_run_counts_and_changes_nothing(tmp_path):
    _import(_write(tmp_path, [SCHIFF]))
    before = _table()

    out = _import(_write(tmp_path, [PADILLA], "next.json"), "--dry-run")

    assert "Dry run, nothing changed: 1 offices listed: 1 added" in out
    assert "1 no longer listed" in out
    assert _table() == before


def test_a_list_is_read_from_a_url(server):
    server.always(Reply(200, json.dumps([PADILLA, BOOKER]), {"Content-Type": "application/json"}))

    out = _import(f"{server.url}/api/active_offices")

    assert set(_table()) == {"SCA03", "SNJ02"}
    assert "2 added" in out
    [request] = server.requests()
    assert (request.method, request.path) == ("GET", "/api/active_offices")


def test_a_url_that_fails_or_is_too_large_changes_nothing(server, monkeypatch):
    server.always(Reply(500, "oops"))
    with pytest.raises(CommandError, match="HTTP Error 500"):
        _import(f"{server.url}/api/active_offices")

    monkeypatch.setattr(senate_offices, "MAX_BYTES", 100)
    server.always(Reply(200, json.dumps([PADILLA, SCHIFF, BOOKER])))
    with pytest.raises(CommandError, match="larger than 100 bytes"):
        _import(f"{server.url}/api/active_offices")
    assert _table() == {}


def test_other_schemes_are_refused():
    with pytest.raises(DataError, match="only local paths and http"):
        senate_offices.read("ftp://example.org/list.json")


def test_seat_codes_are_s_state_zero_class():
    assert senate_offices.seat_code(state="CA", senate_class=3) == "SCA03"
    assert senate_offices.seat_code(state="NJ", senate_class=1) == "SNJ01"
    assert senate_offices.is_senate_code("SCA03")
    assert not senate_offices.is_senate_code("SCA00")


def test_the_daily_task_refreshes_from_the_configured_url(settings, server):
    server.always(Reply(200, json.dumps([PADILLA])))
    settings.SENATE_CWC_OFFICES_URL = f"{server.url}/api/active_offices"
    SenateCwcOffice.objects.create(
        office_code="SCA01", name="old", refreshed_at=timezone.now() - dt.timedelta(days=1)
    )

    assert refresh_senate_offices() == (
        "1 offices listed: 1 added, 0 updated, 0 unchanged, 1 no longer listed"
    )
    assert senate_offices.listed_codes() == {"SCA03"}

    server.always(Reply(200, "[{"))  # a broken list: the last good one stays
    assert refresh_senate_offices().startswith("not refreshed")
    assert senate_offices.listed_codes() == {"SCA03"}

    settings.SENATE_CWC_OFFICES_URL = ""
    assert refresh_senate_offices() == "SENATE_CWC_OFFICES_URL is not set"


@pytest.mark.parametrize("url", ["", "https://scwc.example/api/active_offices"])
def test_beat_refreshes_the_list_daily_only_when_a_url_is_set(url):
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.CELERY_BEAT_SCHEDULE.get('refresh-senate-cwc-offices'))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    env["SENATE_CWC_OFFICES_URL"] = url
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    entry = result.stdout.strip()
    if url:
        assert "'task': 'legislators.refresh_senate_offices'" in entry
        assert "'schedule': 86400" in entry
    else:
        assert entry == "None"
