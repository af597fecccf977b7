"""Webhooks: the message as signed JSON, to a destination that is not on a private network."""

import hashlib
import hmac
import ipaddress
import json
import socket
import time
import urllib.parse

from django.conf import settings

from . import http
from .errors import PermanentError, TransientError

SIGNATURE_HEADER = "X-Action-Alerts-Signature"
TIMESTAMP_HEADER = "X-Action-Alerts-Timestamp"


def payload(delivery) -> dict:
    action, official = delivery.action, delivery.official
    return {
        "delivery_id": str(delivery.id),
        "campaign": action.campaign.slug,
        "official": {"id": official.key, "title": official.title, "name": official.name},
        "subject": delivery.subject,
        "organization_statement": delivery.organization_statement,
        "constituent_message": delivery.constituent_message,
        "body": delivery.body,
        "constituent": {
            "prefix": action.prefix,
            "first_name": action.first_name,
            "last_name": action.last_name,
            "email": action.email,
            "street": action.street,
            "city": action.city,
            "state": action.state,
            "zip_code": action.zip_code,
        },
    }


def signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", so a captured request cannot be replayed later
    with a new timestamp."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def check_destination(url: str) -> str | None:
    """Refuse URLs that resolve to private, loopback or link-local addresses (unless allowed):
    a campaign's webhook must not become a way into our own network. Returns the vetted
    address to connect to (None when private networks are allowed), so that a second DNS
    answer cannot swap in another one."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise PermanentError(f"not an http(s) URL: {url!r}")
    if settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS:
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise TransientError(f"cannot resolve {parts.hostname}: {exc}") from exc
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for address in addresses:
        if not address.is_global:
            raise PermanentError(f"{parts.hostname} resolves to a non-public address ({address})")
    return str(addresses[0])


def send(delivery) -> None:
    url = delivery.official.webhook_url
    vetted = check_destination(url)
    body = json.dumps(payload(delivery), separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": str(delivery.id),
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret=settings.WEBHOOK_SECRET, timestamp=timestamp, body=body),
    }
    http.post(url, body=body, headers=headers, connect_to=vetted)
