"""What each official receives: the campaign's statement in the variant that fits the official
(thank a cosigner, urge a non-signer, or address an executive), then the constituent's own words.

Templates use a small set of `{placeholders}`. An unknown one is a validation error when the
organizer saves the campaign, so rendering never fails at run time.
"""

import datetime as dt
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
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


def validate_no_asks_in_subject(text):
    """A subject is one line: the asks, one a line, cannot go in it."""
    if "{policy_asks}" in (text or ""):
        raise ValidationError(
            _("{policy_asks} is a list, one ask a line, so it cannot go in a subject."),
            code="placeholder",
        )


def subject_longest(text: str, *, longest: dict[str, int]) -> int:
    """The most characters `text` can render to, each placeholder at its longest value."""
    names = _PLACEHOLDER_RE.findall(text or "")
    literal = len(_PLACEHOLDER_RE.sub("", text or ""))
    return literal + sum(longest.get(name, len(name) + 2) for name in names)


def validate_subject_template(text, *, longest: dict[str, int]):
    """An organizer's subject: its placeholders, and that no constituent's name or official's
    title (at their `longest`) can render it past the subject's column."""
    validate_no_asks_in_subject(text)
    most = subject_longest(text, longest=longest)
    if most > SUBJECT_MAX_LENGTH:
        raise ValidationError(
            _(
                "With its placeholders filled in, this subject can reach %(most)s characters "
                "(a name may be up to %(name)s); subjects are cut off at %(max)s. Shorten it or "
                "use fewer placeholders."
            ),
            params={
                "most": most,
                "name": longest.get("constituent_name", 0),
                "max": SUBJECT_MAX_LENGTH,
            },
            code="subject_too_long",
        )


def validate_suggested_message(text):
    """The constituent's suggested words are one text for every official: no official names."""
    validate_message_template(text, allowed=CONSTITUENT_PLACEHOLDERS)


def render_template(text: str, values: dict[str, str]) -> str:
    """Fill placeholders; anything unknown (which validation keeps out) is left as written."""
    return _PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def subject_for(subject: str, *, sender: dict, official, today=None) -> str:
    """The subject as `official` gets it (what `message_compose` renders), from the
    constituent's `sender` details."""
    values = _values(sender=sender, asks=[], official=official)
    return render_for(subject, values, official=official, today=today)


def holder_is_current(official, *, today: dt.date | None = None) -> bool:
    """Whether a message may name the person who holds `official`'s office.

    Legislators are governed by their terms (only sitting members are offered). An executive
    office is addressed by its holder only when someone checked, at most EXECUTIVE_VERIFY_DAYS
    ago, that the holder named here still holds it; otherwise the office alone is addressed.
    """
    if official.kind != official.Kind.EXECUTIVE:
        return True
    verified_on = official.holder_verified_on
    if verified_on is None or not official.name.strip() or not official.last_name.strip():
        return False
    today = today or timezone.localdate()
    return (today - verified_on).days <= settings.EXECUTIVE_VERIFY_DAYS


def holder_name(official, *, today: dt.date | None = None) -> str:
    """The holder's name to show beside the office, or "" when it may be out of date."""
    return official.name if holder_is_current(official, today=today) else ""


def addressee(official, *, today: dt.date | None = None) -> str:
    """Whom the greeting names: "Senator Vale", or "Secretary of State" for an office whose
    holder is not verified."""
    if holder_is_current(official, today=today):
        return f"{official.title} {official.last_name}"
    return official.title


_TITLE_AND_NAME = "{official_title} {official_last_name}"


def _office_only(text: str) -> str:
    """A template for an office whose holder is not verified: "{official_title}
    {official_last_name}" becomes the title alone, and so does a lone {official_last_name}."""
    return text.replace(_TITLE_AND_NAME, "{official_title}").replace(
        "{official_last_name}", "{official_title}"
    )


def _values(*, sender: dict, asks: list, official=None) -> dict[str, str]:
    values = {
        "constituent_name": f"{sender['first_name']} {sender['last_name']}",
        "constituent_city": sender["city"],
        "policy_asks": "\n".join(f"{ask.position}. {ask.title}" for ask in asks),
    }
    if official is not None:
        values.update(official_title=official.title, official_last_name=official.last_name)
    return values


def render_for(text: str, values: dict[str, str], *, official, today=None) -> str:
    """`render_template` for one official: office-only when its holder is not verified."""
    if official is not None and not holder_is_current(official, today=today):
        text = _office_only(text)
    return render_template(text, values)


def suggested_message(campaign, *, sender: dict) -> str:
    """The campaign's suggested words, filled in for this constituent, ready to edit."""
    asks = list(campaign.asks.all())
    return render_template(campaign.suggested_message, _values(sender=sender, asks=asks))


SIGN_OFF = "Sincerely,"


def signed_off(body: str) -> str:
    """A composed body without its signature's name and address: what a constituent pastes
    into an office's form (which asks for those itself), and what a page may show."""
    head, sep, _signature = body.rpartition(f"\n\n{SIGN_OFF}\n")
    return f"{head}\n\n{SIGN_OFF}\n" if sep else body


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
    today: dt.date | None = None,
) -> ComposedMessage:
    """`sender` holds the constituent's name and address as entered on the form; `asks` the
    campaign's policy asks. An executive office whose holder is not verified (see
    `holder_is_current`; `today` is for tests) is addressed as the office alone."""
    values = _values(sender=sender, asks=asks, official=official)
    template = {
        "thank": campaign.thank_template,
        "urge": campaign.urge_template,
        "executive": campaign.executive_template,
    }[variant]
    statement = render_for(template, values, official=official, today=today).strip()
    own_words = (message or "").strip()
    signature = "\n".join(
        [
            values["constituent_name"],
            sender["street"],
            f"{sender['city']}, {sender['state']} {sender['zip_code']}",
            sender["email"],
        ]
    )
    parts = [f"Dear {addressee(official, today=today)},", statement]
    if own_words:
        parts.append(own_words)
    parts.append(f"{SIGN_OFF}\n{signature}")
    return ComposedMessage(
        variant=variant,
        subject=render_for(subject, values, official=official, today=today),
        organization_statement=statement,
        constituent_message=own_words,
        body="\n\n".join(parts) + "\n",
    )
