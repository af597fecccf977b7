"""District offices: imported from congress-legislators, and the one nearest a constituent's ZIP
code chosen by ZIP prefix (there are no ZIP coordinates in our data)."""

import io

import pytest
import yaml
from django.core.management import CommandError, call_command

from legislators.district_offices import (
    district_offices_import,
    nearest_office,
    parse_district_offices,
)
from legislators.importers import DataError
from legislators.models import DistrictOffice
from tests.conftest import data_path
from tests.factories import LegislatorFactory

pytestmark = pytest.mark.django_db


def _member(bioguide, *offices):
    return {"id": {"bioguide": bioguide}, "offices": list(offices)}


def _office(office_id, city, zip_code, phone="555-555-0100", state="NJ", **extra):
    return {"id": office_id, "city": city, "state": state, "zip": zip_code, "phone": phone, **extra}


def test_import_upserts_by_office_id_skips_unknown_members_and_is_idempotent():
    pallone = LegislatorFactory(bioguide_id="P000034", state="NJ")
    members = [
        _member(
            "P000034",
            _office(
                "P000034-long_branch",
                "Long Branch",
                "07740",
                suite="Suite 1",
                latitude=40.3,
                longitude=-74.0,
            ),
            _office("P000034-new_brunswick", "New Brunswick", "08901"),
        ),
        _member("X999999", _office("X999999-nowhere", "Nowhere", "00000")),
    ]
    summary = district_offices_import(members)
    assert (summary.created, summary.unknown_legislators) == (2, 1)
    office = DistrictOffice.objects.get(office_id="P000034-long_branch")
    assert (office.legislator, office.suite, office.zip_code, office.latitude) == (
        pallone,
        "Suite 1",
        "07740",
        40.3,
    )

    again = district_offices_import(members)
    assert (again.created, again.updated, again.unchanged, again.removed) == (0, 0, 2, 0)

    members[0]["offices"][1]["phone"] = "732-249-8892"
    del members[0]["offices"][0]
    changed = district_offices_import(members)
    assert (changed.updated, changed.removed) == (1, 1)
    assert list(DistrictOffice.objects.values_list("office_id", "phone")) == [
        ("P000034-new_brunswick", "732-249-8892")
    ]


def test_a_bad_record_imports_nothing():
    LegislatorFactory(bioguide_id="P000034", state="NJ")
    members = [
        _member("P000034", _office("P000034-a", "A", "07740")),
        _member("P000034", _office("P000034-b", "B", "07740", state="ZZ")),
    ]
    with pytest.raises(DataError, match=r"P000034-b.*unknown state 'ZZ'"):
        district_offices_import(members)
    assert DistrictOffice.objects.count() == 0


def test_the_command_imports_the_real_file_and_prints_a_summary(real_data):
    path = data_path("congress-legislators", "legislators-district-offices.yaml")
    out = io.StringIO()
    call_command("import_district_offices", str(path), stdout=out)
    assert out.getvalue().startswith("District offices: ")
    assert "created" in out.getvalue()
    pallone_offices = DistrictOffice.objects.filter(legislator__bioguide_id="P000034")
    assert pallone_offices.exists()
    assert all(o.phone and o.city for o in pallone_offices)
    count = DistrictOffice.objects.count()
    out = io.StringIO()
    call_command("import_district_offices", str(path), stdout=out)
    assert f"0 created, 0 updated, {count} unchanged, 0 removed" in out.getvalue()


def test_the_command_refuses_a_file_that_is_not_a_list(tmp_path):
    bad = tmp_path / "offices.yaml"
    bad.write_text(yaml.safe_dump({"not": "a list"}))
    with pytest.raises(CommandError, match=r"Nothing imported: .*expected a list"):
        call_command("import_district_offices", str(bad))


def test_parse_refuses_invalid_yaml():
    with pytest.raises(DataError, match="not valid YAML"):
        parse_district_offices(b"- [unclosed", name="f.yaml")


def _offices(*specs):
    return [
        DistrictOffice(office_id=f"X-{n}", city=f"City {n}", state="NJ", zip_code=z, phone=p)
        for n, (z, p) in enumerate(specs)
    ]


@pytest.mark.parametrize(
    ("constituent", "expected"),
    [
        ("08854", "X-1"),  # shares "088" with 08817 (and "08" with all): longest prefix wins
        ("07748", "X-0"),  # "0774": Long Branch 07740
        ("08901", "X-2"),  # exact ZIP
        ("08816", "X-1"),  # "0881" with 08817 only
        ("19104", "X-2"),  # no prefix in common: nearest number (08901 < 07740)
        ("", "X-0"),  # no ZIP: the first by city
    ],
)
def test_the_nearest_office_has_the_longest_common_zip_prefix(constituent, expected):
    offices = _offices(("07740", "1"), ("08817", "2"), ("08901", "3"))
    assert nearest_office(offices, constituent).office_id == expected


def test_a_tie_in_prefix_goes_to_the_nearer_zip_and_offices_without_phone_are_skipped():
    offices = _offices(("08810", "1"), ("08830", "2"), ("08825", ""))
    # 08822 shares "088" with all three: 08825 is nearest but has no phone; 08830 (8) beats
    # 08810 (12).
    assert nearest_office(offices, "08822").office_id == "X-1"
    assert nearest_office(_offices(("08825", "")), "08822") is None
    assert nearest_office([], "08822") is None


def test_import_public_data_imports_the_district_offices_after_the_legislators(
    tmp_path, monkeypatch
):
    from legislators.management.commands import import_public_data

    people = tmp_path / "congress-legislators"
    people.mkdir()
    (people / "legislators-district-offices.yaml").write_text("[]")
    called = []
    monkeypatch.setattr(
        import_public_data, "call_command", lambda name, *args, **kw: called.append((name, args))
    )
    call_command("import_public_data", data_dir=tmp_path, stdout=io.StringIO())
    names = [name for name, _ in called]
    assert names.index("import_district_offices") > names.index("import_legislators")
    assert ("import_district_offices", (people / "legislators-district-offices.yaml",)) in called
