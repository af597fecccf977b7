"""A campaign's dashboard and its staffer report (printable page and CSV), under the campaign's
admin (`CampaignAdmin.get_urls`). The numbers are `alerts.reports`'; this module only draws them:
bar charts and a tile map as inline SVG, drawn on the server (the site's CSP allows no inline
script or style, and none is needed)."""

import io
import math
from dataclasses import dataclass

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.text import slugify

from legislators import states

from ..models import Call, Delivery
from ..reports import Bucket, campaign_dashboard, staffer_report, staffer_report_csv

DASHBOARD_TEMPLATE = "admin/alerts/campaign/dashboard.html"
REPORT_TEMPLATE = "admin/alerts/campaign/staffer_report.html"

CHART_WIDTH = 720
CHART_HEIGHT = 160
CHART_LABELS_HEIGHT = 18
SHADES = 5  # map tiles: shade-0 (no actions) to shade-5 (the most)

# A tile grid of the 50 states and DC, (row, column), roughly where each lies.
TILES = {
    "AK": (0, 0), "ME": (0, 10),
    "VT": (1, 9), "NH": (1, 10),
    "WA": (2, 0), "ID": (2, 1), "MT": (2, 2), "ND": (2, 3), "MN": (2, 4), "IL": (2, 5),
    "WI": (2, 6), "MI": (2, 7), "NY": (2, 8), "RI": (2, 9), "MA": (2, 10),
    "OR": (3, 0), "NV": (3, 1), "WY": (3, 2), "SD": (3, 3), "IA": (3, 4), "IN": (3, 5),
    "OH": (3, 6), "PA": (3, 7), "NJ": (3, 8), "CT": (3, 9),
    "CA": (4, 0), "UT": (4, 1), "CO": (4, 2), "NE": (4, 3), "MO": (4, 4), "KY": (4, 5),
    "WV": (4, 6), "VA": (4, 7), "MD": (4, 8), "DE": (4, 9),
    "AZ": (5, 1), "NM": (5, 2), "KS": (5, 3), "AR": (5, 4), "TN": (5, 5), "NC": (5, 6),
    "SC": (5, 7), "DC": (5, 8),
    "OK": (6, 3), "LA": (6, 4), "MS": (6, 5), "AL": (6, 6), "GA": (6, 7),
    "HI": (7, 0), "TX": (7, 3), "FL": (7, 8),
}  # fmt: skip
TILE_SIZE = 40
TILE_GAP = 4


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    confirmed_y: float
    confirmed_height: float
    unconfirmed_y: float
    unconfirmed_height: float
    title: str


@dataclass(frozen=True)
class Tick:
    x: float
    text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_height: int
    bars: list[Bar]
    ticks: list[Tick]
    peak: int


@dataclass(frozen=True)
class Tile:
    code: str
    x: int
    y: int
    shade: int
    title: str


def _bucket_label(bucket: Bucket) -> str:
    start = timezone.localtime(bucket.start)
    return f"{start:%H:%M}" if bucket.hourly else f"{start:%b} {start.day}"


def chart(buckets: list[Bucket]) -> Chart | None:
    """Stacked bars (confirmed below, unconfirmed above) scaled to the busiest bucket, with
    about a dozen labels under them."""
    if not buckets:
        return None
    peak = max(b.total for b in buckets) or 1
    step = CHART_WIDTH / len(buckets)
    gap = min(2.0, step / 4)
    bars, ticks = [], []
    every = max(1, math.ceil(len(buckets) / 12))
    for index, bucket in enumerate(buckets):
        x = round(index * step + gap / 2, 2)
        confirmed_height = round(CHART_HEIGHT * bucket.confirmed / peak, 2)
        unconfirmed_height = round(CHART_HEIGHT * bucket.unconfirmed / peak, 2)
        label = _bucket_label(bucket)
        start = timezone.localtime(bucket.start)
        when = f"{start:%b} {start.day} {label}" if bucket.hourly else label
        bars.append(
            Bar(
                x=x,
                width=round(step - gap, 2),
                confirmed_y=round(CHART_HEIGHT - confirmed_height, 2),
                confirmed_height=confirmed_height,
                unconfirmed_y=round(CHART_HEIGHT - confirmed_height - unconfirmed_height, 2),
                unconfirmed_height=unconfirmed_height,
                title=f"{when}: {bucket.total} actions, {bucket.confirmed} confirmed",
            )
        )
        if index % every == 0:
            ticks.append(Tick(round(x, 2), label))
    return Chart(
        width=CHART_WIDTH,
        height=CHART_HEIGHT + CHART_LABELS_HEIGHT,
        plot_height=CHART_HEIGHT,
        bars=bars,
        ticks=ticks,
        peak=peak,
    )


