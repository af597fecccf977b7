"""Campaigns and their policy asks."""

from django.contrib import admin
from django.db.models import Count

from ..models import Campaign, PolicyAsk


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
        (
            "Message",
            {
                "fields": (
                    "message_subject",
                    "thank_template",
                    "urge_template",
                    "executive_template",
                    "suggested_message",
                ),
                "description": "Each official gets the statement that fits: thank cosigners of "
                "the campaign's letters, urge other legislators, address executives. The "
                "constituent's own words follow it.",
            },
        ),
        ("Confirmation and embedding", {"fields": ("double_opt_in", "allowed_origins")}),
        ("Targets", {"fields": ("target_congress", "targets")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(action_count=Count("actions"))

    @admin.display(description="actions", ordering="action_count")
    def action_count(self, obj):
        return obj.action_count
