"""legislators.sources: the pinned public files, downloaded from a loopback stand-in for
raw.githubusercontent.com that serves ../shared/data at the upstream paths."""

import hashlib
import socket
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from legislators import sources
from legislators.lookup import AddressError, delegation_for_address
from legislators.models import ContactForm, ZipDistrict
from tests.conftest import data_path
from tests.support.receivers import HttpReceiver, Reply
from tests.support.upstream import LEGISLATORS_MAIN, UpstreamFiles

CURRENT = f"/unitedstates/congress-legislators/{LEGISLATORS_MAIN}/legislators-current.yaml"
PUBLIC_DATA_PATHS = {
    CURRENT,
    "/unitedstates/congress-legislators/98e8dceb1a11f11efec77b616e6bc344d38e2233/legislators-current.yaml",
    f"/unitedstates/congress-legislators/{LEGISLATORS_MAIN}/executive.yaml",
    f"/unitedstates/congress-legislators/{LEGISLATORS_MAIN}/legislators-district-offices.yaml",
    "/OpenSourceActivismTech/us-zipcodes-congress/a6af9d9952a559e24dd936b119c0b0316aeb8930/zccd.csv",
    "/OpenSourceActivismTech/us-zipcodes-congress/f58fe9912b312c2b8ab9174d1eb7b830a25af039/zccd.csv",
}


@pytest.fixture
def shared():
    """../shared/data, found as every other test finds it (before the settings point away)."""
    return data_path()


@pytest.fixture
def no_local_folders(settings, tmp_path, shared):
    """A fresh machine: no data folders, an empty var/ of the test's own."""
    settings.LEGISLATOR_DATA_DIR = tmp_path / "no-shared" / "data"
    settings.CONTACT_FORMS_DIR = tmp_path / "no-shared" / "data" / "contact-forms"
    settings.VAR_DIR = tmp_path / "var"
    return tmp_path / "var" / "public-data"


@pytest.fixture
def upstream(settings, shared, no_local_folders):
    """The loopback upstream, and PUBLIC_DATA_BASE_URL pointed at it."""
    files = UpstreamFiles(shared)
    server = HttpReceiver().start()
    server.respond = files
    settings.PUBLIC_DATA_BASE_URL = server.url
    server.files = files
    yield server
    server.stop()


