"""Constituents' actions as received, with what became of each message they sent."""

from django.contrib import admin
from django.db.models import Count, OuterRef, Q, Subquery

from legislators.models import Chamber, house_seat

from ..models import Action, Campaign, Delivery
from ..services import actions_delete
from .exports import ExportActionsMixin


class DeliveryInline(admin.TabularInline):
    """What became of each message an action sent; a record, so nothing here is editable."""

    model = Delivery
    fields = ("official", "channel", "status", "attempts", "sent_at", "last_error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("official")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Action)
class ActionAdmin(ExportActionsMixin, admin.ModelAdmin):
    """A constituent's submission as it was received: viewable, never edited."""

    list_display = (
        "constituent",
        "state",
        "district",
        "campaign",
        "created_at",
        "confirmed",
        "delivery_summary",
    )
    list_display_links = ("constituent",)
    list_filter = (
        "campaign",
        ("confirmed_at", admin.EmptyFieldListFilter),
        "keep_informed",
        "state",
        "source",
    )
    actions = ("export_csv",)
    search_fields = ("first_name", "last_name", "email", "public_id")
    search_help_text = "A name, an email address, or an action's id."
    date_hierarchy = "created_at"
    list_select_related = ("campaign",)
    inlines = (DeliveryInline,)
    fieldsets = (
        ("Record", {"fields": ("public_id", "campaign", "created_at", "source", "referred_by")}),
        (
            "Confirmation",
            {
                "fields": (
                    "confirmation_sent_at",
                    "reminder_sent_at",
                    "confirmed_at",
                    "consent_text",
                    "keep_informed",
                    "keep_informed_text",
                )
            },
        ),
        (
            "Constituent",
            {"fields": ("first_name", "last_name", "email", "street", "city", "state", "zip_code")},
        ),
        ("Message", {"fields": ("subject", "message", "skipped_officials")}),
    )
    readonly_fields = tuple(field for _, options in fieldsets for field in options["fields"])

    def get_queryset(self, request):
        status = Delivery.Status
        return (
            super()
            .get_queryset(request)
            .select_related("campaign")  # its title is in the action's own title
            .annotate(
                deliveries_total=Count("deliveries"),
                deliveries_sent=Count("deliveries", filter=Q(deliveries__status=status.SENT)),
                deliveries_failed=Count("deliveries", filter=Q(deliveries__status=status.FAILED)),
                **_representative_seat(),
            )
        )

    def changelist_view(self, request, extra_context=None):
        title = campaign_title(request, "campaign__id__exact")
        if title:
            extra_context = {**(extra_context or {}), "title": f"Actions on \u201c{title}\u201d"}
        return super().changelist_view(request, extra_context)

    @admin.display(description="constituent", ordering="last_name")
    def constituent(self, obj):
        return obj.full_name

    @admin.display(description="district", ordering="house_district")
    def district(self, obj):
        if obj.house_district is None:
            return "—"
        return house_seat(obj.house_state, obj.house_district)

    @admin.display(description="confirmed", ordering="confirmed_at")
    def confirmed(self, obj):
        if obj.confirmed_at:
            return obj.confirmed_at
        return "no" if obj.campaign.double_opt_in else "not asked"

    # Deleting goes through the service, which keeps the campaigns' counts right.
    def delete_model(self, request, obj):
        actions_delete(action_ids=[obj.pk])

    def delete_queryset(self, request, queryset):
        actions_delete(action_ids=list(queryset.values_list("pk", flat=True)))

    @admin.display(description="deliveries")
    def delivery_summary(self, obj):
        summary = f"{obj.deliveries_sent}/{obj.deliveries_total} sent"
        if obj.deliveries_failed:
            summary += f", {obj.deliveries_failed} failed"
        return summary

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _representative_seat() -> dict:
    """The congressional district an action is known by: that of the representative it wrote
    to (the constituent chose it when their ZIP code spans districts), as the dashboard counts
    it. The action stores no district; one that wrote to no representative has none."""
    house = Delivery.objects.filter(
        action=OuterRef("pk"), official__legislator__chamber=Chamber.HOUSE
    ).order_by()
    return {
        "house_state": Subquery(house.values("official__legislator__state")[:1]),
        "house_district": Subquery(house.values("official__legislator__district")[:1]),
    }


def campaign_title(request, parameter: str) -> str:
    """The title of the campaign a list is filtered to by `parameter`, or ""."""
    value = request.GET.get(parameter, "")
    if not value.isdigit():
        return ""
    return Campaign.objects.filter(pk=value).values_list("title", flat=True).first() or ""
