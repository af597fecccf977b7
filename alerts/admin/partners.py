"""What a campaign's partners need, on its admin page: the embed snippet, the origins allowed to
frame it, a share link with a source tag per partner, and the public counter. Computed from the
campaign each time; nothing is stored."""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString

from ..models import Campaign
from ..validators import normalize_origin

# Tall enough for the address step and its errors without an inner scroll bar on a desktop.
EMBED_HEIGHT = 900
NOT_IN_A_TAG = re.compile(r"[^\w.-]+")


@dataclass(frozen=True)
class Partner:
    origin: str
    tag: str  # ?source= on its links, so the dashboard counts its actions apart
    share_url: str
    embed_snippet: str


@dataclass(frozen=True)
class PartnerKit:
    page_url: str
    embed_url: str
    count_url: str
    embed_snippet: str
    partners: list[Partner]
    ignored: list[str]  # lines of allowed_origins that frame nothing: not an https origin


def partner_tag(origin: str) -> str:
    """The source tag for a partner: its host without "www." or the port, e.g.
    "https://www.partner.example:8443" -> "partner.example". Only what `web.forms.SOURCE_RE`
    lets through ?source=: word characters, dots and dashes, up to 100."""
    host = urlsplit(origin).hostname or ""
    host = host.removeprefix("www.")
    return NOT_IN_A_TAG.sub("-", host).strip("-")[:100]


def embed_snippet(campaign: Campaign, src: str) -> str:
    """The HTML a partner pastes: one line, its attributes escaped."""
    return (
        f'<iframe src="{escape(src)}" title="{escape(campaign.title)}" width="100%" '
        f'height="{EMBED_HEIGHT}" loading="lazy"></iframe>'
    )


def partner_kit(campaign: Campaign) -> PartnerKit:
    site = settings.SITE_URL.rstrip("/")
    slug = {"slug": campaign.slug}
    page_url = site + reverse("alerts:campaign_detail", kwargs=slug)
    embed_url = site + reverse("alerts:campaign_embed", kwargs=slug)
    partners, ignored, seen = [], [], set()
    for line in campaign.allowed_origins.splitlines():
        if not line.strip():
            continue
        origin = normalize_origin(line.strip())
        if origin is None or not origin.startswith("https://"):
            ignored.append(line.strip())
            continue
        if origin in seen:
            continue
        tag = partner_tag(origin) or f"partner-{len(partners) + 1}"  # e.g. an IPv6 address
        seen.add(origin)
        query = f"?source={tag}"
        partners.append(
            Partner(origin, tag, page_url + query, embed_snippet(campaign, embed_url + query))
        )
    return PartnerKit(
        page_url=page_url,
        embed_url=embed_url,
        count_url=site + reverse("alerts:campaign_count", kwargs=slug),
        embed_snippet=embed_snippet(campaign, embed_url),
        partners=partners,
        ignored=ignored,
    )


def _copyable(element_id: str, value: str, *, rows: int = 0) -> SafeString:
    """A read-only field with a Copy button (static/admin/js/copy_snippet.js). Unnamed, so
    the campaign's form never posts it."""
    if rows:
        field = format_html(
            '<textarea id="{}" class="vLargeTextField copyable" rows="{}" readonly>{}</textarea>',
            element_id,
            rows,
            value,
        )
    else:
        field = format_html(
            '<input type="text" id="{}" class="vTextField copyable" value="{}" readonly>',
            element_id,
            value,
        )
    return format_html(
        '<div class="copy-row">{}<button type="button" class="button" data-copy="{}">'
        "Copy</button></div>",
        field,
        element_id,
    )


def partners_panel(campaign: Campaign | None) -> SafeString:
    """The panel on the campaign's change page. One line of HTML: the admin turns a read-only
    field's newlines into <br>, which would land inside the snippets."""
    if campaign is None or campaign.pk is None:
        return format_html("<p>{}</p>", "Save the campaign first: its links come from its slug.")
    kit = partner_kit(campaign)
    parts = []
    if campaign.status != Campaign.Status.LIVE:
        parts.append(
            format_html(
                '<p class="help">This campaign is {}: its page, embed and counter answer once '
                "it is live.</p>",
                campaign.get_status_display().lower(),
            )
        )
    parts.append(
        format_html(
            "<h4>Embed snippet</h4>"
            "<p>Any site listed in “allowed origins” may paste this to show the form.</p>{}",
            _copyable("embed-snippet", kit.embed_snippet, rows=3),
        )
    )
    if kit.partners:
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            (
                (
                    partner.origin,
                    partner.tag,
                    _copyable(f"partner-{index}-link", partner.share_url),
                    _copyable(f"partner-{index}-embed", partner.embed_snippet, rows=3),
                )
                for index, partner in enumerate(kit.partners, start=1)
            ),
        )
        parts.append(
            format_html(
                "<h4>Partners</h4>"
                "<p>The sites allowed to frame the form (each must be https://), each with its "
                "own source tag, so the dashboard counts its actions apart.</p>"
                '<table class="partner-links"><thead><tr><th scope="col">Allowed origin</th>'
                '<th scope="col">Source tag</th><th scope="col">Share link</th>'
                '<th scope="col">Embed snippet</th></tr></thead><tbody>{}</tbody></table>',
                rows,
            )
        )
    else:
        parts.append(
            format_html(
                "<h4>Partners</h4><p>{}</p>",
                "No allowed origins yet: add each partner's https:// origin above, one a line, "
                "for its share link and snippet.",
            )
        )
    if kit.ignored:
        parts.append(
            format_html(
                '<p class="errornote">Not an https:// origin, so not allowed to frame the '
                "form: {}</p>",
                format_html_join(", ", "<code>{}</code>", ((line,) for line in kit.ignored)),
            )
        )
    parts.append(
        format_html(
            "<h4>Public counter</h4><p>The campaign's count as JSON, for a partner's own "
            'display: <a href="{}">{}</a></p>',
            kit.count_url,
            kit.count_url,
        )
    )
    return format_html_join("", "{}", ((part,) for part in parts))
