from django.contrib import admin, messages
from django.db import models
from django.utils import timezone

from .models import (
    BrokenContactForm,
    ContactForm,
    DistrictOffice,
    Legislator,
    Official,
    SenateCwcOffice,
)

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


@admin.register(ContactForm)
class ContactFormAdmin(admin.ModelAdmin):
    """Offices' web forms as imported (import_contact_forms): which work, which have a CAPTCHA,
    which broke; switch one off, or mark a mended one working again."""

    list_display = ("official", "status", "enabled", "version", "consecutive_failures", "source")
    list_filter = ("status", "enabled")
    search_fields = ("official__name", "official__key", "source")
    list_select_related = ("official",)
    readonly_fields = (
        "official",
        "source",
        "definition",
        "content_hash",
        "version",
        "status",
        "consecutive_failures",
        "status_reason",
        "status_changed_at",
        "imported_at",
    )
    fields = ("enabled", *readonly_fields)
    actions = ("mark_working",)

    def has_add_permission(self, request):
        return False

    @admin.action(description="Mark the selected web forms working again")
    def mark_working(self, request, queryset):
        mended = queryset.filter(status=ContactForm.Status.BROKEN).update(
            status=ContactForm.Status.WORKING,
            consecutive_failures=0,
            status_reason="",
            status_changed_at=timezone.now(),
        )
        self.message_user(request, f"{mended} web forms marked working.", messages.SUCCESS)


@admin.register(BrokenContactForm)
class BrokenContactFormAdmin(ContactFormAdmin):
    list_display = ("official", "status_reason", "status_changed_at", "consecutive_failures")
    list_filter = ()


@admin.register(SenateCwcOffice)
class SenateCwcOfficeAdmin(admin.ModelAdmin):
    list_display = ("office_code", "name", "bioguide_id", "listed", "refreshed_at")
    list_filter = ("listed",)
    search_fields = ("office_code", "name", "bioguide_id")


@admin.register(DistrictOffice)
class DistrictOfficeAdmin(admin.ModelAdmin):
    list_display = ("legislator", "city", "state", "zip_code", "phone")
    list_filter = ("state",)
    search_fields = ("legislator__last_name", "city", "office_id")
    list_select_related = ("legislator",)
