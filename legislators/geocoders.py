"""Street address → congressional district, for the ZIPs that span several districts.

A geocoder is optional and pluggable: `settings.GEOCODER` names a class (instantiated with no
arguments) that implements `Geocoder`; `get_geocoder()` returns one, or None when none is
configured. `CensusGeocoder` asks the US Census Geocoder's "geographies/address" endpoint.

A geocoder never lets a network or format problem escape as anything but `GeocoderError`, so the
caller can fall back to asking the constituent which representative is theirs.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class DistrictMatch:
    state: str  # USPS code, e.g. "VA"
    district: int  # 0 for an at-large seat or a delegate


class GeocoderError(Exception):
    """The geocoder could not be reached, failed, or answered in a shape we do not understand."""


class Geocoder(Protocol):
    def district_for(
        self, *, street: str, city: str, state: str, zip_code: str
    ) -> DistrictMatch | None:
        """The district the address lies in, or None if the address was not found (or is
        ambiguous). Raises GeocoderError on transport or format failures."""


def get_geocoder() -> Geocoder | None:
    """The geocoder `settings.GEOCODER` names, freshly built, or None if none is configured."""
    path = getattr(settings, "GEOCODER", "")
    if not path:
        return None
    return import_string(path)()


# State FIPS code → USPS code: the 50 states, DC and Puerto Rico (Census state reference file).
FIPS_TO_USPS = {
    "01": "AL", "02": "AK", "04": "AZ", "05": "AR", "06": "CA", "08": "CO", "09": "CT",
    "10": "DE", "11": "DC", "12": "FL", "13": "GA", "15": "HI", "16": "ID", "17": "IL",
    "18": "IN", "19": "IA", "20": "KS", "21": "KY", "22": "LA", "23": "ME", "24": "MD",
    "25": "MA", "26": "MI", "27": "MN", "28": "MS", "29": "MO", "30": "MT", "31": "NE",
    "32": "NV", "33": "NH", "34": "NJ", "35": "NM", "36": "NY", "37": "NC", "38": "ND",
    "39": "OH", "40": "OK", "41": "OR", "42": "PA", "44": "RI", "45": "SC", "46": "SD",
    "47": "TN", "48": "TX", "49": "UT", "50": "VT", "51": "VA", "53": "WA", "54": "WV",
    "55": "WI", "56": "WY", "72": "PR",
}  # fmt: skip

# Census district codes that are not a numbered district: a state's single at-large seat ("00"),
# a non-voting delegate or resident commissioner ("98"), and water or land in no district ("ZZ").
_AT_LARGE_CODES = {"00", "98"}
_NO_DISTRICT_CODE = "ZZ"

# Census answers for one address are a few kilobytes; anything far larger is not an answer.
_MAX_RESPONSE_BYTES = 1_000_000


def ordinal(number: int) -> str:
    """118 → "118th", 121 → "121st", 122 → "122nd", 123 → "123rd", 111 → "111th"."""
    if 11 <= number % 100 <= 13:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


class CensusGeocoder:
    """The US Census Geocoder (https://geocoding.geo.census.gov/geocoder/), online and free.

    One request per address to `{base_url}/geographies/address`, asking only for the
    congressional-district layer of the given Congress ("119th Congressional Districts", whose
    records carry `STATE`, the state's FIPS code, and `CD119`, the district code).
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        timeout: float | None = None,
        congress: int | None = None,
        benchmark: str = "Public_AR_Current",
        vintage: str = "Current_Current",
    ) -> None:
        base_url = settings.GEOCODER_CENSUS_URL if base_url is None else base_url
        scheme = urllib.parse.urlsplit(base_url).scheme.lower()
        if scheme not in {"http", "https"}:
            raise ImproperlyConfigured(f"The Census geocoder URL must be http(s): {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout = float(settings.GEOCODER_TIMEOUT if timeout is None else timeout)
        self.congress = int(settings.ACTIVE_CONGRESS if congress is None else congress)
        self.benchmark = benchmark
        self.vintage = vintage

    @property
    def layer(self) -> str:
        """The name of the district layer, which is also its key in the answer."""
        return f"{ordinal(self.congress)} Congressional Districts"

    @property
    def district_field(self) -> str:
        return f"CD{self.congress}"

    def district_for(
        self, *, street: str, city: str, state: str, zip_code: str
    ) -> DistrictMatch | None:
        query = urllib.parse.urlencode(
            {
                "street": street,
                "city": city,
                "state": state,
                "zip": zip_code,
                "benchmark": self.benchmark,
                "vintage": self.vintage,
                "layers": self.layer,
                "format": "json",
            }
        )
        payload = self._get_json(f"{self.base_url}/geographies/address?{query}")
        return self._parse(payload)

    def _get_json(self, url: str) -> Any:
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            url, headers={"Accept": "application/json", "User-Agent": "action-alerts"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = response.read(_MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise GeocoderError(f"Census geocoder answered HTTP {exc.code}") from exc
        except (OSError, http.client.HTTPException) as exc:
            # URLError, TimeoutError, refused or reset connections, truncated answers.
            raise GeocoderError(f"Census geocoder unreachable: {exc}") from exc
        if len(body) > _MAX_RESPONSE_BYTES:
            raise GeocoderError("Census geocoder answer is too large")
        try:
            return json.loads(body)
        except ValueError as exc:
            raise GeocoderError(f"Census geocoder answer is not JSON: {exc}") from exc

    def _parse(self, payload: Any) -> DistrictMatch | None:
        result = payload.get("result") if isinstance(payload, dict) else None
        matches = result.get("addressMatches") if isinstance(result, dict) else None
        if not isinstance(matches, list):
            raise GeocoderError("Census geocoder answer has no result.addressMatches list")

        # Several candidate addresses may match; trust them only if they agree.
        found: set[DistrictMatch | None] = set()
        for match in matches:
            geographies = match.get("geographies") if isinstance(match, dict) else None
            if not isinstance(geographies, dict) or self.layer not in geographies:
                raise GeocoderError(f"Census geocoder match has no {self.layer!r} layer")
            records = geographies[self.layer]
            if not isinstance(records, list):
                raise GeocoderError(f"Census geocoder {self.layer!r} is not a list")
            if not records:
                found.add(None)
            found.update(self._district(record) for record in records)
        if len(found) != 1:
            return None  # no match at all, or matches in different districts
        return found.pop()

    def _district(self, record: Any) -> DistrictMatch | None:
        fips = record.get("STATE") if isinstance(record, dict) else None
        code = record.get(self.district_field) if isinstance(record, dict) else None
        if not isinstance(fips, str) or not isinstance(code, str):
            raise GeocoderError(
                f"Census geocoder district lacks STATE or {self.district_field}: {record!r}"
            )
        state = FIPS_TO_USPS.get(fips)
        if state is None or code == _NO_DISTRICT_CODE:
            return None  # outside the states, DC and Puerto Rico, or in no district
        if code in _AT_LARGE_CODES:
            return DistrictMatch(state, 0)
        if not (code.isascii() and code.isdigit()):
            raise GeocoderError(f"Census geocoder district code is not a number: {code!r}")
        return DistrictMatch(state, int(code))
