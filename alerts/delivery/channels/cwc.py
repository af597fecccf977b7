"""Communicating With Congress (CWC) 2.0: the House's XML interface for constituent mail.

Where public clients disagree on the message's shape, this module follows the schema in
../shared/data/cwc/cwc_schema_v2.rng; a live `/v2/validate` answer can settle the rest.
"""

import hashlib
import xml.etree.ElementTree as ET  # builds XML only; answers are parsed with defusedxml

import defusedxml.ElementTree as SafeET
from django.conf import settings
from django.utils import timezone

from . import http
from .errors import PermanentError

MIN_TEXT = 6  # the schema's shortest Subject, statement or message


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
