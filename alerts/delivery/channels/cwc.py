"""Communicating With Congress (CWC) 2.0: the XML interface for constituent mail of the House
and of the Senate's CWC program (SCWC), one message builder for both.

Where public clients disagree on the message's shape, this module follows the schemas in
../shared/data/cwc/ (cwc_schema_v2.rng, and cwc_schema_v2_senate.rng for `S…` offices); a live
`/v2/validate` answer can settle the rest.

The Senate is stricter than the House: a Prefix from SENATE_PREFIXES only (never guessed: the
constituent picks one), a topic from SENATE_TOPICS, and its answers: 201 accepted, 409 this
DeliveryId was accepted before (delivered, not a failure), 400 the message's errors, 415 the
content type; errors while a reported maintenance window is on are waited out, not failures.
Every SCWC send takes a slot of a rate limit shared by all workers (SENATE_CWC_RATE_PER_SECOND).
"""

import datetime as dt
import hashlib
import re
import xml.etree.ElementTree as ET  # builds XML only; answers are parsed with defusedxml
import zoneinfo

import defusedxml.ElementTree as SafeET
from django.conf import settings
from django.utils import timezone

from legislators import senate_offices

from ...models import CWC_TOPICS, SENATE_PREFIXES
from .. import ratelimit
from . import http
from .errors import PermanentError, TransientError

MIN_TEXT = 6  # the schema's shortest Subject, statement or message

# --- the Senate (SCWC) ----------------------------------------------------------------------

# Where a message goes under SENATE_CWC_URL, per SENATE_CWC_STAGE.
SENATE_PATHS = {
    "testing": "/api/testing-messages/",
    "production": "/api/production-messages/",
}
# The Senate's grammar allows the same Library of Congress policy areas as the House's.
SENATE_TOPICS = CWC_TOPICS
# Reported maintenance windows, US Eastern: (weekday with Monday 0, first hour, end hour).
# SCWC answers with errors then; a send that meets one is retried, never failed.
MAINTENANCE_WINDOWS = ((6, 0, 6), (2, 5, 7))  # Sunday 00-06, Wednesday 05-07
MAINTENANCE_ZONE = zoneinfo.ZoneInfo("America/New_York")
RATE_LIMITER = "scwc"  # + a digest of the agent's endpoint and key: no personal data

_now = timezone.now  # the clock the maintenance windows are read on (tests replace it)


class MaintenanceWindow(TransientError):
    """SCWC answered with an error during one of its reported maintenance windows: the
    delivery waits until the window is over (`resume_at`), without spending an attempt."""

    def __init__(self, message: str, *, resume_at: dt.datetime, body: bytes = b""):
        super().__init__(message, body=body, resume_at=resume_at)


def is_senate_office(code: str) -> bool:
    """An office of the Senate: only SCWC takes its mail. Any `S…` code goes there, so a
    malformed one is refused by SCWC with its reason, never sent to the House."""
    return (code or "").startswith("S")


def senate_reachable(official, *, listed: frozenset[str] | None = None) -> bool:
    """SCWC can take this official's mail here: SCWC is configured and the official's seat is
    on the active-offices list (`listed`, from `senate_offices.listed_codes()`, saves the query
    when asking for many officials)."""
    if not (settings.SENATE_CWC_URL and settings.SENATE_CWC_API_KEY):
        return False
    if not senate_offices.is_senate_code(official.cwc_office):
        return False
    listed = senate_offices.listed_codes() if listed is None else listed
    return official.cwc_office in listed


def senate_prefix_problem(prefix: str) -> str | None:
    """Why SCWC would refuse this prefix, or None."""
    if prefix in SENATE_PREFIXES:
        return None
    given = f"“{prefix}”" if prefix else "no prefix"
    return (
        f"the Senate's CWC takes only the prefixes {', '.join(SENATE_PREFIXES)}; the "
        f"constituent gave {given}"
    )


def senate_topic_problem(topic: str) -> str | None:
    """Why SCWC would refuse a campaign with this CWC topic (`Campaign.cwc_topic`), or None."""
    if topic in SENATE_TOPICS:
        return None
    return f"the Senate's CWC does not file messages under the topic “{topic}”"


