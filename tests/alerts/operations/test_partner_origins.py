"""The embed's partner origins are https: refused when a campaign is saved, and campaigns saved
before that rule are named by a database system check."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from alerts.models import Campaign
from alerts.operations.checks import partner_origins_use_https
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "origin", ["http://partner.example", "http://partner.example:8080", "http://localhost:8000"]
)
def test_a_plain_http_partner_is_refused_next_to_the_field(origin):
    campaign = CampaignFactory(allowed_origins="https://partner.example")
    campaign.allowed_origins = f"https://partner.example\n{origin}"
    with pytest.raises(ValidationError) as error:
        campaign.full_clean()
    (message,) = error.value.message_dict["allowed_origins"]
    assert "https://" in message and origin.lower() in message


@pytest.mark.parametrize(
    "origin", ["http://localhost:8000", "http://127.0.0.1", "http://[::1]:8000"]
)
def test_loopback_over_http_is_allowed_while_debugging(settings, origin):
    settings.DEBUG = True
    CampaignFactory(allowed_origins=f"https://partner.example\n{origin}").full_clean()


def test_https_partners_are_accepted():
    CampaignFactory(allowed_origins="https://partner.example\nhttps://b.example:8443").full_clean()


def _saved_before_the_rule(origins):
    """A campaign as an older version saved it: the row written without validation."""
    campaign = CampaignFactory(allowed_origins="")
    Campaign.objects.filter(pk=campaign.pk).update(allowed_origins=origins)
    return campaign


def test_the_check_names_each_plain_http_partner():
    campaign = _saved_before_the_rule("https://ok.example\nhttp://partner.example")
    CampaignFactory(allowed_origins="https://fine.example")
    warnings = partner_origins_use_https(None, databases=["default"])
    assert [(w.id, w.obj) for w in warnings] == [("alerts.W001", campaign.slug)]
    assert "http://partner.example" in warnings[0].msg


def test_the_check_runs_only_when_asked_for_the_database():
    _saved_before_the_rule("http://partner.example")
    assert partner_origins_use_https(None, databases=None) == []


def test_manage_py_check_reports_it_with_the_database():
    _saved_before_the_rule("http://partner.example")
    call_command("check", "--database", "default")  # a warning: it stops nothing
    with pytest.raises(SystemCheckError, match=r"alerts\.W001"):
        call_command("check", "--database", "default", "--fail-level", "WARNING")
