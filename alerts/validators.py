import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ZIP_RE = re.compile(r"^\d{5}(-\d{4})?$")

# Control characters and the Unicode line/paragraph separators: anything that could break a
# mail header into two, or hide text.
_LINE_BREAKING_CATEGORIES = {"Cc", "Zl", "Zp"}


def validate_zip_code(value):
    if not ZIP_RE.match(value or ""):
        raise ValidationError(_("Enter a 5-digit ZIP code, like 20001 or 20001-1234."), code="zip")


def validate_single_line(value):
    if any(unicodedata.category(ch) in _LINE_BREAKING_CATEGORIES for ch in value or ""):
        raise ValidationError(
            _("Use a single line without line breaks or control characters."), code="control_char"
        )


def validate_multi_line(value):
    if any(
        unicodedata.category(ch) in _LINE_BREAKING_CATEGORIES and ch not in "\n\r\t"
        for ch in value or ""
    ):
        raise ValidationError(_("Remove the invisible control characters."), code="control_char")


ORIGIN_RE = re.compile(r"^https?://[a-z0-9.-]+(:\d{1,5})?$", re.IGNORECASE)


def validate_origin_lines(value):
    """One origin a line (scheme://host[:port]), for a campaign's embedding partners."""
    for line in (value or "").splitlines():
        origin = line.strip()
        if origin and not ORIGIN_RE.match(origin):
            raise ValidationError(
                _("“%(origin)s” is not an origin like https://partner.example."),
                params={"origin": origin},
                code="origin",
            )