def maintenance_window_end(moment: dt.datetime) -> dt.datetime | None:
    """The end of the reported SCWC maintenance window `moment` falls in, or None."""
    local = moment.astimezone(MAINTENANCE_ZONE)
    for weekday, start, end in MAINTENANCE_WINDOWS:
        if local.weekday() == weekday and start <= local.hour < end:
            closes = local.replace(hour=end, minute=0, second=0, microsecond=0)
            return closes.astimezone(dt.UTC)
    return None


def senate_messages_url() -> str:
    stage = settings.SENATE_CWC_STAGE
    if stage not in SENATE_PATHS:
        raise PermanentError(f"SENATE_CWC_STAGE must be one of {', '.join(SENATE_PATHS)}")
    return f"{settings.SENATE_CWC_URL.rstrip('/')}{SENATE_PATHS[stage]}"


def campaign_id(campaign) -> str:
    """Stable for the campaign's life: offices group and de-duplicate mail by it."""
    return hashlib.sha256(f"action-alerts:{campaign.slug}".encode()).hexdigest()[:32]


def _add(parent, tag, text=None):
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = str(text)
    return element


def build_message(delivery) -> bytes:
    action, official, campaign = delivery.action, delivery.official, delivery.action.campaign
    root = ET.Element("CWC")
    _add(root, "CWCVersion", "2.0")

    envelope = _add(root, "Delivery")
    _add(envelope, "DeliveryId", delivery.id.hex)
    _add(envelope, "DeliveryDate", timezone.localdate().strftime("%Y%m%d"))
    _add(envelope, "DeliveryAgent", settings.CWC_DELIVERY_AGENT)
    _add(envelope, "DeliveryAgentAckEmailAddress", settings.CWC_DELIVERY_AGENT_EMAIL)
    contact = _add(envelope, "DeliveryAgentContact")
    _add(contact, "DeliveryAgentContactName", settings.CWC_DELIVERY_AGENT_CONTACT)
    _add(contact, "DeliveryAgentContactEmail", settings.CWC_DELIVERY_AGENT_EMAIL)
    _add(contact, "DeliveryAgentContactPhone", settings.CWC_DELIVERY_AGENT_PHONE)
    if len(campaign.organization_name) >= MIN_TEXT:  # optional, but 6+ characters when given
        _add(envelope, "Organization", campaign.organization_name)
    _add(envelope, "CampaignId", campaign_id(campaign))

    recipient = _add(root, "Recipient")
    _add(recipient, "MemberOffice", official.cwc_office)

    constituent = _add(root, "Constituent")
    # The House takes any prefix; the Senate only its own, which send() checked.
    _add(constituent, "Prefix", action.prefix or "Mx.")
    _add(constituent, "FirstName", action.first_name)
    _add(constituent, "LastName", action.last_name)
    _add(constituent, "Address1", action.street)
    _add(constituent, "City", action.city)
    _add(constituent, "StateAbbreviation", action.state)
    _add(constituent, "Zip", action.zip_code)
    _add(constituent, "Email", action.email)
    if action.confirmed_at:
        _add(constituent, "EmailValidation", "Y")

    message = _add(root, "Message")
    _add(message, "Subject", delivery.subject)
    topics = _add(message, "LibraryOfCongressTopics")
    _add(topics, "LibraryOfCongressTopic", campaign.cwc_topic)
    # Offices weigh a constituent's own words: they travel apart from the campaign's text.
    if len(delivery.organization_statement) >= MIN_TEXT:
        _add(message, "OrganizationStatement", delivery.organization_statement)
    if len(delivery.constituent_message) >= MIN_TEXT:
        _add(message, "ConstituentMessage", delivery.constituent_message)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def errors_in(body: bytes) -> list[str]:
    """The <Error> texts of a CWC answer, read without trusting the XML."""
    try:
        root = SafeET.fromstring(body)
    except (SafeET.ParseError, ValueError):
        return []
    return [(e.text or "").strip() for e in root.iter("Error")]


