"""What each official receives: the campaign's statement in the variant that fits the official
(thank a cosigner, urge a non-signer, or address an executive), then the constituent's own words.

Templates use a small set of `{placeholders}`. An unknown one is a validation error when the
organizer saves the campaign, so rendering never fails at run time.
"""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

SUBJECT_MAX_LENGTH = 200
MESSAGE_MAX_LENGTH = 5000
STATEMENT_MAX_LENGTH = 5000

PLACEHOLDERS = {
    "official_title": "the official's title, e.g. Senator",
    "official_last_name": "the official's last name",
    "constituent_name": "the constituent's full name",
    "constituent_city": "the constituent's city",
    "policy_asks": "the campaign's numbered policy asks, one a line",
}
PLACEHOLDER_HELP = "Placeholders: " + ", ".join(f"{{{name}}}" for name in PLACEHOLDERS) + "."
_PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")


CONSTITUENT_PLACEHOLDERS = {"constituent_name", "constituent_city", "policy_asks"}


def validate_message_template(text, *, allowed=PLACEHOLDERS):
    unknown = sorted(set(_PLACEHOLDER_RE.findall(text or "")) - set(allowed))
    if unknown:
        raise ValidationError(
            _("Unknown placeholder %(names)s here. Allowed: %(allowed)s."),
            params={
                "names": ", ".join(f"{{{n}}}" for n in unknown),
                "allowed": ", ".join(f"{{{n}}}" for n in sorted(allowed)),
            },
            code="placeholder",
        )


def validate_suggested_message(text):
    """The constituent's suggested words are one text for every official: no official names."""
    validate_message_template(text, allowed=CONSTITUENT_PLACEHOLDERS)


def render_template(text: str, values: dict[str, str]) -> str:
    """Fill placeholders; anything unknown (which validation keeps out) is left as written."""
    return _PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _values(*, sender: dict, asks: list, official=None) -> dict[str, str]:
    values = {
        "constituent_name": f"{sender['first_name']} {sender['last_name']}",
        "constituent_city": sender["city"],
        "policy_asks": "\n".join(f"{ask.position}. {ask.title}" for ask in asks),
    }
    if official is not None:
        values.update(official_title=official.title, official_last_name=official.last_name)
    return values


def suggested_message(campaign, *, sender: dict) -> str:
    """The campaign's suggested words, filled in for this constituent, ready to edit."""
    asks = list(campaign.asks.all())
    return render_template(campaign.suggested_message, _values(sender=sender, asks=asks))


@dataclass(frozen=True)
class ComposedMessage:
    variant: str
    subject: str
    organization_statement: str
    constituent_message: str
    body: str


def variant_for(official, *, cosigner_ids: set[int]) -> str:
    if official.kind == official.Kind.EXECUTIVE:
        return "executive"
    return "thank" if official.legislator_id in cosigner_ids else "urge"


def message_compose(
    *,
    campaign,
    official,
    variant: str,
    subject: str,
    message: str,
    sender: dict,
    asks: list,
) -> ComposedMessage:
    """`sender` holds the constituent's name and address as entered on the form; `asks` the
    campaign's policy asks."""
    values = _values(sender=sender, asks=asks, official=official)
    template = {
        "thank": campaign.thank_template,
        "urge": campaign.urge_template,
        "executive": campaign.executive_template,
    }[variant]
    statement = render_template(template, values).strip()
    own_words = (message or "").strip()
    signature = "\n".join(
        [
            values["constituent_name"],
            sender["street"],
            f"{sender['city']}, {sender['state']} {sender['zip_code']}",
            sender["email"],
        ]
    )
    parts = [f"Dear {official.title} {official.last_name},", statement]
    if own_words:
        parts.append(own_words)
    parts.append(f"Sincerely,\n{signature}")
    return ComposedMessage(
        variant=variant,
        subject=render_template(subject, values),
        organization_statement=statement,
        constituent_message=own_words,
        body="\n\n".join(parts) + "\n",
    )
