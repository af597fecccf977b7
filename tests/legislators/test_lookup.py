"""delegation_for_address on the real ZIP → district data and the real current Congress."""

import uuid

import pytest

from legislators import importers
from legislators.lookup import AddressError, Seat, delegation_for_address
from legislators.models import Legislator, Official, ZipDistrict
from tests.factories import OfficialFactory
from tests.support.geocoders import CountingGeocoder

pytestmark = pytest.mark.django_db


def _seats(delegation):
    return [str(seat) for seat in delegation.seats]


def _bioguides(officials):
    return sorted(o.legislator.bioguide_id for o in officials)


def _assert_senators_of(delegation, state):
    assert len(delegation.senators) == 2
    assert {o.legislator.state for o in delegation.senators} == {state}
    assert {o.legislator.chamber for o in delegation.senators} == {"senate"}


def test_a_zip_in_one_district_has_one_representative_and_two_senators(
    real_data, django_assert_max_num_queries
):
    with django_assert_max_num_queries(2):
        delegation = delegation_for_address(zip_code="22201")
    assert _seats(delegation) == ["VA-08"]
    assert not delegation.is_split
    assert _bioguides(delegation.candidate_representatives) == ["B001292"]
    _assert_senators_of(delegation, "VA")


def test_zip_plus_four_uses_the_five_digit_zip(real_data):
    assert _seats(delegation_for_address(zip_code="22201-1234")) == ["VA-08"]


def test_a_zip_spanning_districts_is_split_with_every_candidate(real_data):
    delegation = delegation_for_address(zip_code="10001", state="NY")
    assert delegation.is_split
    assert _seats(delegation) == ["NY-10", "NY-12"]
    assert _bioguides(delegation.candidate_representatives) == ["G000599", "N000002"]
    _assert_senators_of(delegation, "NY")


def test_a_zip_spanning_two_states_is_split_until_the_state_is_known(real_data):
    both = delegation_for_address(zip_code="82801")
    assert both.is_split
    assert _seats(both) == ["MT-02", "WY-AL"]
    assert {o.legislator.state for o in both.senators} == {"MT", "WY"}

    wyoming = delegation_for_address(zip_code="82801", state="WY")
    assert not wyoming.is_split
    assert _seats(wyoming) == ["WY-AL"]
    _assert_senators_of(wyoming, "WY")


@pytest.mark.parametrize(
    ("zip_code", "state"),
    [("82001", "WY"), ("05401", "VT"), ("99501", "AK"), ("19901", "DE"), ("58102", "ND")],
)
def test_at_large_states_have_district_zero(real_data, zip_code, state):
    delegation = delegation_for_address(zip_code=zip_code)
    assert delegation.seats == [Seat(state, 0)]
    [representative] = delegation.candidate_representatives
    assert (representative.legislator.state, representative.legislator.district) == (state, 0)
    assert representative.title == "Representative"
    _assert_senators_of(delegation, state)


def test_dc_has_one_non_voting_delegate_and_no_senators(real_data):
    delegation = delegation_for_address(zip_code="20001")
    assert delegation.senators == []
    assert delegation.vacant_senate_seats == 0
    assert _bioguides(delegation.candidate_representatives) == ["N000147"]
    assert delegation.candidate_representatives[0].title == "Delegate"


def test_puerto_rico_has_the_resident_commissioner_and_no_senators(real_data):
    delegation = delegation_for_address(zip_code="00601")
    assert delegation.senators == []
    [commissioner] = delegation.candidate_representatives
    assert commissioner.title == "Resident Commissioner"
    assert commissioner.legislator.state == "PR"


def test_a_vacant_seat_is_reported_not_an_error(real_data):
    # TX-23 has no member in the current file; pick a ZIP wholly inside it.
    zip_code = next(
        z
        for z in ZipDistrict.objects.filter(congress=119, state="TX", district=23).values_list(
            "zip_code", flat=True
        )
        if ZipDistrict.objects.filter(congress=119, zip_code=z).count() == 1
    )
    assert not Legislator.objects.in_office().filter(state="TX", district=23).exists()
    delegation = delegation_for_address(zip_code=zip_code)
    assert delegation.vacant_seats == [Seat("TX", 23)]
    assert delegation.candidate_representatives == []
    _assert_senators_of(delegation, "TX")


@pytest.mark.parametrize(
    ("zip_code", "state", "message"),
    [
        ("99999", None, "could not find ZIP code 99999"),
        ("20500", None, "could not find ZIP code 20500"),  # the White House: no ZCTA
        ("1234", None, "Enter a 5-digit ZIP code"),
        ("abcde", None, "Enter a 5-digit ZIP code"),
        ("22201", "CA", "ZIP code 22201 is not in California"),
    ],
)
def test_unknown_or_malformed_zips_give_a_clear_error(real_data, zip_code, state, message):
    with pytest.raises(AddressError, match=message):
        delegation_for_address(zip_code=zip_code, state=state)


