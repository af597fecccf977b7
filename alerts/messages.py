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

from legislators.models import names_person

SUBJECT_MAX_LENGTH = 200
MESSAGE_MAX_LENGTH = 5000
STATEMENT_MAX_LENGTH = 5000

PLACEHOLDERS = {
    "official_title": "the office's title: Senator, Representative, Secretary of State",
    "official_last_name": "the holder's last name (the office's title while the holder is "
    "not verified)",
    "constituent_name": "the constituent's full name",
    "constituent_city": "the constituent's city",
    "policy_asks": "the campaign's numbered policy asks, one a line",
}
PLACEHOLDER_HELP = "Placeholders: " + ", ".join(f"{{{name}}}" for name in PLACEHOLDERS) + "."
STATEMENT_HELP = (
    "Write the body only: every message opens with the office's own greeting (“Dear Senator "
    "Kim,”, “Dear Secretary Rubio,”) and ends with the constituent's name and address. "
    + PLACEHOLDER_HELP
)
_PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")


CONSTITUENT_PLACEHOLDERS = {"constituent_name", "constituent_city", "policy_asks"}
OFFICIAL_PLACEHOLDERS = {"official_title", "official_last_name"}
# The subject is one line for every official chosen, shown in a box the constituent edits.
SUBJECT_PLACEHOLDERS = {"constituent_name", "constituent_city"}

# What an organizer's statement must not open or close with: the app greets each official by
# their office's salutation and signs with the constituent's name and address.
_GREETING_WORDS_RE = re.compile(
    r"^\W*(dear|to the hono(u)?rable|the hono(u)?rable|hono(u)?rable|hello|hi|hey|greetings"
    r"|good (morning|afternoon|evening|day)|to whom it may concern|madam)\b",
    re.IGNORECASE,
)
_OFFICIAL_RE = r"\{official_(?:title|last_name)\}"
# "{official_title} {official_last_name}, please act", "Senator {official_last_name}:": an
# opening that names the official, at most a few words after the start, then a comma.
_ADDRESSED_RE = re.compile(rf"^[\w.\s]{{0,30}}{_OFFICIAL_RE}(\s*{_OFFICIAL_RE})*\s*[,:!]")
_SIGN_OFF_RE = re.compile(
    r"^\W*(sincerely( yours)?|respectfully( yours| submitted)?|yours (truly|sincerely|faithfully)"
    r"|(best |kind |warm |warmest )?regards|best wishes|best|cordially"
    r"|with (gratitude|thanks|respect))\W*$|^\s*\{constituent_name\}\s*$",
    re.IGNORECASE,
)


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


def _first_line(text: str) -> str:
    return next((line.strip() for line in (text or "").splitlines() if line.strip()), "")


def own_greeting(text: str) -> str | None:
    """The template's first line when it greets the official itself, else None."""
    line = _first_line(text)
    if line and (_GREETING_WORDS_RE.match(line) or _ADDRESSED_RE.match(line)):
        return line
    return None


def own_sign_off(text: str) -> str | None:
    """A line of the template that signs the message off ("Sincerely,", "{constituent_name}"),
    else None."""
    return next(
        (line.strip() for line in (text or "").splitlines() if _SIGN_OFF_RE.match(line)), None
    )


def validate_no_greeting(text):
    """The app greets each official (`salutation_for`): a template's own greeting is twice."""
    if line := own_greeting(text):
        raise ValidationError(
            _(
                "Start with the message itself: every message already opens with the office's "
                "own greeting (“Dear Senator Kim,”, “Dear Secretary Rubio,”), so “%(line)s” "
                "would greet the official twice. Remove that line."
            ),
            params={"line": line},
            code="own_greeting",
        )


def validate_no_sign_off(text):
    """The app signs every message with the constituent's name and address."""
    if line := own_sign_off(text):
        raise ValidationError(
            _(
                "End with the message itself: every message is already signed off with the "
                "constituent's name and address, so “%(line)s” would sign it twice. Remove "
                "that line."
            ),
            params={"line": line},
            code="own_sign_off",
        )


