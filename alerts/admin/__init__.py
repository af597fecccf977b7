import hashlib

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from legislators.admin import HTTPS_URL_FIELDS
from legislators.matching import AMBIGUOUS, MATCHED, CosignerMatch, match_cosigners

from ..delivery.engine import deliveries_reclaim, deliveries_retry
from ..models import (
    Action,
    Attempt,
    Campaign,
    Cosignature,
    Delivery,
    Letter,
    PolicyAsk,
    StuckDelivery,
)
from ..services import cosignatures_save


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


class CosignatureInline(admin.TabularInline):
    model = Cosignature
    fields = ("legislator", "role")
    autocomplete_fields = ("legislator",)
    extra = 1


SKIP = "skip"


def _pasted_digest(text: str, chamber: str) -> str:
    """Tells whether the list (or the chamber) changed between the preview and the save."""
    normalized = text.replace("\r\n", "\n").strip()
    return hashlib.sha256(f"{chamber}\n{normalized}".encode()).hexdigest()


class CosignerPasteForm(forms.Form):
    """A pasted list of cosigners and, once previewed, one choice per entry.

    Each entry's choices are only its match and its candidates (plus "skip"), computed again
    from the posted text on every request, so a posted legislator id that was not offered for
    that entry is rejected as an invalid choice.
    """

    CHAMBERS = (("house", "House"), ("senate", "Senate"), ("", "Either chamber"))

    text = forms.CharField(
        label="Cosigners",
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 100}),
        help_text=(
            "Paste the names as the press release lists them, separated by commas, semicolons "
            "or new lines, e.g. \u201cJake Auchincloss (D-MA), Tony Cardenas (D-CA) and Bonnie "
            "Watson Coleman (D-NJ)\u201d. A (party-state) tag and a Rep./Sen. prefix help."
        ),
    )
    chamber = forms.ChoiceField(choices=CHAMBERS, initial="house", required=False)
    role = forms.ChoiceField(choices=Cosignature.Role.choices, initial=Cosignature.Role.COSIGNER)
    previewed = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, matches: list[CosignerMatch] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.matches = list(matches)
        for index, match in enumerate(self.matches):
            self.fields[self.row_name(index)] = self._row_field(index, match)

    @staticmethod
    def row_name(index: int) -> str:
        return f"row_{index}"

    @staticmethod
    def _row_field(index: int, match: CosignerMatch) -> forms.ChoiceField:
        offered = [(str(leg.pk), _choice_label(match, leg)) for leg in match.choices]
        skip = [(SKIP, "Skip this entry")]
        if match.status == MATCHED:
            choices, initial = offered + skip, str(match.legislator.pk)
        elif match.status == AMBIGUOUS:  # nobody is preselected: the organizer decides
            choices, initial = [("", "\u2014 choose \u2014"), *offered, *skip], ""
        else:
            choices, initial = offered + skip, SKIP
        return forms.ChoiceField(
            label=match.raw,
            choices=choices,
            initial=initial,
            error_messages={"required": "Choose a legislator or skip this entry."},
            widget=forms.Select(attrs={"aria-label": f"Entry {index + 1}: {match.raw}"}),
        )

    def row_values(self) -> list[str]:
        return [self.cleaned_data[self.row_name(i)] for i in range(len(self.matches))]