def test_the_active_congress_decides_the_districts(real_data, settings):
    # North Carolina redrew its map for 2025: 27601 (Raleigh) was split, now it is not.
    settings.ACTIVE_CONGRESS = 118
    assert _seats(delegation_for_address(zip_code="27601")) == ["NC-02", "NC-13"]
    settings.ACTIVE_CONGRESS = 119
    assert _seats(delegation_for_address(zip_code="27601")) == ["NC-02"]


def test_inactive_officials_are_not_offered(real_data):
    delegation = delegation_for_address(zip_code="22201")
    beyer = delegation.candidate_representatives[0]
    beyer.is_active = False
    beyer.save()
    assert delegation_for_address(zip_code="22201").vacant_seats == [Seat("VA", 8)]
    OfficialFactory()  # an unrelated executive official changes nothing
    assert len(delegation_for_address(zip_code="22201").senators) == 2


@pytest.fixture
def table_geocoder(settings):
    settings.GEOCODER = "tests.support.geocoders.TableGeocoder"


def test_a_configured_geocoder_places_a_full_address_in_one_district(real_data, table_geocoder):
    delegation = delegation_for_address(
        zip_code="10001", state="NY", street="350 5th Ave", city="New York"
    )
    assert delegation.geocoded
    assert _seats(delegation) == ["NY-12"]
    assert not delegation.is_split


@pytest.mark.parametrize("street", ["1 Nowhere Rd", "500 Broken Way"])
def test_when_the_geocoder_cannot_place_the_address_the_zip_stays_split(
    real_data, table_geocoder, street
):
    delegation = delegation_for_address(zip_code="10001", state="NY", street=street, city="NYC")
    assert not delegation.geocoded
    assert _seats(delegation) == ["NY-10", "NY-12"]


def test_without_a_geocoder_the_street_is_not_used(real_data, settings):
    settings.GEOCODER = ""
    delegation = delegation_for_address(
        zip_code="10001", state="NY", street="350 5th Ave", city="New York"
    )
    assert delegation.is_split


def test_the_geocoder_is_asked_once_per_address_not_once_per_form_step(real_data, settings):
    settings.GEOCODER = "tests.support.geocoders.CountingGeocoder"
    CountingGeocoder.calls.clear()
    city = f"New York {uuid.uuid4().hex}"  # an address no earlier run has cached

    for _step in range(3):
        delegation = delegation_for_address(
            zip_code="10001", state="NY", street="350 5th Ave", city=city
        )
        assert _seats(delegation) == ["NY-12"]
    for _step in range(2):  # a failure is not remembered: the next step asks again
        delegation_for_address(zip_code="10001", state="NY", street="500 Broken Way", city=city)

    assert CountingGeocoder.calls == ["350 5th Ave", "500 Broken Way", "500 Broken Way"]


@pytest.mark.parametrize(
    ("zip_code", "state", "seats"),
    [
        ("22201", None, ["VA-08"]),  # one district
        ("10001", "NY", ["NY-10", "NY-12"]),  # split between districts
        ("82801", None, ["MT-02", "WY-AL"]),  # split between states
    ],
)
def test_a_lookup_is_one_query_whole_or_split(
    real_data, django_assert_num_queries, zip_code, state, seats
):
    with django_assert_num_queries(1):
        delegation = delegation_for_address(zip_code=zip_code, state=state)
        # Everything a caller reads is loaded: officials, their legislators, and back.
        for official in [*delegation.senators, *delegation.candidate_representatives]:
            assert official.legislator.official is official
            assert official.legislator.seat
    assert _seats(delegation) == seats


def _fields(instance):
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_the_officials_are_loaded_as_the_orm_loads_them(real_data):
    """The lookup's one statement lists the models' columns itself: every field, same values."""
    delegation = delegation_for_address(zip_code="82801")
    found = [*delegation.senators, *delegation.candidate_representatives]
    assert len(found) == 6
    orm = Official.objects.select_related("legislator").in_bulk([o.pk for o in found])
    for official in found:
        assert _fields(official) == _fields(orm[official.pk])
        assert _fields(official.legislator) == _fields(orm[official.pk].legislator)
        assert not official._state.adding
        assert official._state.db == orm[official.pk]._state.db


def _zip_csv(*rows):
    lines = ["state_fips,state_abbr,zcta,cd", *(f"56,{s},{z},{d}" for z, s, d in rows)]
    return "\n".join(lines).encode()


def test_a_re_import_of_the_zip_districts_is_seen_at_once(real_data, settings):
    settings.ACTIVE_CONGRESS = 120  # a Congress of its own, so only these rows count
    importers.zip_districts_import(_zip_csv(("82801", "WY", 0)), congress=120)
    assert _seats(delegation_for_address(zip_code="82801")) == ["WY-AL"]

    importers.zip_districts_import(_zip_csv(("82801", "WY", 0), ("82801", "MT", 2)), congress=120)
    assert _seats(delegation_for_address(zip_code="82801")) == ["MT-02", "WY-AL"]

    importers.zip_districts_import(_zip_csv(("82001", "WY", 0)), congress=120)
    with pytest.raises(AddressError, match="could not find ZIP code 82801"):
        delegation_for_address(zip_code="82801")
