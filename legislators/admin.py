from django.contrib import admin
from django.db import models

from .models import Legislator, Official

# URLs typed without a scheme are taken as https (Django 6's default, chosen now).
HTTPS_URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Legislator)
class LegislatorAdmin(admin.ModelAdmin):
    formfield_overrides = HTTPS_URL_FIELDS
    list_display = ("name", "party", "state", "chamber", "seat", "in_office")
    list_filter = ("chamber", "party", "in_office", "state")
    search_fields = ("bioguide_id", "first_name", "last_name", "official_full_name", "nickname")
    ordering = ("state", "chamber", "district", "last_name")
    readonly_fields = ("created_at", "updated_at")

    @admin.display(description="name", ordering="last_name")
    def name(self, obj):
        return obj.display_name

    @admin.display(description="district", ordering="district")
    def seat(self, obj):
        return obj.seat


@admin.register(Official)
class OfficialAdmin(admin.ModelAdmin):
    formfield_overrides = HTTPS_URL_FIELDS
    list_display = ("title", "name", "kind", "channel", "is_active")
    list_filter = ("kind", "channel", "is_active")
    search_fields = ("name", "title", "key", "legislator__bioguide_id")
    autocomplete_fields = ("legislator",)
    list_select_related = ("legislator",)
    readonly_fields = ("created_at", "updated_at")
