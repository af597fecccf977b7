"""Importers against the real congress-legislators and ZCTA files in ../shared/data."""

import datetime as dt
import functools
import http.server
import io
import threading

import pytest
import yaml
from django.core.management import CommandError, call_command

from alerts.models import Cosignature
from legislators import states
from legislators.importers import DataError, legislators_import, parse_people
from legislators.models import Legislator, Official, Term, ZipDistrict
from tests.conftest import data_path
from tests.factories import CosignatureFactory

pytestmark = pytest.mark.django_db

CURRENT = ("congress-legislators", "legislators-current.yaml")


@pytest.fixture(autouse=True)
def empty_tables(db):
    """Import tests count from nothing. Other tests may have committed the real data for the
    session; emptying it inside this test's transaction leaves it there for them."""
    for model in (ZipDistrict, Official, Term, Legislator):
        model.objects.all().delete()


@pytest.fixture
def current_people():
    return parse_people(data_path(*CURRENT).read_bytes())


def _counts():
    return (Legislator.objects.count(), Term.objects.count(), Official.objects.count())


def _import(path, *args):
    out = io.StringIO()
    call_command("import_legislators", str(path), *args, stdout=out)
    return out.getvalue()


def test_the_real_current_file_gives_all_of_congress(current_people):
    output = _import(data_path(*CURRENT))

    assert "100/537 people read" in output
    assert "537 people: 537 created, 0 updated, 0 unchanged, 0 left office" in output
    sitting = Legislator.objects.in_office()
    assert sitting.senators().count() == 100
    for state in states.STATES:
        assert sitting.senators().filter(state=state).count() == 2, state
    assert not sitting.senators().filter(state__in=states.TERRITORIES).exists()
    house = sitting.representatives()
    delegates = house.filter(state__in=states.TERRITORIES)
    assert sorted(delegates.values_list("state", flat=True)) == sorted(states.TERRITORIES)
    voting = house.exclude(state__in=states.TERRITORIES).count()
    assert 425 <= voting <= 435  # 435 seats less the vacancies of the day
    assert Term.objects.count() == sum(len(p["terms"]) for p in current_people)
    # Every sitting member becomes a deliverable official.
    assert Official.objects.filter(kind="legislator", is_active=True).count() == 537


def test_reimporting_changes_nothing_and_json_equals_yaml():
    _import(data_path(*CURRENT))
    before = list(Legislator.objects.order_by("pk").values())
    output = _import(data_path("congress-legislators", "legislators-current.json"))
    assert "0 created, 0 updated, 537 unchanged, 0 left office" in output
    assert "terms: 0 created, 0 updated" in output
    assert list(Legislator.objects.order_by("pk").values()) == before


def test_fields_and_cwc_office_codes_are_derived_from_the_last_term():
    _import(data_path(*CURRENT))
    beyer = Legislator.objects.get(bioguide_id="B001292")
    assert (beyer.chamber, beyer.state, beyer.district, beyer.party) == ("house", "VA", 8, "D")
    assert beyer.cwc_office_code == "HVA08"
    assert beyer.official.cwc_office == "HVA08"
    assert beyer.official.channel == "cwc"
    assert Legislator.objects.get(bioguide_id="H001096").cwc_office_code == "HWY00"  # at-large
    schiff = Legislator.objects.get(bioguide_id="S001150")
    assert (schiff.chamber, schiff.senate_class, schiff.cwc_office_code) == ("senate", 1, "SCA01")
    assert schiff.official.title == "Senator"
    assert Legislator.objects.get(bioguide_id="N000147").official.title == "Delegate"


def test_all_terms_answer_who_held_a_seat_on_a_day():
    _import(data_path(*CURRENT))
    schiff = Legislator.objects.get(bioguide_id="S001150")
    on_letter_day = schiff.terms.get(start__lte=dt.date(2023, 9, 20), end__gte=dt.date(2023, 9, 20))
    assert (on_letter_day.chamber, on_letter_day.state, on_letter_day.district) == (
        "house",
        "CA",
        30,
    )
    assert schiff in Legislator.objects.serving_on(dt.date(2023, 9, 20))


def test_the_historical_snapshot_adds_former_members_without_changing_who_is_in_office():
    _import(data_path(*CURRENT))
    in_office = set(Legislator.objects.in_office().values_list("pk", flat=True))
    _import(
        data_path("congress-legislators", "snapshot-2023-09-20", "legislators-current.yaml"),
        "--historical",
    )

    assert set(Legislator.objects.in_office().values_list("pk", flat=True)) == in_office
    eshoo = Legislator.objects.get(bioguide_id="E000215")  # retired in January 2025
    assert not eshoo.in_office
    assert eshoo in Legislator.objects.serving_on(dt.date(2023, 9, 20))
    # Schiff's present seat (Senate) is not overwritten by his 2023 House record.
    assert Legislator.objects.get(bioguide_id="S001150").chamber == "senate"


