"""A geocoder for tests: answers from a table instead of the network."""

from legislators.geocoders import DistrictMatch, GeocoderError

ANSWERS = {
    "350 5th Ave": DistrictMatch("NY", 12),
    "1 Nowhere Rd": None,
}


class TableGeocoder:
    def district_for(self, *, street, city, state, zip_code):
        if street == "500 Broken Way":
            raise GeocoderError("service unavailable")
        return ANSWERS.get(street)


class CountingGeocoder(TableGeocoder):
    """TableGeocoder, counting the addresses it is asked about."""

    calls: list[str] = []

    def district_for(self, *, street, city, state, zip_code):
        CountingGeocoder.calls.append(street)
        return super().district_for(street=street, city=city, state=state, zip_code=zip_code)