def send(delivery) -> None:
    if is_senate_office(delivery.official.cwc_office):
        return senate_send(delivery)
    if not settings.CWC_API_KEY:
        raise PermanentError("CWC is not configured (CWC_API_KEY)")
    if len(delivery.subject) < MIN_TEXT:
        raise PermanentError(f"CWC needs a subject of at least {MIN_TEXT} characters")
    url = f"{settings.CWC_API_URL.rstrip('/')}/v2/message?apikey={settings.CWC_API_KEY}"
    try:
        http.post(url, body=build_message(delivery), headers={"Content-Type": "application/xml"})
    except PermanentError as exc:
        details = errors_in(exc.body)
        raise PermanentError("; ".join(details) or str(exc), body=exc.body) from exc


_STATUS = re.compile(r"HTTP (\d{3})\b")


def _status(exc) -> int | None:
    """The HTTP status an error from http.post reports ("HTTP 409: …"); None without one."""
    found = _STATUS.match(str(exc))
    return int(found[1]) if found else None


def _limiter_name() -> str:
    agent = f"{settings.SENATE_CWC_URL}|{settings.SENATE_CWC_API_KEY}"
    return f"{RATE_LIMITER}:{hashlib.sha256(agent.encode()).hexdigest()[:16]}"


def _seat_problem(official) -> str | None:
    """A senator's office code must name their own seat: a code off by a class would carry
    the message to the state's other senator."""
    if not official.legislator_id:
        return None
    legislator = official.legislator
    if not legislator.senate_class:
        return None
    seat = senate_offices.seat_code(state=legislator.state, senate_class=legislator.senate_class)
    if official.cwc_office == seat:
        return None
    return f"office code {official.cwc_office} is not this senator's seat ({seat}), not sent"


def senate_send(delivery) -> None:
    """Deliver by the Senate's CWC: returns when SCWC has the message (201, or 409 for a
    DeliveryId it had already), raises PermanentError for what it will never take and
    TransientError for what may pass later."""
    if not (settings.SENATE_CWC_URL and settings.SENATE_CWC_API_KEY):
        raise PermanentError("the Senate's CWC is not configured (SENATE_CWC_URL, _API_KEY)")
    campaign = delivery.action.campaign
    problem = (
        _seat_problem(delivery.official)
        or senate_prefix_problem(delivery.action.prefix)
        or senate_topic_problem(campaign.cwc_topic)
        or (len(delivery.subject) < MIN_TEXT and f"CWC needs a subject of {MIN_TEXT}+ characters")
    )
    if problem:
        raise PermanentError(problem)
    url = senate_messages_url()
    body = build_message(delivery)
    try:
        ratelimit.wait_for_slot(
            _limiter_name(), rate_per_second=settings.SENATE_CWC_RATE_PER_SECOND
        )
    except (ratelimit.RateLimited, ratelimit.RedisUnavailable) as exc:
        raise TransientError(f"the Senate's CWC rate limit: {exc}") from exc
    try:
        http.post(
            f"{url}?apikey={settings.SENATE_CWC_API_KEY}",
            body=body,
            headers={"Content-Type": "application/xml"},
        )
    except (PermanentError, TransientError) as exc:
        status = _status(exc)
        if status == 409:  # this DeliveryId was received before: delivered
            return None
        resume_at = maintenance_window_end(_now())
        if resume_at is not None:
            raise MaintenanceWindow(
                f"the Senate's CWC is in a maintenance window until {resume_at:%H:%M} UTC: {exc}",
                resume_at=resume_at,
                body=exc.body,
            ) from exc
        if isinstance(exc, TransientError):
            raise
        if status == 415:
            raise PermanentError(
                "the Senate's CWC refused the content type (HTTP 415)", body=exc.body
            ) from exc
        details = errors_in(exc.body)
        if status == 400 and details:
            raise PermanentError("; ".join(details), body=exc.body) from exc
        raise PermanentError(str(exc), body=exc.body) from exc
    return None
