"""The Census geocoder, against a real HTTP server on loopback that answers like the Census one."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ImproperlyConfigured

from legislators.geocoders import (
    CensusGeocoder,
    DistrictMatch,
    GeocoderError,
    get_geocoder,
    ordinal,
)

ADDRESS = {
    "street": "4600 Lee Hwy",
    "city": "Arlington",
    "state": "VA",
    "zip_code": "22207",
}


def district_record(state_fips, code, congress=119):
    """One record of a "…th Congressional Districts" layer, as the Census geocoder sends it."""
    basename = {
        "00": "Congressional District (at Large)",
        "98": "Delegate District (at Large)",
        "ZZ": "Congressional Districts not defined",
    }.get(code) or f"Congressional District {int(code)}"
    return {
        "GEOID": f"{state_fips}{code}",
        "CDSESSN": str(congress),
        "CENTLAT": "+38.8315530",
        "CENTLON": "-077.1541437",
        "BASENAME": basename.removeprefix("Congressional District "),
        "NAME": basename,
        "FUNCSTAT": "N",
        "STATE": state_fips,
        f"CD{congress}": code,
        "LSADC": "C2",
        "MTFCC": "G5200",
        "OBJECTID": 2312,
        "AREALAND": 176452360,
        "AREAWATER": 3187046,
    }


def address_match(*records, congress=119, matched="4600 LEE HWY, ARLINGTON, VA, 22207"):
    return {
        "tigerLine": {"side": "L", "tigerLineId": "76214451"},
        "geographies": {
            f"{ordinal(congress)} Congressional Districts": list(records),
        },
        "coordinates": {"x": -77.11368, "y": 38.90123},
        "addressComponents": {
            "zip": "22207",
            "streetName": "LEE",
            "preType": "",
            "city": "ARLINGTON",
            "preDirection": "",
            "suffixDirection": "",
            "fromAddress": "4500",
            "state": "VA",
            "suffixType": "HWY",
            "toAddress": "4698",
            "suffixQualifier": "",
            "preQualifier": "",
        },
        "matchedAddress": matched,
    }


def census_answer(*matches):
    return {
        "result": {
            "input": {
                "address": {
                    "zip": "22207",
                    "city": "Arlington",
                    "street": "4600 Lee Hwy",
                    "state": "VA",
                },
                "vintage": {
                    "isDefault": True,
                    "id": "4",
                    "vintageName": "Current_Current",
                    "vintageDescription": "Current Vintage - Current Benchmark",
                },
                "benchmark": {
                    "isDefault": False,
                    "benchmarkDescription": "Public Address Ranges - Current Benchmark",
                    "id": "4",
                    "benchmarkName": "Public_AR_Current",
                },
            },
            "addressMatches": list(matches),
        }
    }


class CensusStub:
    """A Census-like HTTP server on a free loopback port, answering whatever the test sets."""

    def __init__(self):
        self.status = 200
        self.body = b"{}"
        self.hang = False
        self.requests = []  # the path (with query string) of each GET received
        self.release = threading.Event()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                stub.requests.append(self.path)
                if stub.hang:
                    # Accept the request and say nothing, until teardown (bounded, so a
                    # client without a timeout fails the test instead of hanging it).
                    stub.release.wait(timeout=5)
                    return
                self.send_response(stub.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(stub.body)))
                self.end_headers()
                self.wfile.write(stub.body)

            def log_message(self, format, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/geocoder"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def answer(self, payload, status=200):
        self.status = status
        self.body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()

    def query(self):
        """The parameters of the one request received, and its path."""
        assert len(self.requests) == 1
        parts = urlsplit(self.requests[0])
        return parts.path, {key: values[0] for key, values in parse_qs(parts.query).items()}

    def geocoder(self, **kwargs):
        return CensusGeocoder(base_url=self.url, **kwargs)


@pytest.fixture
def census():
    stub = CensusStub()
    stub.thread.start()
    yield stub
    stub.release.set()
    stub.server.shutdown()
    stub.server.server_close()
    stub.thread.join(timeout=5)


def test_an_address_in_a_numbered_district(census):
    census.answer(census_answer(address_match(district_record("51", "08"))))

    assert census.geocoder().district_for(**ADDRESS) == DistrictMatch("VA", 8)


def test_the_request_carries_the_address_and_asks_for_json(census):
    census.answer(census_answer(address_match(district_record("51", "08"))))

    census.geocoder(congress=119).district_for(**ADDRESS)

    path, params = census.query()
    assert path == "/geocoder/geographies/address"
    assert params == {
        "street": "4600 Lee Hwy",
        "city": "Arlington",
        "state": "VA",
        "zip": "22207",
        "benchmark": "Public_AR_Current",
        "vintage": "Current_Current",
        "layers": "119th Congressional Districts",
        "format": "json",
    }


@pytest.mark.parametrize(
    ("fips", "code", "expected"),
    [("56", "00", DistrictMatch("WY", 0)), ("11", "98", DistrictMatch("DC", 0))],
)
def test_at_large_seats_and_delegates_are_district_0(census, fips, code, expected):
    census.answer(census_answer(address_match(district_record(fips, code))))

    assert census.geocoder().district_for(**ADDRESS) == expected


def test_an_address_not_found_is_none(census):
    census.answer(census_answer())

    assert census.geocoder().district_for(**ADDRESS) is None
    assert len(census.requests) == 1


def test_an_address_in_no_district_is_none(census):
    census.answer(census_answer(address_match(district_record("51", "ZZ"))))

    assert census.geocoder().district_for(**ADDRESS) is None


def test_matches_that_agree_give_their_district(census):
    census.answer(
        census_answer(
            address_match(district_record("51", "08")),
            address_match(district_record("51", "08"), matched="4600 LEE HWY N, ARLINGTON"),
        )
    )

    assert census.geocoder().district_for(**ADDRESS) == DistrictMatch("VA", 8)


def test_matches_in_different_districts_are_ambiguous(census):
    census.answer(
        census_answer(
            address_match(district_record("51", "08")),
            address_match(district_record("51", "11"), matched="4600 LEE HWY, FAIRFAX"),
        )
    )

    assert census.geocoder().district_for(**ADDRESS) is None


@pytest.mark.parametrize(
    ("congress", "layer"),
    [
        (118, "118th Congressional Districts"),
        (121, "121st Congressional Districts"),
        (122, "122nd Congressional Districts"),
        (123, "123rd Congressional Districts"),
    ],
)
def test_the_layer_follows_the_congress(census, congress, layer):
    census.answer(
        census_answer(address_match(district_record("51", "07", congress), congress=congress))
    )

    assert census.geocoder(congress=congress).district_for(**ADDRESS) == DistrictMatch("VA", 7)
    assert census.query()[1]["layers"] == layer


def test_the_congress_defaults_to_the_active_one(census, settings):
    settings.ACTIVE_CONGRESS = 118
    census.answer(census_answer(address_match(district_record("51", "07", 118), congress=118)))

    assert census.geocoder().district_for(**ADDRESS) == DistrictMatch("VA", 7)
    assert census.query()[1]["layers"] == "118th Congressional Districts"


def test_an_answer_for_another_congress_is_an_error(census):
    census.answer(census_answer(address_match(district_record("51", "07", 118), congress=118)))

    with pytest.raises(GeocoderError):
        census.geocoder(congress=119).district_for(**ADDRESS)


def test_http_500_is_an_error(census):
    census.answer(b'{"errors":["Internal Server Error"],"status":"500"}', status=500)

    with pytest.raises(GeocoderError):
        census.geocoder().district_for(**ADDRESS)


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>Service Unavailable</body></html>",
        b'{"result": {"addressMatches": [',
        b'{"errors": ["Specify a benchmark"], "status": "400"}',
        json.dumps({"result": {"addressMatches": [{"geographies": {"States": []}}]}}).encode(),
        json.dumps(census_answer(address_match({"STATE": "51", "BASENAME": "8"}))).encode(),
    ],
    ids=["html", "truncated", "errors", "no-district-layer", "no-district-field"],
)
def test_an_answer_that_is_not_the_expected_json_is_an_error(census, body):
    census.answer(body)

    with pytest.raises(GeocoderError):
        census.geocoder().district_for(**ADDRESS)


def test_a_server_that_never_answers_times_out(census):
    census.hang = True
    started = time.monotonic()

    with pytest.raises(GeocoderError):
        census.geocoder(timeout=0.5).district_for(**ADDRESS)

    assert time.monotonic() - started < 3
    assert len(census.requests) == 1  # it was the read that timed out, not the connection


def test_a_refused_connection_is_an_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port any more.

    with pytest.raises(GeocoderError):
        CensusGeocoder(base_url=f"http://127.0.0.1:{port}", timeout=1).district_for(**ADDRESS)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/geocoder", "127.0.0.1"])
def test_only_http_urls_are_accepted(url):
    with pytest.raises(ImproperlyConfigured):
        CensusGeocoder(base_url=url)


def test_no_geocoder_unless_one_is_configured(settings):
    settings.GEOCODER = ""

    assert get_geocoder() is None


def test_the_configured_geocoder_uses_the_settings(settings):
    settings.GEOCODER = "legislators.geocoders.CensusGeocoder"
    settings.GEOCODER_CENSUS_URL = "http://127.0.0.1:9/geocoder/"
    settings.GEOCODER_TIMEOUT = 1.5
    settings.ACTIVE_CONGRESS = 119

    geocoder = get_geocoder()

    assert isinstance(geocoder, CensusGeocoder)
    assert geocoder.base_url == "http://127.0.0.1:9/geocoder"
    assert geocoder.timeout == 1.5
    assert geocoder.congress == 119


def test_ordinals():
    assert [ordinal(n) for n in (101, 111, 112, 113, 118, 119, 121, 122, 123, 211)] == [
        "101st", "111th", "112th", "113th", "118th", "119th", "121st", "122nd", "123rd", "211th",
    ]  # fmt: skip
