"""Hostile input never causes a 5xx, nor injects a tag or a header: the Big List of Naughty
Strings (tests/data/blns.json, all 485) through every public field of the journey, on the
campaign page and the embed, and into every output a constituent's words reach: the pages,
the email to an office, the House's and the Senate's CWC XML, the webhook's JSON and the
values a browser types into an office's web form.

The pages go through the Django test client; the outputs are built by the functions that
compose them (nothing is sent), from what the form's fields accept.
"""

import json
import uuid
from email import policy
from email.parser import BytesParser
from pathlib import Path

import lxml.html
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from lxml import etree

from alerts.delivery.channels import cwc, email, webhook
from alerts.delivery.webforms import values
from alerts.models import Action, Campaign, Delivery
from alerts.services import messages_compose
from alerts.web.forms import ActionForm, new_form_token
from legislators import contact_forms
from legislators.models import Official
from tests.conftest import data_path
from tests.factories import CampaignFactory, OfficialFactory, PolicyAskFactory
from tests.support.forms import CONSTITUENT, action_post

pytestmark = pytest.mark.django_db

BLNS = json.loads((Path(__file__).parents[1] / "data" / "blns.json").read_text("utf-8"))

# Every field a visitor can post, by the request that carries it (see _requests).
ADDRESS_FIELDS = ("prefix", "first_name", "last_name", "email", "street", "city", "state")
ADDRESS_FIELDS += ("zip_code",)
BOOKKEEPING = ("token", "source", "ref")
OFFICIALS_FIELDS = ("officials", "representative", "chosen")
MESSAGE_FIELDS = ("subject", "message", "phone", "senate_prefix", "consent", "step")
DECOY = ("homepage",)
CALL_FIELDS = ("official", "outcome")
PUBLIC_FIELDS = (
    ADDRESS_FIELDS + BOOKKEEPING + OFFICIALS_FIELDS + MESSAGE_FIELDS + DECOY + CALL_FIELDS
)
# The fields whose values reach an office, with what the form makes of them.
OUTPUT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "street",
    "city",
    "zip_code",
    "phone",
    "subject",
    "message",
)
OUTPUTS = ("html", "email", "cwc_house", "cwc_senate", "webhook_json", "web_form_values")

# Elements and attributes no page of ours has, whatever was typed: their presence means a
# visitor's text became markup.
FOREIGN_TAGS = {
    "applet",
    "audio",
    "base",
    "embed",
    "frame",
    "frameset",
    "iframe",
    "img",
    "math",
    "object",
    "svg",
    "video",
    "xss",
    "foo",
    "sc",
}


def injected_markup(body: bytes) -> list[str]:
    """What in this page is markup no template of ours writes: a foreign element, an event
    handler attribute, a script that is not one of our static files, a javascript: link."""
    if not body.strip():
        return []
    document = lxml.html.document_fromstring(body)
    found = []
    for element in document.iter():
        if not isinstance(element.tag, str):
            continue  # a comment or processing instruction
        tag = element.tag.lower()
        if tag in FOREIGN_TAGS:
            found.append(f"<{tag}>")
        for name, value in element.attrib.items():
            if name.lower().startswith("on"):
                found.append(f"<{tag} {name}>")
            if name.lower() in {
                "href",
                "src",
                "action",
                "formaction",
            } and value.strip().lower().startswith(("javascript:", "data:", "vbscript:")):
                found.append(f"<{tag} {name}={value[:30]}>")
        if tag == "script" and (
            not element.get("src", "").startswith(settings.STATIC_URL) or element.text
        ):
            found.append("<script> not ours")
        if tag == "style":
            found.append("<style>")
        if tag == "meta" and element.get("http-equiv"):
            found.append("<meta http-equiv>")
    return found


class Visitor(Client):
    """The test client without its record of every template's context, which costs more than
    the page (the sweep reads only the responses); errors come back as responses."""

    def request(self, **request):
        response = self.handler(self._base_environ(**request))
        if response.cookies:
            self.cookies.update(response.cookies)
        return response


