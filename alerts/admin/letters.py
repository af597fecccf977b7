"""Letters and who cosigned them; pasting a list of cosigners is in `cosigners`."""

from functools import partial

from django.contrib import admin
from django.db.models import Count
from django.urls import path

from legislators.admin import HTTPS_URL_FIELDS

from ..models import Cosignature, Letter
from ..services import campaign_touch
from .cosigners import match_cosigners_view


class CosignatureInline(admin.TabularInline):
    model = Cosignature
    fields = ("legislator", "role")
    autocomplete_fields = ("legislator",)
    extra = 1


@admin.register(Letter)
class LetterAdmin(admin.ModelAdmin):
    formfield_overrides = HTTPS_URL_FIELDS
    list_display = ("title", "campaign", "sent_on", "cosigner_count")
    list_filter = ("campaign",)
    search_fields = ("title",)
    autocomplete_fields = ("campaign",)
    list_select_related = ("campaign",)
    date_hierarchy = "sent_on"
    inlines = (CosignatureInline,)
    change_form_template = "admin/alerts/letter/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(cosigner_count=Count("cosignatures"))

    @admin.display(description="cosigners", ordering="cosigner_count")
    def cosigner_count(self, obj):
        return obj.cosigner_count

    # The campaign's page shows its letters and their signers; it is cached until the campaign
    # changes, so a letter saved or deleted marks its campaign (and the one it left) changed.
    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        for campaign_id in {form.instance.campaign_id, form.initial.get("campaign")} - {None}:
            campaign_touch(campaign_id=campaign_id)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        campaign_touch(campaign_id=obj.campaign_id)

    def delete_queryset(self, request, queryset):
        campaign_ids = set(queryset.values_list("campaign_id", flat=True))
        super().delete_queryset(request, queryset)
        for campaign_id in campaign_ids:
            campaign_touch(campaign_id=campaign_id)

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_match_cosigners"
        view = self.admin_site.admin_view(partial(match_cosigners_view, self))
        return [path("<path:object_id>/match-cosigners/", view, name=name), *super().get_urls()]
