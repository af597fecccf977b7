"""Downloading constituents' actions as CSV: a campaign's (its change page's "Export actions"
button, `CampaignAdmin.get_urls`) or an admin selection of actions (an action on their list).

Only for staff with the `alerts.export_actions` permission (superusers have it): it hands over
names, emails and addresses. Each export is recorded (`ExportLog`) and logged on the
`alerts.exports` logger: who, what, how many rows; never anyone in it. The CSV is streamed
(`alerts.exports.ActionsCsv`), so its size costs the web worker no memory."""

import logging
import time

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.utils import timezone

from ..exports import ActionsCsv, actions_to_export
from ..models import Campaign, ExportLog
from ..services import export_log_begin, export_log_end

logger = logging.getLogger("alerts.exports")

EXPORT_PERMISSION = "alerts.export_actions"
FLAGS = {"1": True, "0": False, "": None}
# Changelist parameters that are not filters, or could name a constituent (the search box).
NOT_LOGGED = {"q", "o", "p", "_changelist_filters"}


def can_export(user) -> bool:
    return user.is_active and user.is_staff and user.has_perm(EXPORT_PERMISSION)


def _flag(request, name: str) -> bool | None:
    value = request.GET.get(name, "")
    if value not in FLAGS:
        raise ValueError(f"{name} must be 1 (yes) or 0 (no), not {value!r}.")
    return FLAGS[value]


def campaign_export_view(model_admin: admin.ModelAdmin, request, object_id):
    """All of a campaign's actions; `?keep_informed=1` (or 0) and `?confirmed=1` (or 0) narrow
    them."""
    campaign = model_admin.get_object(request, unquote(object_id))
    if campaign is None:
        raise Http404(f"No campaign with id {object_id!r}.")
    if not (model_admin.has_view_permission(request, campaign) and can_export(request.user)):
        raise PermissionDenied
    try:
        filters = {name: _flag(request, name) for name in ("keep_informed", "confirmed")}
    except ValueError as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    actions = actions_to_export(campaign_id=campaign.pk, **filters)
    chosen = {name: value for name, value in filters.items() if value is not None}
    return _streamed(request, actions, campaign=campaign, filters=chosen)


class ExportActionsMixin:
    """For the actions' admin: the "Export selected actions (CSV)" action, for those who may.
    With "Select all" it takes every action the list's filters leave."""

    def has_export_permission(self, request) -> bool:
        return can_export(request.user)

    @admin.action(description="Export selected actions (CSV)", permissions=["export"])
    def export_csv(self, request, queryset):
        filters = {name: value for name, value in request.GET.items() if name not in NOT_LOGGED}
        if request.GET.get("q"):
            filters["search"] = True  # that there was one, not what it was
        if request.POST.get("select_across") != "1":
            filters["selected"] = len(request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME))
        campaign_id = request.GET.get("campaign__id__exact", "")
        campaign = (
            Campaign.objects.filter(pk=int(campaign_id)).first() if campaign_id.isdigit() else None
        )
        return _streamed(
            request, actions_to_export(actions=queryset), campaign=campaign, filters=filters
        )


def _streamed(request, actions, *, campaign: Campaign | None, filters: dict):
    log = export_log_begin(user=request.user, campaign=campaign, filters=filters)
    logger.info(
        "export %s started by %s (user %s): campaign %s, filters %s",
        log.pk,
        log.username,
        log.user_id,
        campaign.pk if campaign else "any",
        filters or "none",
    )
    name = f"{campaign.slug if campaign else 'actions'}-{timezone.now():%Y%m%d-%H%M%S}.csv"
    response = StreamingHttpResponse(
        _logged(ActionsCsv(actions), log), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    # A proxy that buffers would hold the whole file; a cache must not keep personal data.
    response["X-Accel-Buffering"] = "no"
    response["Cache-Control"] = "no-store"
    return response


def _logged(csv_file: ActionsCsv, log):
    started = time.monotonic()
    pieces = iter(csv_file)
    complete = False
    try:
        yield from pieces
        complete = True
    finally:
        # The CSV's read-only transaction ends first, so the record is not written inside it.
        pieces.close()
        export_log_end(log=log, rows=csv_file.rows, complete=complete)
        logger.info(
            "export %s %s: %s rows in %.1f s",
            log.pk,
            "finished" if complete else "cut off",
            csv_file.rows,
            time.monotonic() - started,
        )


@admin.register(ExportLog)
class ExportLogAdmin(admin.ModelAdmin):
    """Who took which constituents' data, and when: a record, never edited."""

    list_display = ("started_at", "username", "campaign", "filters", "rows", "complete")
    list_filter = ("complete", "campaign")
    list_select_related = ("campaign",)
    date_hierarchy = "started_at"
    readonly_fields = (
        "username",
        "user",
        "campaign",
        "filters",
        "started_at",
        "finished_at",
        "rows",
        "complete",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