def _choice_label(match: CosignerMatch, legislator) -> str:
    seat = match.seat(legislator)
    return f"{legislator.display_name} ({seat}, {legislator.bioguide_id})"


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
    match_cosigners_template = "admin/alerts/letter/match_cosigners.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(cosigner_count=Count("cosignatures"))

    @admin.display(description="cosigners", ordering="cosigner_count")
    def cosigner_count(self, obj):
        return obj.cosigner_count

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_match_cosigners"
        view = self.admin_site.admin_view(self.match_cosigners_view)
        return [path("<path:object_id>/match-cosigners/", view, name=name), *super().get_urls()]

    def match_cosigners_view(self, request, object_id):
        """Paste a list of cosigners, preview how each entry matched, then save the choices."""
        letter = self.get_object(request, unquote(object_id))
        if letter is None:
            raise Http404(f"No letter with id {object_id!r}.")
        if not (
            self.has_change_permission(request, letter)
            and request.user.has_perm("alerts.add_cosignature")
            and request.user.has_perm("alerts.change_cosignature")
        ):
            raise PermissionDenied

        notice = ""
        if request.method != "POST":
            form = CosignerPasteForm()
        else:
            form = CosignerPasteForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                chamber = data["chamber"] or None
                matches = match_cosigners(data["text"], on=letter.sent_on, chamber=chamber)
                digest = _pasted_digest(data["text"], data["chamber"])
                preview = CosignerPasteForm(initial={**data, "previewed": digest}, matches=matches)
                if not matches:
                    form.add_error("text", "No names were found in the pasted text.")
                elif "_save" not in request.POST:
                    form = preview
                elif data["previewed"] != digest:
                    notice = "The list or the chamber changed after the preview: check the "
                    notice += "table again, then save."
                    form = preview
                else:
                    form = CosignerPasteForm(request.POST, matches=matches)
                    if form.is_valid():
                        return self._match_cosigners_save(request, letter, form)
        return self._match_cosigners_render(request, letter, form, notice)

    def _match_cosigners_save(self, request, letter, form):
        values = form.row_values()
        chosen = [int(value) for value in values if value != SKIP]
        skipped = len(values) - len(chosen)
        role = form.cleaned_data["role"]
        saved = cosignatures_save(letter=letter, legislator_ids=chosen, role=role)
        noun = "cosignature" if saved == 1 else "cosignatures"
        summary = f"{saved} {noun} saved; {skipped} skipped"
        self.log_change(request, letter, f"Matched cosigners: {summary}.")
        messages.success(request, f"{summary}.")
        info = self.opts.app_label, self.opts.model_name
        return HttpResponseRedirect(reverse(f"admin:{info[0]}_{info[1]}_change", args=[letter.pk]))

    def _match_cosigners_render(self, request, letter, form, notice):
        existing = dict(letter.cosignatures.values_list("legislator_id", "role"))
        rows = []
        for index, match in enumerate(form.matches):
            legislator = match.legislator
            rows.append(
                {
                    "match": match,
                    "field": form[form.row_name(index)],
                    "seat": match.seat(legislator) if legislator else "",
                    "existing_role": existing.get(legislator.pk) if legislator else None,
                }
            )
        counts = {
            status: sum(1 for m in form.matches if m.status == status)
            for status in ("matched", "ambiguous", "unmatched")
        }
        context = {
            **self.admin_site.each_context(request),
            "title": f"Match cosigners of \u201c{letter.title}\u201d",
            "subtitle": None,
            "opts": self.opts,
            "original": letter,
            "form": form,
            "rows": rows,
            "counts": counts,
            "notice": notice,
            "has_view_permission": self.has_view_permission(request, letter),
        }
        return TemplateResponse(request, self.match_cosigners_template, context)


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
    list_filter = ("campaign", ("confirmed_at", admin.EmptyFieldListFilter), "source")
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
    list_display = (
        "short_id",
        "official",
        "channel",
        "status",
        "attempts",
        "queued_at",
        "sent_at",
        "campaign",
        "short_error",
    )
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
            {"fields": ("subject", "organization_statement", "constituent_message", "body")},
        ),
    )
    readonly_fields = tuple(field for _, options in fieldsets for field in options["fields"])

    @admin.display(description="id", ordering="id")
    def short_id(self, obj):
        return obj.id.hex[:8]

    @admin.display(description="campaign", ordering="action__campaign__title")
    def campaign(self, obj):
        return obj.action.campaign

    @admin.display(description="last error")
    def short_error(self, obj):
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error

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
        rows = Delivery.objects.values("channel", "status").annotate(count=Count("pk"))
        statuses = [choice for choice, _ in Delivery.Status.choices]
        table = {}
        for row in rows:
            table.setdefault(row["channel"], dict.fromkeys(statuses, 0))[row["status"]] = row[
                "count"
            ]
        extra_context = {
            **(extra_context or {}),
            "counter_statuses": [Delivery.Status(s).label for s in statuses],
            "counters": sorted(
                (channel, [counts[s] for s in statuses]) for channel, counts in table.items()
            ),
            "stuck_count": StuckDelivery.objects.count(),
        }
        return super().changelist_view(request, extra_context=extra_context)


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
        queued, failed = deliveries_reclaim(
            delivery_ids=list(queryset.values_list("pk", flat=True))
        )
        self.message_user(request, f"{queued} queued again, {failed} out of attempts and failed.")
