"""`manage.py campaign_report`: the staffer report's numbers, the same as the admin's."""

import csv
import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from alerts.models import Action, Delivery
from alerts.reports import CSV_HEADER
from tests.support.campaign_seed import seed_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def seed():
    return seed_campaign(actions=120)


def _run(*args) -> str:
    out = io.StringIO()
    call_command("campaign_report", *args, stdout=out)
    return out.getvalue()


def test_the_text_report_prints_each_offices_numbers(seed):
    campaign = seed.campaign
    text = _run(campaign.slug)
    assert "1. Fund the program" in text and "2. Hold a hearing" in text
    counted = Action.objects.filter(campaign=campaign).counted()
    for official in [seed.secretary, *seed.representatives.values(), *seed.senators["VA"]]:
        deliveries = Delivery.objects.filter(official=official, action__in=counted)
        block = re.search(rf"\[{official.key}\]\n(.*?)(?:\n\n|\Z)", text, re.S).group(1)
        assert f"Constituents who wrote: {deliveries.count()}\n" in block
        thank = deliveries.filter(variant="thank").count()
        urge = deliveries.filter(variant="urge").count()
        executive = deliveries.filter(variant="executive").count()
        assert f"Thank: {thank}  Urge: {urge}  Executive: {executive}\n" in block
        assert f"Delivered so far: {deliveries.filter(status='sent').count()}" in block
        assert 0 < len(re.findall(r"^  - ", block, re.M)) <= 10
    assert "@" not in text.replace(campaign.organization_name, "")
    assert " Main St" not in text


def test_one_office(seed):
    office = seed.representatives[("NY", 20)]
    text = _run(seed.campaign.slug, "--office", office.key)
    assert text.count("Constituents who wrote:") == 1
    assert f"[{office.key}]" in text


def test_csv_is_the_admins_download(seed, admin_client):
    printed = _run(seed.campaign.slug, "--csv")
    rows = list(csv.reader(io.StringIO(printed)))
    assert tuple(rows[0]) == CSV_HEADER
    assert len(rows) == 1 + 2 * 5 + len(seed.representatives) + 1
    url = reverse("admin:alerts_campaign_report_csv", args=[seed.campaign.pk])
    assert admin_client.get(url).content.decode() == printed


def test_csv_of_one_office(seed, admin_client):
    office = seed.senators["CA"][1]
    printed = _run(seed.campaign.slug, "--office", office.key, "--csv")
    url = reverse("admin:alerts_campaign_report_csv", args=[seed.campaign.pk])
    assert admin_client.get(url, {"office": office.key}).content.decode() == printed
    assert [r[0] for r in csv.reader(io.StringIO(printed))][1:] == [office.key]


def test_an_unknown_campaign_or_office_is_refused(seed):
    with pytest.raises(CommandError, match="No campaign with the slug 'nope'"):
        _run("nope")
    with pytest.raises(CommandError, match="No office with the key 'nobody'"):
        _run(seed.campaign.slug, "--office", "nobody")


def test_an_office_nobody_wrote_to(seed):
    other = seed_campaign(actions=3).secretary
    text = _run(seed.campaign.slug, "--office", other.key)
    assert "No constituent has written to this office" in text
