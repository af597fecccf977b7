"""Constituents' actions as received, with what became of each message they sent."""

from django.contrib import admin
from django.db.models import Count, Q

from ..models import Action, Delivery
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

    list_display = ("public_id", "campaign", "created_at", "delivery_summary")
    list_filter = (
        "campaign",
        ("confirmed_at", admin.EmptyFieldListFilter),
        "keep_informed",
        "source",
    )
    actions = ("export_csv",)
    search_fields = ("email", "last_name", "public_id")
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
            .annotate(
                deliveries_total=Count("deliveries"),
                deliveries_sent=Count("deliveries", filter=Q(deliveries__status=status.SENT)),
                deliveries_failed=Count("deliveries", filter=Q(deliveries__status=status.FAILED)),
            )
        )

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