def tile_map(by_state) -> tuple[list[Tile], int, int]:
    """The states and DC as tiles shaded by their number of actions (territories are in the
    table only); returns the tiles and the drawing's width and height."""
    counts = {tally.key: tally.total for tally in by_state}
    peak = max((counts.get(code, 0) for code in TILES), default=0)
    tiles = []
    for code, (row, column) in TILES.items():
        n = counts.get(code, 0)
        shade = math.ceil(SHADES * n / peak) if peak and n else 0
        name = states.ALL[code]
        tiles.append(
            Tile(
                code=code,
                x=column * (TILE_SIZE + TILE_GAP),
                y=row * (TILE_SIZE + TILE_GAP),
                shade=shade,
                title=f"{name}: {n} action{'s' if n != 1 else ''}",
            )
        )
    columns = 1 + max(c for _, c in TILES.values())
    rows = 1 + max(r for r, _ in TILES.values())
    return tiles, columns * (TILE_SIZE + TILE_GAP), rows * (TILE_SIZE + TILE_GAP)


def _campaign_or_refuse(model_admin: admin.ModelAdmin, request, object_id, *, actions=False):
    campaign = model_admin.get_object(request, unquote(object_id))
    if campaign is None:
        raise Http404(f"No campaign with id {object_id!r}.")
    if not model_admin.has_view_permission(request, campaign):
        raise PermissionDenied
    # The staffer report quotes constituents (first name, city, their words).
    if actions and not request.user.has_perm("alerts.view_action"):
        raise PermissionDenied
    return campaign


def dashboard_view(model_admin: admin.ModelAdmin, request, object_id):
    campaign = _campaign_or_refuse(model_admin, request, object_id)
    board = campaign_dashboard(campaign)
    tiles, map_width, map_height = tile_map(board.by_state)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "original": campaign,
        "title": f"Dashboard: {campaign}",
        "board": board,
        "hourly_chart": chart(board.hourly),
        "daily_chart": chart(board.daily),
        "tiles": tiles,
        "tile_size": TILE_SIZE,
        "map_width": map_width,
        "map_height": map_height,
        "shades": range(SHADES + 1),
        "can_read_report": request.user.has_perm("alerts.view_action"),
        "time_zone": settings.TIME_ZONE,
        **_delivery_table(board),
        "call_rows": [
            {"label": label, "n": board.calls_by_outcome[value]}
            for value, label in Call.Outcome.choices
        ],
    }
    return TemplateResponse(request, DASHBOARD_TEMPLATE, context)


def _delivery_table(board) -> dict:
    statuses = [{"value": v, "label": label} for v, label in Delivery.Status.choices]
    rows = [
        {
            "channel": channel,
            "counts": [counts[s["value"]] for s in statuses],
            "total": sum(counts.values()),
        }
        for channel, counts in board.deliveries.items()
    ]
    by_status = board.deliveries_by_status
    return {
        "statuses": statuses,
        "delivery_rows": rows,
        "delivery_totals": [by_status[s["value"]] for s in statuses],
    }


def staffer_report_view(model_admin: admin.ModelAdmin, request, object_id):
    campaign = _campaign_or_refuse(model_admin, request, object_id, actions=True)
    office = request.GET.get("office") or None
    report = staffer_report(campaign, office_key=office)
    context = {
        "opts": model_admin.opts,
        "campaign": campaign,
        "report": report,
        "office": office,
        "generated_at": timezone.localtime(),
    }
    return TemplateResponse(request, REPORT_TEMPLATE, context)


def staffer_report_csv_view(model_admin: admin.ModelAdmin, request, object_id):
    """The numbers only (no one's words): for staff who may view the campaign."""
    campaign = _campaign_or_refuse(model_admin, request, object_id)
    office = request.GET.get("office") or None
    out = io.StringIO()
    staffer_report_csv(staffer_report(campaign, office_key=office, messages=0), out)
    name = slugify(f"{campaign.slug} {office or 'all offices'} report")
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response
