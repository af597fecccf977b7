"""The campaign page and the embed page as first shown (the address step): the same for every
visitor but for the CSRF token, the signed form token and ?source=/?ref=, so the page is
rendered once per campaign, kept in the cache, and only those are filled in per request.

The cached copy is keyed by the campaign's `updated_at`: saving the campaign (its asks and
targets are saved with it in the admin) changes it, and so do the services and admin paths that
change what else the page shows (`services.campaign_touch`: letters, cosigners). Legislators'
own data (a name, a party) changes without touching campaigns: `PAGE_TIMEOUT` bounds that.
"""

import logging
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from ..models import Campaign
from ..selectors import campaign_letters
from .forms import ActionForm, clean_source, new_form_token
from .recent import recent
from .steps import Step, StepPage

logger = logging.getLogger(__name__)

PAGE_TIMEOUT = 10 * 60
# Part of the key: bump it when a deploy changes these pages' templates, so that copies
# rendered by the previous code are not served until they expire.
PAGE_FORMAT = 1
# Stand-ins rendered into the cached copy where each visitor's own values go.
CARRIED_SLOT = "__alerts_page_carried__"
CSRF_SLOT = "__alerts_page_csrf__"


def layout(embed: bool) -> dict:
    return {"embed": embed, "base_template": "base_embed.html" if embed else "base.html"}


def page_context(page: StepPage) -> dict:
    """What a step's template is rendered with."""
    campaign = page.form.campaign
    context = {
        "campaign": campaign,
        "form": page.form,
        "page": page,
        "previews": page.previews,
        **layout(page.embed),
    }
    if page.tells_the_story:
        context.update(asks=campaign.asks.all(), letters=campaign_letters(campaign))
    return context


def visitor_values(request) -> list[tuple[str, str]]:
    """What the address step posts again for this visitor (`StepPage.carried` on a first
    visit): a fresh form token, and their ?source= and ?ref= when given."""
    values = [
        ("token", new_form_token()),
        ("source", clean_source(request.GET.get("source", ""))),
        ("ref", request.GET.get("ref", "")[:20]),
    ]
    return [(name, value) for name, value in values if value]


@dataclass(frozen=True)
class _Carried:
    """What alerts/_carried.html reads of a page: the (name, value) pairs it posts again."""

    carried: list[tuple[str, str]]


def cache_key(campaign: Campaign, *, embed: bool) -> str:
    version = campaign.updated_at.isoformat()
    return f"alerts:address-page:{PAGE_FORMAT}:{campaign.pk}:{version}:{embed:d}:{get_language()}"


def address_page(request, campaign: Campaign, *, embed: bool) -> HttpResponse:
    key = cache_key(campaign, embed=embed)

    def shared():
        # Fails open: a cache that does not answer (within REDIS_SOCKET_TIMEOUT) costs a fresh
        # render, not the page, and is not asked a second time to keep it.
        try:
            html = cache.get(key)
        except Exception:  # noqa: BLE001 - whatever the cache's client raises
            logger.warning("page cache unavailable; rendering afresh")
            return _shared_copy(campaign, embed=embed)
        if html is None:
            html = _shared_copy(campaign, embed=embed)
            try:
                cache.set(key, html, PAGE_TIMEOUT)
            except Exception:  # noqa: BLE001 - as above
                logger.warning("page cache unavailable; not kept")
        return html

    html = recent(key, shared)
    carried = render_to_string("alerts/_carried.html", {"page": _Carried(visitor_values(request))})
    html = html.replace(CARRIED_SLOT, carried, 1)
    if CSRF_SLOT in html:
        # get_token also has the middleware set the CSRF cookie the POST is checked against.
        html = html.replace(CSRF_SLOT, get_token(request), 1)
    return HttpResponse(html)


def _shared_copy(campaign: Campaign, *, embed: bool) -> str:
    """The page with stand-ins for each visitor's values; rendered without the request, so
    nothing of this visitor's can end up in it."""
    page = StepPage(ActionForm(campaign=campaign), Step.ADDRESS, embed=embed)
    context = page_context(page)
    context.update(carried_slot=mark_safe(CARRIED_SLOT), csrf_token=CSRF_SLOT)  # noqa: S308
    return render_to_string(page.template, context)
