"""Deliveries and their attempts: counters, an operator's retry, and the stuck queue."""

from django.contrib import admin, messages
from django.template.defaultfilters import truncatechars
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from legislators.models import ContactForm, Official

from ..models import Attempt, Delivery, StuckDelivery
from ..selectors import deliveries_by_office, delivery_stats
from ..services import deliveries_reclaim, deliveries_retry, officials_reach
from .actions import campaign_title


class AttemptInline(admin.TabularInline):
    model = Attempt
    fields = ("number", "channel", "started_at", "finished_at", "outcome", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """One message to one official, and what became of it. Only the delivery code moves it;
    operators can retry failed deliveries."""

    change_list_template = "admin/alerts/delivery/change_list.html"
    # Six columns, the status second with its last error under it: at 1280 px, beside the
    # admin's menu and the filters, it all fits without scrolling sideways.
    list_display = ("short_id", "status_line", "official_line", "campaign", "attempts", "updated")
    list_filter = (
        "status",
        "channel",
        "variant",
        ("action__campaign", admin.RelatedOnlyFieldListFilter),
        ("official", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("id", "official__name", "action__email")
    list_select_related = ("action__campaign", "official")
    actions = ("retry_failed",)
    inlines = (AttemptInline,)
    fieldsets = (
        ("Routing", {"fields": ("id", "action", "official", "channel", "variant")}),
        (
            "Progress",
            {
                "fields": (
                    "status",
                    "attempts",
                    "last_error",
                    "created_at",
                    "queued_at",
                    "enqueued_at",
                    "next_attempt_at",
                    "sending_started_at",
                    "lease_expires_at",
                    "sent_at",
                    "failed_at",
                    "constituent_notified_at",
                    "updated_at",
                )
            },
        ),
        (
            "Message",
            {
                "fields": (
                    "addressed_title",
                    "addressed_name",
                    "salutation",
                    "subject",
                    "organization_statement",
                    "constituent_message",
                    "body",
                ),
                "description": "As written when the constituent sent it: whom it addressed "
                "stays so when the office's holder or salutation changes.",
            },
        ),
    )
    readonly_fields = tuple(field for _, options in fieldsets for field in options["fields"])

    @admin.display(description="id", ordering="id")
    def short_id(self, obj):
        return obj.id.hex[:8]

    class Media:
        css = {"all": ("css/delivery_list.css",)}

    @admin.display(description="status", ordering="status")
    def status_line(self, obj):
        if not obj.last_error:
            return obj.get_status_display()
        return format_html(
            '{}<span class="last-error">{}</span>',
            obj.get_status_display(),
            truncatechars(obj.last_error, 60),
        )

    @admin.display(description="official", ordering="official__name")
    def official_line(self, obj):
        return format_html(
            '{}<span class="channel">{}</span>', obj.official, obj.get_channel_display()
        )

    @admin.display(description="campaign", ordering="action__campaign__title")
    def campaign(self, obj):
        return truncatechars(obj.action.campaign.title, 40)

    @admin.display(description="updated", ordering="updated_at")
    def updated(self, obj):
        return date_format(timezone.localtime(obj.updated_at), "M j, H:i")

    def get_queryset(self, request):
        # The change page's title names the official and the campaign.
        return super().get_queryset(request).select_related("action__campaign", "official")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["subtitle"] = f"To {obj.official} on {obj.action.campaign.title}"
        return super().render_change_form(request, context, add, change, form_url, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request):
        return request.user.has_perm("alerts.change_delivery")

    @admin.action(description="Retry the selected failed deliveries", permissions=["retry"])
    def retry_failed(self, request, queryset):
        selected = list(queryset.values_list("pk", flat=True))
        retried = deliveries_retry(delivery_ids=selected)
        skipped = len(selected) - retried
        self.message_user(
            request,
            f"{retried} failed deliveries queued again"
            + (f"; {skipped} not failed, left alone." if skipped else "."),
            messages.SUCCESS,
        )

    def changelist_view(self, request, extra_context=None):
        """Counters by channel and status above the list: what is moving and what is stuck."""
        extra_context = {
            **(extra_context or {}),
            **_campaign_in_title(request),
            "delivery_stats": delivery_stats(),
            "status_labels": Delivery.Status.labels,
            "stuck_count": StuckDelivery.objects.count(),
            "reach_rows": reach_table(),
        }
        return super().changelist_view(request, extra_context=extra_context)


def reach_table() -> list[dict]:
    """Per office with deliveries: the way it is reached now, when a message last went
    through, failures in the last seven days, and its web form's state."""
    rows = deliveries_by_office()
    officials = Official.objects.in_bulk([row.official_id for row in rows])
    ways = officials_reach(officials=list(officials.values()))
    forms = {form.official_id: form for form in ContactForm.objects.filter(official__in=officials)}
    table = []
    for row in rows:
        way, form = ways[row.official_id], forms.get(row.official_id)
        table.append(
            {
                "official": officials[row.official_id],
                "channel": way.label,
                "last_sent_at": row.last_sent_at,
                "failed_last_7_days": row.failed_last_7_days,
                "manual": row.manual,
                "form": f"{form.get_status_display()} (v{form.version})"
                + ("" if form.enabled else ", switched off")
                if form
                else "—",
            }
        )
    return table


@admin.register(StuckDelivery)
class StuckDeliveryAdmin(DeliveryAdmin):
    """Deliveries still `sending` after their lease: the worker died or hung mid-attempt. The
    sweep takes them back by itself; this queue shows them, and can do it now."""

    change_list_template = None
    actions = ("reclaim",)

    def has_reclaim_permission(self, request):
        return request.user.has_perm("alerts.change_delivery")

    @admin.action(description="Queue the selected deliveries again now", permissions=["reclaim"])
    def reclaim(self, request, queryset):
        reclaimed = deliveries_reclaim(delivery_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            f"{len(reclaimed.queued)} queued again, "
            f"{len(reclaimed.failed)} out of attempts and failed.",
        )


def _campaign_in_title(request) -> dict:
    title = campaign_title(request, "action__campaign__id__exact")
    return {"title": f"Deliveries of \u201c{title}\u201d"} if title else {}
