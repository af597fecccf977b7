"""What the privacy notice states from settings, so it says what the code does."""

from email.utils import parseaddr

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def retention_days() -> int:
    """How long constituents' personal data is kept (alerts/privacy.py purges after it)."""
    return settings.PERSONAL_DATA_RETENTION_DAYS


@register.simple_tag
def privacy_contact_email() -> str:
    """Where to ask for an export or erasure: PRIVACY_CONTACT_EMAIL, else the address our
    mail comes from."""
    return settings.PRIVACY_CONTACT_EMAIL or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
