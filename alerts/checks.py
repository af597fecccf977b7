"""Configuration mistakes `manage.py check` should catch before a deployment sends anything."""

from django.conf import settings
from django.core.checks import Error, register

PLACEHOLDERS = {"cwc-operator@example.org", "000-000-0000", "Delivery Operator"}


@register()
def cwc_operator_configured(app_configs, **kwargs):
    """CWC identifies the operator on every message; placeholders would be refused."""
    if not settings.CWC_API_KEY:
        return []
    values = {
        "CWC_DELIVERY_AGENT_EMAIL": settings.CWC_DELIVERY_AGENT_EMAIL,
        "CWC_DELIVERY_AGENT_CONTACT": settings.CWC_DELIVERY_AGENT_CONTACT,
        "CWC_DELIVERY_AGENT_PHONE": settings.CWC_DELIVERY_AGENT_PHONE,
    }
    return [
        Error(
            f"{name} is still a placeholder while CWC_API_KEY is set.",
            hint="Set it to the operator's details registered with CWC.",
            id="alerts.E001",
        )
        for name, value in values.items()
        if value in PLACEHOLDERS
    ]