class Sweep:
    """What the sweep tried and found."""

    def __init__(self):
        self.requests = 0
        self.status = {}
        self.server_errors = []
        self.injected = []

    def check(self, label, response):
        self.requests += 1
        self.status[response.status_code] = self.status.get(response.status_code, 0) + 1
        if response.status_code >= 500:
            self.server_errors.append((label, response.status_code))
        if response.get("Content-Type", "").startswith("text/html"):
            problems = injected_markup(response.content)
            if problems:
                self.injected.append((label, problems))
        return response


@pytest.fixture
def journey(settings, email_officials):
    """A live campaign whose fixed targets are three email offices and one reached only
    through its contact form (so the thanks page offers the text to paste), with a call
    script, a phone for the "I called" form and rate limits out of the way."""
    settings.DELIVERY_SANDBOX = False
    settings.RATE_LIMIT_PER_IP = settings.RATE_LIMIT_PER_EMAIL = 10**6
    form_only = OfficialFactory(
        title="Senator",
        name="Robin Vale",
        last_name="Vale",
        channel=Official.Channel.CONTACT_FORM,
        email="",
        phone="202-224-3121",
        contact_form_url="https://vale.senate.example/contact",
    )
    campaign = CampaignFactory(
        targets=[*email_officials, form_only],
        allowed_origins="https://partner.example",
        call_script_executive="My name is {constituent_name} of {constituent_city}.",
    )
    PolicyAskFactory(campaign=campaign, position=1, title="Protect civilians")
    return campaign, [*email_officials, form_only]


def _address(**changes):
    return {**CONSTITUENT, **changes}


def _requests(i, s, campaign, officials):
    """The POSTs that carry naughty string `s` into every public field: (label, url, data).
    Each holds the string in some fields and valid values in the rest, so that each step's
    later code (lookup, previews, composing, the thanks page) sees it."""
    detail = reverse("alerts:campaign_detail", args=[campaign.slug])
    embed = reverse("alerts:campaign_embed", args=[campaign.slug])
    page = detail if i % 2 == 0 else embed
    pks = [str(o.pk) for o in officials]
    valid = action_post(officials)
    everywhere = dict.fromkeys(ADDRESS_FIELDS + BOOKKEEPING, s)
    # The embed refuses any POST without a valid token before reading the rest.
    token = {"token": new_form_token()} if page == embed else {}
    return [
        ("address: every field", page, {**everywhere, "step": "address", **token}),
        (
            "officials and message",
            page,
            {
                **valid,
                "officials": [s, pks[0]],
                "representative": s,
                "chosen": s,
                **dict.fromkeys(MESSAGE_FIELDS, s),
                "token": new_form_token(),
            },
        ),
        (
            "send: names, address and words",
            page,
            {
                **valid,
                **dict.fromkeys(("first_name", "last_name", "street", "city", "message"), s),
                # In the subject too where it can be one: 6 characters or more.
                "subject": s if len(s.strip()) >= 6 else valid["subject"],
                "email": f"naughty{i}@example.org",
                "token": new_form_token(),
            },
        ),
        ("decoy", page, {**valid, "homepage": s, "token": new_form_token()}),
    ]


def test_the_naughty_strings_cause_no_server_error_and_no_injected_markup(journey):
    campaign, officials = journey
    client = Visitor()
    sweep = Sweep()
    fields = set()
    for i, s in enumerate(BLNS):
        address = {"REMOTE_ADDR": f"10.{i // 250}.{i % 250}.1"}
        for label, url, data in _requests(i, s, campaign, officials):
            fields.update(
                name
                for name, value in data.items()
                if value == s or (isinstance(value, list) and s in value)
            )
            response = sweep.check(f"{i} {label}", client.post(url, data, **address))
            if label.startswith("send") and response.status_code == 302:
                thanks = sweep.check(f"{i} thanks", client.get(response["Location"]))
                assert thanks.status_code == 200
                called = response["Location"] + "called/"
                sweep.check(
                    f"{i} I called",
                    client.post(called, {"official": s, "outcome": s}, **address),
                )
                fields.update(CALL_FIELDS)
    print(
        f"\nBLNS sweep: {len(BLNS)} strings, {len(fields)} fields, {sweep.requests} requests, "
        f"statuses {dict(sorted(sweep.status.items()))}, 5xx {len(sweep.server_errors)}, "
        f"injected {len(sweep.injected)}"
    )
    assert sweep.server_errors == []
    assert sweep.injected == []
    assert fields >= set(PUBLIC_FIELDS) - {""}
    # The sweep reached the deep end: actions stored and thanks pages shown.
    assert Action.objects.filter(email__startswith="naughty").count() > len(BLNS) / 2