@pytest.fixture
def nobody_listening(settings, no_local_folders):
    """PUBLIC_DATA_BASE_URL at a loopback port nothing listens on: connection refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.PUBLIC_DATA_BASE_URL = f"http://127.0.0.1:{port}"


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _cache_contents(cache: Path) -> list[str]:
    return sorted(path.name for path in cache.iterdir()) if cache.exists() else []


def test_a_fresh_cache_downloads_verifies_and_lays_out_the_files(upstream, shared):
    said = []

    folder = sources.local_or_fetched("public-data", progress=said.append)

    assert {request.path for request in upstream.requests()} == PUBLIC_DATA_PATHS
    assert len(upstream.requests()) == 6
    fetched = _files(folder)
    assert fetched == {name: (shared / name).read_bytes() for name in fetched}
    assert "congress-legislators/snapshot-2023-09-20/legislators-current.yaml" in fetched
    assert {"zccd/zccd_cd118.csv", "zccd/zccd_cd119.csv"} <= set(fetched)
    cache = folder.parent
    for source in sources.PUBLIC_DATA:
        assert (cache / source.sha256).read_bytes() == (shared / source.name).read_bytes()
    assert said[0].startswith("No folder at ")
    assert said[1].startswith(f"Downloading 6 files ({sum(s.size for s in sources.PUBLIC_DATA):,}")
    assert "[6/6] " in said[-1]
    assert sum("sha256 verified" in line for line in said) == 6


def test_a_second_run_makes_no_request(upstream):
    first = sources.local_or_fetched("public-data")
    upstream.clear()

    assert sources.local_or_fetched("public-data") == first
    assert sources.fetch("zccd/zccd_cd119.csv").is_file()
    assert upstream.requests() == []


def test_a_damaged_cache_file_is_downloaded_again(upstream, shared):
    first = sources.local_or_fetched("public-data")
    name = "congress-legislators/executive.yaml"
    (first / name).chmod(0o644)
    (first / name).write_bytes(b"edited by hand")
    upstream.clear()

    folder = sources.local_or_fetched("public-data")

    assert [request.path for request in upstream.requests()] == [
        f"/unitedstates/congress-legislators/{LEGISLATORS_MAIN}/executive.yaml"
    ]
    assert (folder / name).read_bytes() == (shared / name).read_bytes()


def test_contact_forms_come_with_every_senate_file_the_executive_one_and_the_schema(
    upstream, shared
):
    folder = sources.local_or_fetched("contact-forms")

    fetched = _files(folder)
    local = shared / "contact-forms"
    assert fetched == {name: (local / name).read_bytes() for name in fetched}
    senate = {name for name in fetched if name.startswith("senate/")}
    assert senate == {f"senate/{path.name}" for path in (local / "senate").glob("*.yaml")}
    assert len(senate) == 100
    assert {"executive/us-president.yaml", "schema.md", "variables.yaml", "constants.yaml"} <= set(
        fetched
    )
    assert len(upstream.requests()) == len(fetched) == 104


def test_a_tampered_file_is_refused_naming_it_and_both_hashes_and_nothing_is_cached(
    upstream, shared, no_local_folders
):
    real = (shared / "congress-legislators" / "legislators-current.yaml").read_bytes()
    tampered = real.replace(b"Sanders", b"Sandars", 1)
    assert len(tampered) == len(real)
    upstream.files.replace(CURRENT, tampered)

    with pytest.raises(sources.Mismatch) as refused:
        sources.local_or_fetched("public-data")

    message = str(refused.value)
    assert "congress-legislators/legislators-current.yaml" in message
    assert hashlib.sha256(tampered).hexdigest() in message
    assert hashlib.sha256(real).hexdigest() in message
    assert "refused, nothing cached" in message
    assert "LEGISLATOR_DATA_DIR" in message
    assert _cache_contents(no_local_folders) == []


def test_a_short_file_is_refused_and_nothing_is_cached(upstream, shared, no_local_folders):
    real = (shared / "congress-legislators" / "legislators-current.yaml").read_bytes()
    upstream.files.replace(CURRENT, real[:1000])

    with pytest.raises(sources.Mismatch, match="announces 1,000 bytes, the pinned file has"):
        sources.local_or_fetched("public-data")

    assert _cache_contents(no_local_folders) == []


def test_a_file_missing_upstream_is_refused_with_the_status(upstream, no_local_folders):
    upstream.respond = lambda request: Reply(404, b"404: Not Found")

    with pytest.raises(
        sources.SourceError, match=r"legislators-current.yaml: .* answered HTTP 404"
    ):
        sources.local_or_fetched("public-data")

    assert _cache_contents(no_local_folders) == []


def test_offline_the_import_stops_with_one_message_saying_what_is_missing_and_what_to_do(
    nobody_listening, settings
):
    with pytest.raises(CommandError) as stopped:
        call_command("import_public_data", stdout=StringIO())

    message = str(stopped.value)
    assert isinstance(stopped.value, sources.Offline)
    assert message.startswith(
        f"The public data cannot be downloaded: {settings.PUBLIC_DATA_BASE_URL} cannot be "
        "reached (Connection refused)."
    )
    assert "congress-legislators/legislators-current.yaml" in message
    assert "(6 files, " in message
    assert "set LEGISLATOR_DATA_DIR to a folder holding these files" in message
    assert "connect to the internet" in message
    assert "\n" not in message


def test_offline_contact_forms_name_their_own_setting(nobody_listening):
    with pytest.raises(sources.Offline) as stopped:
        sources.local_or_fetched("contact-forms")

    message = str(stopped.value)
    assert "schema.md" in message
    assert ", and 99 more (104 files, " in message
    assert "set CONTACT_FORMS_DIR to a folder holding these files" in message


def test_a_local_folder_wins_and_nothing_is_downloaded(upstream, settings, shared):
    settings.LEGISLATOR_DATA_DIR = shared
    settings.CONTACT_FORMS_DIR = shared / "contact-forms"

    assert sources.local_or_fetched("public-data") == shared
    assert sources.local_or_fetched("contact-forms") == shared / "contact-forms"
    assert upstream.requests() == []


def test_only_http_and_https_base_urls(settings, no_local_folders):
    settings.PUBLIC_DATA_BASE_URL = "file:///etc"
    with pytest.raises(sources.SourceError, match="must be an http"):
        sources.local_or_fetched("public-data")


@pytest.mark.django_db
def test_import_public_data_on_a_fresh_machine_finds_the_officials_of_a_zip(upstream):
    ZipDistrict.objects.all().delete()
    with pytest.raises(AddressError):
        delegation_for_address(zip_code="08854")
    out = StringIO()

    call_command("import_public_data", stdout=out)

    assert "[6/6] " in out.getvalue()
    assert "[104/104] " in out.getvalue()  # and the offices' web forms
    delegation = delegation_for_address(zip_code="08854")
    assert {official.legislator.state for official in delegation.senators} == {"NJ"}
    assert len(delegation.senators) == 2
    assert delegation.candidate_representatives
    assert len(upstream.requests()) == 6 + 104
    booker = [o for o in delegation.senators if o.legislator.bioguide_id == "B001288"]
    assert ContactForm.objects.filter(official__in=booker).exists()
