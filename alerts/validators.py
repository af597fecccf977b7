import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from legislators.lookup import AddressError, normalize_zip

# Control characters and the Unicode line/paragraph separators: anything that could break a
# mail header into two, or hide text.
_LINE_BREAKING_CATEGORIES = {"Cc", "Zl", "Zp"}
# Invisible formatting (zero-width spaces, the byte-order mark, U+180E) and the bidirectional
# controls (U+200E/F, U+202A-U+202E, U+2066-U+2069) hide text or show it in another order than
# the one it is sent in; surrogates and private-use characters mean nothing to an office.
_HIDDEN_CATEGORIES = {"Cf", "Cs", "Co"}
# Zero-width (non-)joiners spell words in some scripts (Persian, the Indic ones): taken
# between two letters, where they join or part them, and nowhere else.
_JOINERS = {"\u200c", "\u200d"}


def validate_zip_code(value):
    """The form's check is the lookup's: a ZIP the form takes, the lookup can read."""
    try:
        normalize_zip(value)
    except AddressError as exc:
        raise ValidationError(str(exc), code="zip") from exc


def _is_noncharacter(ch: str) -> bool:
    """U+FDD0-U+FDEF and the last two code points of every plane: never text, and not
    allowed in XML (a CWC message)."""
    code = ord(ch)
    return 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE


def _is_letter(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LM"


def _joins_letters(value: str, i: int) -> bool:
    return (
        value[i] in _JOINERS
        and 0 < i < len(value) - 1
        and _is_letter(value[i - 1])
        and _is_letter(value[i + 1])
    )


def _hidden_character(value: str) -> str | None:
    for i, ch in enumerate(value):
        if _joins_letters(value, i):
            continue
        if unicodedata.category(ch) in _HIDDEN_CATEGORIES or _is_noncharacter(ch):
            return ch
    return None


def _refuse_hidden(value: str) -> None:
    ch = _hidden_character(value)
    if ch is not None:
        raise ValidationError(
            _(
                "Remove the invisible character %(code)s (%(name)s): invisible and "
                "text-direction characters can hide or reorder what you wrote."
            ),
            params={"code": f"U+{ord(ch):04X}", "name": unicodedata.name(ch, "unnamed")},
            code="hidden_char",
        )


# In plain ASCII the only characters refused here are its control characters: most names and
# messages are then checked by one regular expression, not character by character (a blast's
# submit checks each field twice, in the form and in the model).
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ASCII_CONTROL_BUT_BREAKS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def validate_single_line(value):
    """A name, an address line, a subject: one line, and nothing in it that does not show."""
    if (value or "").isascii() and not _ASCII_CONTROL.search(value or ""):
        return
    if any(unicodedata.category(ch) in _LINE_BREAKING_CATEGORIES for ch in value or ""):
        raise ValidationError(
            _("Use a single line without line breaks or control characters."), code="control_char"
        )
    _refuse_hidden(value or "")


def validate_multi_line(value):
    if (value or "").isascii() and not _ASCII_CONTROL_BUT_BREAKS.search(value or ""):
        return
    if any(
        (unicodedata.category(ch) in _LINE_BREAKING_CATEGORIES and ch not in "\n\r\t")
        or unicodedata.category(ch) == "Cs"
        or _is_noncharacter(ch)
        for ch in value or ""
    ):
        raise ValidationError(_("Remove the invisible control characters."), code="control_char")


_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = rf"(?:{_LABEL}\.)*{_LABEL}|\[[0-9a-f:.]+\]"
_ORIGIN_RE = re.compile(rf"https?://(?P<host>{_HOST})(?::(?P<port>\d{{1,5}}))?", re.ASCII)


def normalize_origin(value: str) -> str | None:
    """`scheme://host[:port]` in lower case, or None for anything else.

    The result goes verbatim into a Content-Security-Policy header, so only the characters of
    a plain origin get through: no path, wildcard, quote, semicolon, comma or whitespace.
    """
    if not isinstance(value, str):
        return None
    match = _ORIGIN_RE.fullmatch(value.lower())
    if not match:
        return None
    host, port = match["host"], match["port"]
    if len(host) > 253:
        return None
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return None
    if port is not None and not 0 < int(port) < 65536:
        return None
    return match.group(0)


def validate_origin(value: str) -> None:
    """One partner origin: `https://host` or `https://host:port`, as the header will carry it."""
    if normalize_origin(value) is None:
        raise ValidationError(
            _(
                "Enter an origin like https://partner.example or https://partner.example:8443, "
                "without a path, a trailing slash or wildcards."
            ),
            code="origin",
        )


_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


def validate_https_origin(value: str) -> None:
    """A partner origin served over https (plain http only for loopback, and only in DEBUG).

    A page that reaches the visitor over plain http can be rewritten on the way, and with it
    what our framed form shows and where the visitor types. A malformed origin is left to
    `validate_origin`.
    """
    origin = normalize_origin(value)
    if origin is None or origin.startswith("https://"):
        return
    if settings.DEBUG and urlsplit(origin).hostname in _LOOPBACK_HOSTS:
        return
    raise ValidationError(
        _("Enter an https:// origin: %(origin)s is plain http, which anyone on the way can alter."),
        code="origin_insecure",
        params={"origin": origin},
    )


def validate_origin_lines(value):
    """A campaign's embedding partners, one origin a line, each valid by `validate_origin` and
    over https."""
    for line in (value or "").splitlines():
        if line.strip():
            validate_origin(line.strip())
            validate_https_origin(line.strip())


PHONE_RE = re.compile(r"^\+?[0-9][0-9 ().-]{5,18}[0-9]$")


def validate_phone(value: str) -> None:
    if value and not PHONE_RE.match(value):
        raise ValidationError(
            _("Enter a phone number: digits, and spaces, dots, dashes or brackets between them."),
            code="phone",
        )