def test_the_markup_check_sees_markup():
    """The control for the check above: a page with a visitor's text left unescaped."""
    for raw in ("<img src=x onerror=alert(1)>", '"><script>alert(1)</script>', "<svg/onload=x>"):
        page = f'<html><body><p>{raw}</p><input value="{raw}"></body></html>'.encode()
        assert injected_markup(page), raw
    assert injected_markup(b'<html><body><script src="/static/js/form.js"></script>') == []


# --- outputs -----------------------------------------------------------------------------------


def _accepted(form, name, value):
    """What the form's field makes of `value`, or None when it refuses it."""
    try:
        return form.fields[name].clean(value)
    except ValidationError:
        return None


@pytest.fixture(scope="module")
def schemas(django_db_blocker):
    return {
        "house": etree.RelaxNG(etree.parse(str(data_path("cwc", "cwc_schema_v2.rng")))),
        "senate": etree.RelaxNG(etree.parse(str(data_path("cwc", "cwc_schema_v2_senate.rng")))),
    }


@pytest.fixture(scope="module")
def web_form_definition():
    path = data_path("contact-forms", "senate", "A000382.yaml")
    return contact_forms.parse_definition(path.read_bytes(), name=path.name)


def _offices():
    """The two CWC offices (unsaved rows: composing reads only their fields)."""
    house = Official(
        pk=10**6, kind=Official.Kind.EXECUTIVE, title="Representative", name="Sam Ortiz",
        last_name="Ortiz", channel=Official.Channel.CWC, cwc_office="HCA30",
        holder_verified_on=timezone.localdate(),
    )  # fmt: skip
    senate = Official(
        pk=10**6 + 1, kind=Official.Kind.EXECUTIVE, title="Senator", name="Robin Vale",
        last_name="Vale", channel=Official.Channel.CWC, cwc_office="SCA01",
        holder_verified_on=timezone.localdate(),
    )  # fmt: skip
    return house, senate


def _deliveries(campaign, asks, constituent, subject, message):
    action = Action(
        public_id=uuid.uuid4(), campaign=campaign, prefix="Ms.", subject=subject,
        message=message, consent_text="I agree.", confirmed_at=timezone.now(), **constituent,
    )  # fmt: skip
    officials = _offices()
    composed = messages_compose(
        campaign=campaign,
        officials=officials,
        subject=subject,
        message=message,
        sender=constituent,
        wording=(set(), asks),
    )
    return [
        Delivery(
            id=uuid.uuid4(),
            action=action,
            official=official,
            channel=official.channel,
            variant=c.variant,
            subject=c.subject,
            organization_statement=c.organization_statement,
            constituent_message=c.constituent_message,
            body=c.body,
        )
        for official, c in zip(officials, composed, strict=True)
    ]


def _one_line(text):
    return " ".join(text.split())


def _check_email(delivery, expected_headers):
    raw = email.build_message(delivery, to="office@officials.example").message().as_bytes()
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    names = sorted(name.lower() for name in parsed)
    problems = []
    if names != expected_headers:
        problems.append(f"headers {names}")
    if _one_line(str(parsed["Subject"])) != _one_line(delivery.subject):
        problems.append("subject changed")
    [reply_to] = parsed.get_all("Reply-To")
    addresses = reply_to.addresses
    if len(addresses) != 1 or addresses[0].addr_spec != delivery.action.email:
        problems.append(f"reply-to {reply_to!r}")
    body = parsed.get_content().replace("\r\n", "\n")
    if body.rstrip("\n") != delivery.body.replace("\r\n", "\n").rstrip("\n"):
        problems.append("body changed")
    return problems


