"""Which way each official is reached: CWC for the House, the Senate's CWC for listed seats,
else a working web form, else the constituent sends it (with the reason)."""

import datetime as dt

import pytest
from django.utils import timezone

from alerts.delivery.routing import reach, reaches
from legislators.models import ContactForm, Official, SenateCwcOffice
from tests.factories import OfficialFactory

CWC_KEY = "test-key"
DEFINITION = {"contact_form": {"steps": [{"visit": "https://www.senator.senate.gov/contact"}]}}


def _official(channel, *, email="", cwc_office="", webhook_url="", contact_form_url=""):
    return Official(
        key="k",
        kind="executive",
        title="Secretary",
        name="Pat Doe",
        last_name="Doe",
        channel=channel,
        email=email,
        cwc_office=cwc_office,
        webhook_url=webhook_url,
        contact_form_url=contact_form_url,
    )


FORM = "https://office.example/contact"
HOOK = "https://hooks.example/x"


@pytest.mark.parametrize(
    ("official", "cwc_key", "webhook_secret", "expected"),
    [
        (_official("email", email="a@office.example"), "", "", "email"),
        (_official("cwc", cwc_office="HVA08"), CWC_KEY, "", "cwc"),
        (_official("webhook", webhook_url="https://hooks.example/x"), "", "s", "webhook"),
        (_official("contact_form", contact_form_url=FORM), CWC_KEY, "s", "contact_form"),
        # CWC without an API key: email when the office has one, else its contact form.
        (_official("cwc", cwc_office="HVA08", email="a@office.example"), "", "", "email"),
        (_official("cwc", cwc_office="HVA08", contact_form_url=FORM), "", "", "contact_form"),
        (
            _official("cwc", cwc_office="HVA08", email="a@o.example", contact_form_url=FORM),
            "",
            "",
            "email",
        ),
        # A webhook without a signing secret falls back the same way.
        (_official("webhook", webhook_url=HOOK, email="a@o.example"), "", "", "email"),
        (_official("webhook", webhook_url=HOOK, contact_form_url=FORM), "", "", "contact_form"),
    ],
)  # fmt: skip
def test_an_official_is_reached_by_its_channel_when_it_can_work_else_by_the_fallbacks(
    settings, official, cwc_key, webhook_secret, expected
):
    settings.CWC_API_KEY = cwc_key
    settings.WEBHOOK_SECRET = webhook_secret
    assert reach(official).channel == expected


@pytest.fixture
def senate_cwc(settings):
    settings.SENATE_CWC_URL = "http://127.0.0.1:9/scwc"
    settings.SENATE_CWC_API_KEY = "senate-key"
    settings.CWC_API_KEY = CWC_KEY
    return settings


def _senator(code="SNJ01", **kwargs):
    return OfficialFactory(
        channel="contact_form",
        email="",
        cwc_office=code,
        contact_form_url="https://www.senator.senate.gov/contact",
        **kwargs,
    )


def _listed(*codes):
    for code in codes:
        SenateCwcOffice.objects.create(
            office_code=code, name=code, refreshed_at=timezone.now() - dt.timedelta(hours=1)
        )


@pytest.mark.django_db
def test_a_senator_on_the_active_list_is_reached_by_the_senates_cwc(senate_cwc):
    listed, unlisted = _senator("SNJ01"), _senator("SNJ02")
    _listed("SNJ01")
    SenateCwcOffice.objects.create(
        office_code="SNJ02", name="dropped", listed=False, refreshed_at=timezone.now()
    )

    ways = reaches(officials=[listed, unlisted])

    assert ways[listed.pk].channel == "cwc" and ways[listed.pk].is_senate_cwc
    assert ways[unlisted.pk].channel == "contact_form"
    assert "web page" in ways[unlisted.pk].manual_reason


@pytest.mark.django_db
def test_without_scwc_configured_no_senator_goes_by_cwc(settings):
    settings.SENATE_CWC_API_KEY = ""
    senator = _senator("SNJ01")
    _listed("SNJ01")
    assert reaches(officials=[senator])[senator.pk].channel == "contact_form"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "enabled", "expected", "reason"),
    [
        (ContactForm.Status.WORKING, True, "web_form", ""),
        (ContactForm.Status.CAPTCHA, True, "contact_form", "CAPTCHA"),
        (ContactForm.Status.BROKEN, True, "contact_form", "not working"),
        (ContactForm.Status.WORKING, False, "contact_form", "switched off"),
    ],
)
def test_an_unlisted_senator_goes_by_a_working_web_form_else_manual_with_the_reason(
    senate_cwc, status, enabled, expected, reason
):
    senator = _senator("SNJ02")
    ContactForm.objects.create(
        official=senator,
        source="senate/X.yaml",
        definition=DEFINITION,
        content_hash="0" * 64,
        status=status,
        enabled=enabled,
    )

    way = reaches(officials=[senator])[senator.pk]

    assert way.channel == expected
    assert reason in way.manual_reason


@pytest.mark.django_db
def test_the_house_goes_by_cwc_and_a_reading_costs_two_queries_whatever_the_number(
    senate_cwc, django_assert_num_queries
):
    house = [OfficialFactory(channel="cwc", cwc_office=f"HNJ{n:02d}", email="") for n in (1, 6)]
    senators = [_senator("SNJ01"), _senator("SNJ02")]
    _listed("SNJ01")

    with django_assert_num_queries(2):
        ways = reaches(officials=[*house, *senators])

    assert [ways[o.pk].channel for o in house] == ["cwc", "cwc"]
    assert not any(ways[o.pk].is_senate_cwc for o in house)


TOPIC_FORM = {
    "contact_form": {
        "steps": [
            {"visit": "https://www.senator.senate.gov/contact"},
            {
                "select": [
                    {
                        "name": "topic",
                        "selector": "#topic",
                        "value": "$TOPIC",
                        "required": True,
                        "options": {"Agriculture": "AG", "Foreign Relations": "FR"},
                    }
                ]
            },
            {
                "fill_in": [
                    {"name": "phone", "selector": "#phone", "value": "$PHONE", "required": True}
                ]
            },
        ]
    }
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("topic", "expected"), [("Foreign Relations", "web_form"), ("Taxation", "contact_form")]
)
def test_a_web_form_whose_topic_list_has_no_match_for_the_campaign_is_left_manual(topic, expected):
    senator = _senator("SNJ02")
    ContactForm.objects.create(
        official=senator, source="s.yaml", definition=TOPIC_FORM, content_hash="0" * 64
    )

    way = reaches(officials=[senator], topic=topic)[senator.pk]

    assert way.channel == expected
    if expected == "web_form":
        assert way.asks == {"phone"}  # the form requires a phone number
    else:
        assert "topics" in way.manual_reason
