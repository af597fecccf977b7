from django.contrib import admin
from django.db.models import Count, Q

from .models import Action, Campaign, Cosignature, Delivery, Letter, PolicyAsk


class PolicyAskInline(admin.TabularInline):
    model = PolicyAsk
    fields = ("position", "title", "detail")
    ordering = ("position",)
    extra = 0


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "status", "starts_at", "ends_at", "action_count")
    list_filter = ("status",)
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    autocomplete_fields = ("targets",)
    inlines = (PolicyAskInline,)
    fieldsets = (
        ("Story", {"fields": ("title", "slug", "organization_name", "summary", "body")}),
        ("Schedule", {"fields": ("status", "starts_at", "ends_at", "goal")}),
        ("Message", {"fields": ("message_subject", "message_body")}),
        ("Targets", {"fields": ("targets",)}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(action_count=Count("actions"))

    @admin.display(description="actions", ordering="action_count")
    def action_count(self, obj):
        return obj.action_count


class CosignatureInline(admin.TabularInline):
    model = Cosignature
    fields = ("legislator", "role")
    autocomplete_fields = ("legislator",)
    extra = 1


@admin.register(Letter)
class LetterAdmin(admin.ModelAdmin):
    list_display = ("title", "campaign", "sent_on", "cosigner_count")
    list_filter = ("campaign",)
    search_fields = ("title",)
    autocomplete_fields = ("campaign",)
    list_select_related = ("campaign",)
    date_hierarchy = "sent_on"
    inlines = (CosignatureInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(cosigner_count=Count("cosignatures"))

    @admin.display(description="cosigners", ordering="cosigner_count")
    def cosigner_count(self, obj):
        return obj.cosigner_count


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
class ActionAdmin(admin.ModelAdmin):
    """A constituent's submission as it was received: viewable, never edited."""

    list_display = ("public_id", "campaign", "created_at", "delivery_summary")
    list_filter = ("campaign",)
    search_fields = ("email", "last_name", "public_id")
    date_hierarchy = "created_at"
    list_select_related = ("campaign",)
    inlines = (DeliveryInline,)
    fieldsets = (
        ("Record", {"fields": ("public_id", "campaign", "created_at")}),
        (
            "Constituent",
            {"fields": ("first_name", "last_name", "email", "street", "city", "state", "zip_code")},
        ),
        ("Message", {"fields": ("subject", "message")}),
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


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """One message to one official, and what became of it. Only the delivery code moves it."""

    list_display = (
        "short_id",
        "official",
        "channel",
        "status",
        "attempts",
        "queued_at",
        "sent_at",
        "campaign",
    )
    list_filter = (
        "status",
        "channel",
        ("action__campaign", admin.RelatedOnlyFieldListFilter),
        ("official", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("id", "official__name", "action__email")
    list_select_related = ("action__campaign", "official")
    fieldsets = (
        ("Routing", {"fields": ("id", "action", "official", "channel")}),
        (
            "Progress",
            {
                "fields": (
                    "status",
                    "attempts",
                    "last_error",
                    "created_at",
                    "queued_at",
                    "sending_started_at",
                    "sent_at",
                    "updated_at",
                )
            },
        ),
        ("Message", {"fields": ("subject", "body")}),
    )
    readonly_fields = tuple(field for _, options in fieldsets for field in options["fields"])

    @admin.display(description="id", ordering="id")
    def short_id(self, obj):
        return obj.id.hex[:8]

    @admin.display(description="campaign", ordering="action__campaign__title")
    def campaign(self, obj):
        return obj.action.campaign

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