def _check_cwc(delivery, schema):
    xml = cwc.build_message(delivery)
    root = etree.fromstring(xml)  # raises on XML that is not well-formed
    problems = []
    if not schema.validate(root):
        problems.append(str(schema.error_log.last_error))
    action = delivery.action
    for path, expected in (
        ("Constituent/FirstName", action.first_name),
        ("Constituent/LastName", action.last_name),
        ("Constituent/Address1", action.street),
        ("Constituent/City", action.city),
        ("Message/Subject", delivery.subject),
    ):
        if root.findtext(path) != expected:
            problems.append(f"{path} changed")
    if len(root) != 5 or len(root.find("Constituent")) not in (9, 10):
        problems.append("elements added")
    return problems


def _check_webhook(delivery):
    payload = webhook.payload(delivery)
    body = json.dumps(payload, separators=(",", ":")).encode()
    return [] if json.loads(body) == payload else ["JSON does not round-trip"]


def _check_web_form(delivery, definition, topic):
    variables = values.variables_for(delivery)
    plan = values.plan(definition, {**variables, "$TOPIC": topic})
    problems = []
    for step in plan.fields():
        if step.kind != "fill_in" or not step.variable:
            continue
        expected = variables[step.variable]
        if not expected.startswith(step.value) or (step.value != expected and not step.value):
            problems.append(f"{step.variable} changed")
        if step.variable != "$MESSAGE" and any(ch in step.value for ch in "\r\n"):
            problems.append(f"{step.variable} has a line break")
    return problems


def test_the_naughty_strings_reach_every_output_intact_and_inject_nothing(
    journey, schemas, web_form_definition
):
    campaign, _ = journey
    campaign = Campaign.objects.get(pk=campaign.pk)
    asks = list(campaign.asks.all())
    form = ActionForm(campaign=campaign)
    topic = contact_forms.topic_options(web_form_definition)[0]
    clean = _deliveries(campaign, asks, dict(CONSTITUENT), "Protect civilians", "My words.")[0]
    raw = email.build_message(clean, to="office@officials.example").message().as_bytes()
    expected_headers = sorted(n.lower() for n in BytesParser(policy=policy.default).parsebytes(raw))
    built = {}
    problems = []
    for i, s in enumerate(BLNS):
        for name in OUTPUT_FIELDS:
            value = _accepted(form, name, s)
            if value is None or (name != "message" and not value):
                continue
            constituent = dict(CONSTITUENT)
            subject, message = "Protect civilians", "My own words."
            if name == "subject":
                subject = value
            elif name == "message":
                message = value
            elif name != "phone":
                constituent[name] = value
            house, senate = _deliveries(campaign, asks, constituent, subject, message)
            if name == "phone":
                house.action.phone = senate.action.phone = value
            checked = {
                "email": _check_email(house, expected_headers),
                "cwc_house": _check_cwc(house, schemas["house"]),
                "cwc_senate": _check_cwc(senate, schemas["senate"]),
                "webhook_json": _check_webhook(house),
                "web_form_values": _check_web_form(house, web_form_definition, topic),
            }
            for output, found in checked.items():
                built[output] = built.get(output, 0) + 1
                if found:
                    problems.append((i, name, output, found))
    print(f"\nBLNS outputs from {len(BLNS)} strings: {built}, problems {len(problems)}")
    assert problems == []
    # Most strings are taken by most fields: each output was built thousands of times.
    assert min(built.values()) > len(BLNS) * 4


def test_the_output_checks_see_an_injected_header_and_broken_xml(journey):
    """The control for the checks above: they do catch what they look for."""
    campaign, _ = journey
    delivery = _deliveries(campaign, [], dict(CONSTITUENT), "Hello", "Words")[0]
    raw = email.build_message(delivery, to="o@officials.example").message().as_bytes()
    expected = sorted(n.lower() for n in BytesParser(policy=policy.default).parsebytes(raw))
    delivery.action.email = "ani@example.org>, Bcc: x@evil.example"
    assert _check_email(delivery, expected)
    delivery.action.first_name = "Ani\ufffe"
    with pytest.raises(etree.XMLSyntaxError):
        _check_cwc(delivery, None)
