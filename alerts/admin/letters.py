"""Letters and who cosigned them; pasting a list of cosigners is in `cosigners`."""

from functools import partial

from django.contrib import admin
from django.db.models import Count
from django.urls import path

from legislators.admin import HTTPS_URL_FIELDS

from ..models import Cosignature, Letter
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

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_match_cosigners"
        view = self.admin_site.admin_view(partial(match_cosigners_view, self))
        return [path("<path:object_id>/match-cosigners/", view, name=name), *super().get_urls()]