def test_members_missing_from_a_newer_file_leave_office_and_keep_their_cosignatures(
    current_people, tmp_path
):
    legislators_import(current_people)
    leaving = current_people[0]["id"]["bioguide"]
    cosignature = CosignatureFactory(legislator=Legislator.objects.get(bioguide_id=leaving))
    newer = tmp_path / "newer.yaml"
    newer.write_text(yaml.safe_dump(current_people[1:]))

    output = _import(newer)

    assert "0 created, 0 updated, 536 unchanged, 1 left office" in output
    gone = Legislator.objects.get(bioguide_id=leaving)
    assert gone.in_office is False
    assert gone.official.is_active is False
    assert Cosignature.objects.filter(pk=cosignature.pk).exists()


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (lambda people: people[5]["id"].pop("bioguide"), "record 6 ("),
        (lambda people: people[7]["terms"][-1].update(state="XX"), "unknown state 'XX'"),
        (lambda people: people[9]["terms"][0].update(start="2020-02-31"), "bad date"),
        (lambda people: people.append(people[3]), "appears twice"),
    ],
)
def test_a_malformed_file_fails_naming_the_record_and_changes_nothing(
    current_people, tmp_path, break_it, message
):
    legislators_import(current_people[:50])
    before = _counts()
    break_it(current_people)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(current_people))

    with pytest.raises(CommandError, match="Nothing imported") as error:
        _import(bad)

    assert message in str(error.value)
    assert _counts() == before


def test_bad_yaml_is_refused(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("- id: {bioguide: X1\n  name: [")
    with pytest.raises(CommandError, match="not valid YAML or JSON"):
        _import(bad)
    assert Legislator.objects.count() == 0


def test_a_missing_bioguide_id_is_named_in_the_error():
    person = {"name": {"first": "Pat", "last": "Doe"}, "id": {}, "terms": []}
    with pytest.raises(DataError, match=r"record 1 \(Pat Doe\): no bioguide id"):
        legislators_import([person])


@pytest.fixture
def data_server():
    """A loopback HTTP server over ../shared/data, so import commands can read URLs."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(data_path()))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_import_commands_read_http_urls(data_server):
    _import(f"{data_server}/congress-legislators/legislators-current.json")
    assert Legislator.objects.in_office().count() == 537
    call_command(
        "import_zip_districts",
        f"{data_server}/zccd/zccd_cd119.csv",
        "--congress",
        "119",
        stdout=io.StringIO(),
    )
    assert ZipDistrict.objects.filter(congress=119).count() == 42033


def test_zip_districts_keep_leading_zeros_and_replace_only_their_congress():
    out = io.StringIO()
    call_command(
        "import_zip_districts",
        str(data_path("zccd", "zccd_cd118.csv")),
        "--congress",
        "118",
        stdout=out,
    )
    call_command(
        "import_zip_districts",
        str(data_path("zccd", "zccd_cd119.csv")),
        "--congress",
        "119",
        stdout=out,
    )
    call_command(
        "import_zip_districts",
        str(data_path("zccd", "zccd_cd119.csv")),
        "--congress",
        "119",
        stdout=out,
    )

    assert (
        "42033 rows for 33774 ZIP codes (7299 in more than one district); 42033 old rows replaced"
        in out.getvalue()
    )
    assert ZipDistrict.objects.filter(congress=118).count() == 41923
    assert list(
        ZipDistrict.objects.filter(congress=119, zip_code="00601").values_list("state", "district")
    ) == [("PR", 0)]
    assert ZipDistrict.objects.filter(congress=119, zip_code="10001").count() == 2


def test_a_bad_zip_row_changes_nothing(tmp_path):
    call_command(
        "import_zip_districts",
        str(data_path("zccd", "zccd_cd119.csv")),
        "--congress",
        "119",
        stdout=io.StringIO(),
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("state_fips,state_abbr,zcta,cd\n01,AL,35004,3\n06,CA,9021,30\n")
    with pytest.raises(CommandError, match=r"line 3: bad ZIP '9021'"):
        call_command("import_zip_districts", str(bad), "--congress", "119")
    assert ZipDistrict.objects.filter(congress=119).count() == 42033


def test_executive_officials_come_from_term_dates_and_a_small_yaml_list(tmp_path):
    executive = str(data_path("congress-legislators", "executive.yaml"))
    call_command("import_executive", executive, "--on", "2023-09-20", stdout=io.StringIO())
    assert Official.objects.get(key="us-president").last_name == "Biden"
    assert Official.objects.get(key="us-vice-president").last_name == "Harris"

    extra = tmp_path / "officials.yaml"
    extra.write_text(
        "- key: us-secretary-of-state\n  title: Secretary of State\n  name: Pat Example\n"
        "  last_name: Example\n  channel: contact_form\n"
        "  contact_form_url: https://www.state.gov/contact-us/\n"
    )
    call_command(
        "import_executive",
        executive,
        "--on",
        "2025-06-01",
        "--officials",
        str(extra),
        stdout=io.StringIO(),
    )
    assert Official.objects.get(key="us-president").last_name == "Trump"
    assert Official.objects.get(key="us-vice-president").last_name == "Vance"
    secretary = Official.objects.get(key="us-secretary-of-state")
    assert (secretary.kind, secretary.channel) == ("executive", "contact_form")


def test_an_executive_official_without_an_address_for_its_channel_is_refused(tmp_path):
    executive = str(data_path("congress-legislators", "executive.yaml"))
    extra = tmp_path / "officials.yaml"
    extra.write_text(
        "- key: us-un\n  title: Ambassador\n  name: A B\n  last_name: B\n  channel: email\n"
    )
    with pytest.raises(CommandError, match=r"entry 1 \(us-un\)"):
        call_command("import_executive", executive, "--officials", str(extra))
    assert not Official.objects.exists()