def validate_subject_names_no_official(text):
    """One subject goes to every official the constituent chose, in a box they may edit."""
    named = sorted(set(_PLACEHOLDER_RE.findall(text or "")) & OFFICIAL_PLACEHOLDERS)
    if named:
        raise ValidationError(
            _(
                "The subject is one line, shown to the constituent to edit and sent to every "
                "official they chose, so it cannot name an official: remove %(names)s. It may "
                "use %(allowed)s."
            ),
            params={
                "names": ", ".join(f"{{{n}}}" for n in named),
                "allowed": ", ".join(f"{{{n}}}" for n in sorted(SUBJECT_PLACEHOLDERS)),
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


def salutation_for(official, *, today: dt.date | None = None) -> str:
    """How a message greets `official`, without the comma: the office's own salutation ("Dear
    Secretary Rubio", "Dear Madam Secretary"), unless it names a holder who is not verified
    (see `holder_is_current`). Else the title's form of address and the last name ("Dear
    Senator Kim", "Dear Secretary Rubio", never "Dear Secretary of State Rubio"), or the office
    alone ("Dear Secretary of State") while its holder is not verified."""
    written = (official.salutation or "").strip()
    current = holder_is_current(official, today=today)
    if written and (current or not names_person(written, official.last_name)):
        return written
    if not current:
        return f"Dear {official.title}"
    return f"Dear {courtesy_title(official.title)} {official.last_name}".strip()


_OFFICE_QUALIFIER_RE = re.compile(r"\s+(of|to|for|on)\s.*$|,.*$", re.IGNORECASE)
_NATIONAL_RE = re.compile(r"^(U\.\s?S\.|US|United States)\s+", re.IGNORECASE)


def courtesy_title(title: str) -> str:
    """The form of address an office's title gives: "Secretary of State" → "Secretary",
    "U.S. Ambassador to the United Nations" → "Ambassador"; "Senator" stays."""
    short = _OFFICE_QUALIFIER_RE.sub("", _NATIONAL_RE.sub("", title.strip())).strip()
    return short or title.strip()


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


def suggested_subject(campaign, *, sender: dict) -> str:
    """The campaign's subject, filled in for this constituent, as their subject box shows it.
    A subject saved before official placeholders were refused there loses them: the box is
    one text for every official, and never shows a placeholder."""
    text = render_template(campaign.message_subject, _values(sender=sender, asks=[]))
    return " ".join(_PLACEHOLDER_RE.sub("", text).split())


def placeholder_examples(*, official=None, asks=(), sender=None) -> list[tuple[str, str, str]]:
    """(placeholder, what it is, what it renders to) for each placeholder, the examples from
    `official` (one of the campaign's), its `asks` and a sample constituent."""
    sender = sender or EXAMPLE_SENDER
    values = _values(sender=sender, asks=list(asks), official=official)
    values.setdefault("official_title", "Senator")
    values.setdefault("official_last_name", "Kim")
    return [
        (f"{{{name}}}", description, values[name] or "(nothing yet)")
        for name, description in PLACEHOLDERS.items()
    ]


EXAMPLE_SENDER = {"first_name": "Ani", "last_name": "Petrosyan", "city": "Glendale"}


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
    # Whom it greets, as the delivery keeps it: the office's title, the holder named ("" for
    # the office alone) and the greeting line.
    addressed_title: str = ""
    addressed_name: str = ""
    salutation: str = ""


def _without_own_greeting(statement: str) -> str:
    """A statement saved before its own greeting was refused (`validate_no_greeting`) loses
    that first line, so the official is greeted once."""
    first, _sep, rest = statement.strip().partition("\n")
    if own_greeting(first) and first.rstrip().endswith((",", ":", "!")):
        return rest.strip()
    return statement


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
    today = today or timezone.localdate()  # asked by each part below: read the clock once
    template = {
        "thank": campaign.thank_template,
        "urge": campaign.urge_template,
        "executive": campaign.executive_template,
    }[variant]
    statement = render_for(
        _without_own_greeting(template.strip()), values, official=official, today=today
    ).strip()
    own_words = (message or "").strip()
    signature = "\n".join(
        [
            values["constituent_name"],
            sender["street"],
            f"{sender['city']}, {sender['state']} {sender['zip_code']}",
            sender["email"],
        ]
    )
    salutation = salutation_for(official, today=today)
    parts = [f"{salutation},", statement] if statement else [f"{salutation},"]
    if own_words:
        parts.append(own_words)
    parts.append(f"{SIGN_OFF}\n{signature}")
    return ComposedMessage(
        variant=variant,
        subject=render_for(subject, values, official=official, today=today),
        organization_statement=statement,
        constituent_message=own_words,
        body="\n\n".join(parts) + "\n",
        addressed_title=official.title,
        addressed_name=holder_name(official, today=today),
        salutation=salutation,
    )
