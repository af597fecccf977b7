"""Campaigns, their policy asks, and the calls constituents logged."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseNotAllowed
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from legislators.models import Official

from ..messages import placeholder_examples
from ..models import Call, Campaign, Letter, PolicyAsk
from ..selectors import calls_by_office, unverified_executive_q, unverified_targets
from ..services import officials_reach, web_form_topic_mapping
from .dashboard import dashboard_view, staffer_report_csv_view, staffer_report_view
from .exports import campaign_export_view
from .lifecycle import CampaignLifecycleAdmin
from .pages import object_page_urls
from .partners import partners_panel

CALL_SCRIPT_FIELDS = ("call_script_thank", "call_script_urge", "call_script_executive")


class PolicyAskInline(admin.TabularInline):
    model = PolicyAsk
    fields = ("position", "title", "detail")
    ordering = ("position",)
    extra = 0


class CampaignAdminForm(forms.ModelForm):
    """The subject, statements and call scripts are validated by the model's fields
    (`alerts.models.Campaign`): their errors show next to each field here."""

    class Meta:
        model = Campaign
        fields = CALL_SCRIPT_FIELDS


class UnverifiedTargetsFilter(admin.SimpleListFilter):
    title = "executive targets"
    parameter_name = "targets_verified"

    def lookups(self, request, model_admin):
        return [("no", "Some holder unverified"), ("yes", "All verified")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(has_unverified=True)
        if self.value() == "yes":
            return queryset.filter(has_unverified=False)
        return queryset


def _unverified_exists():
    through = Campaign.targets.through
    return Exists(
        through.objects.filter(campaign_id=OuterRef("pk")).filter(
            official__in=Official.objects.filter(unverified_executive_q())
        )
    )


def _calls_subquery():
    counted = (
        Call.objects.filter(campaign_id=OuterRef("pk"))
        .order_by()
        .values("campaign_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted), 0)


def _unverified_warning(campaign, targets) -> str:
    offices = ", ".join(o.title for o in targets)
    return (
        f"“{campaign}” is live and its messages address these offices without naming anyone, "
        f"because nobody verified their holder in the last EXECUTIVE_VERIFY_DAYS days: "
        f"{offices}. Check who holds each office and set “holder verified on” (or run "
        "import_executive --officials with verified_on)."
    )


RELATED_HISTORY_SHOWN = 50


def related_history(campaign_id) -> list:
    """The latest changes to a campaign's asks and letters, newest first, each with `kind`."""
    records = []
    for kind, model in (("Policy ask", PolicyAsk), ("Letter", Letter)):
        latest = model.history.filter(campaign_id=campaign_id).select_related("history_user")
        for record in latest.order_by("-history_date")[: RELATED_HISTORY_SHOWN + 1]:
            record.kind = kind
            records.append(record)
    return sorted(records, key=lambda record: record.history_date, reverse=True)


@admin.register(Campaign)
class CampaignAdmin(CampaignLifecycleAdmin, SimpleHistoryAdmin):
    form = CampaignAdminForm
    change_form_template = "admin/alerts/campaign/change_form.html"
    # The History page: who saved the campaign, its asks and letters, and what changed; a
    # record only (no revert), without the inline style of django-simple-history's list.
    object_history_template = "admin/alerts/campaign/object_history.html"
    object_history_list_template = "admin/alerts/campaign/object_history_list.html"
    list_display = (
        "title",
        "slug",
        "status",
        "starts_at",
        "ends_at",
        "action_count",
        "call_count",
        "targets_verified",
    )
    list_filter = ("status", UnverifiedTargetsFilter)
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    autocomplete_fields = ("targets",)
    inlines = (PolicyAskInline,)
    readonly_fields = (
        "calls_per_office",
        "reach_per_target",
        "web_form_topics",
        "placeholder_guide",
        "partners",
    )
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
                    "placeholder_guide",
                ),
                "description": "Each official gets the statement that fits: thank cosigners of "
                "the campaign's letters, urge other legislators, address executives. Write the "
                "body only: each message opens with the office's own greeting (“Dear Senator "
                "Kim,”) and is signed with the constituent's name and address. The "
                "constituent's own words follow the statement.",
            },
        ),
        (
            "Calls",
            {
                "fields": (*CALL_SCRIPT_FIELDS, "calls_per_office"),
                "description": "Shown beside each official's phone numbers on the officials "
                "step, the thank-you page and the confirmation email. Placeholders as in "
                "messages: {official_title}, {official_last_name}, {constituent_name}, "
                "{constituent_city}, {policy_asks}. Empty: numbers only.",
            },
        ),
        (
            "Confirmation and embedding",
            {"fields": ("double_opt_in", "allowed_origins", "partners")},
        ),
        (
            "Targets",
            {"fields": ("target_congress", "targets", "reach_per_target", "topic", "cwc_topic")},
        ),
        (
            "Offices' web forms",
            {
                "classes": ("collapse",),
                "fields": ("web_form_topics",),
                "description": "The topic each office's web form will be given for this "
                "campaign, matched from the campaign's topic to the office's own list.",
            },
        ),
    )

    @admin.display(description="placeholders")
    def placeholder_guide(self, obj):
        """What each placeholder renders to, from this campaign's asks and one of its targets."""
        asks, official = [], None
        if obj is not None and obj.pk is not None:
            asks = list(obj.asks.all())
            official = obj.targets.order_by("kind", "title").first()
        rows = format_html_join(
            "",
            "<tr><td><code>{}</code></td><td>{}</td><td><pre>{}</pre></td></tr>",
            placeholder_examples(official=official, asks=asks),
        )
        return format_html(
            '<table class="placeholder-guide"><tr><th>{}</th><th>{}</th><th>{}</th></tr>{}'
            "</table><p>{}</p>",
            "Placeholder",
            "What it is",
            "For example",
            rows,
            "The subject takes {constituent_name} and {constituent_city} only; the suggested "
            "words take no official's placeholder. An unknown placeholder is refused.",
        )

    class Media:
        css = {"all": ("css/campaign_partners.css",)}
        js = ("admin/js/copy_snippet.js",)

    @admin.display(description="partners: embed, share links, counter")
    def partners(self, obj):
        return partners_panel(obj)

    def revert_disabled(self, request, obj=None):
        # A revert would skip the lifecycle's checks and leave the targets as they are now.
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # django-simple-history saves a form posted to an old version's page, whatever
        # revert_disabled says, and asks only for the view permission: here it is read-only.
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        return super().history_form_view(request, object_id, version_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        object_id = unquote(object_id)
        related = related_history(object_id) if object_id.isdigit() else []
        extra_context = {
            **(extra_context or {}),
            "related_history": related[:RELATED_HISTORY_SHOWN],
            "related_history_more": len(related) > RELATED_HISTORY_SHOWN,
        }
        return super().history_view(request, object_id, extra_context)

    @admin.display(description="how each target is reached")
    def reach_per_target(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        targets = list(obj.targets.all())
        if not targets:
            return "No fixed targets."
        ways = officials_reach(officials=targets, campaign=obj)
        return format_html_join(
            "", "<p>{}: {}</p>", ((target, ways[target.pk].label) for target in targets)
        )

    @admin.display(description="topics given to offices' web forms")
    def web_form_topics(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        rows = web_form_topic_mapping(campaign=obj)
        if not rows:
            return "No office's web form asks for a topic."
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td></tr>",
            ((office, chosen or "no match: constituents send it") for office, chosen in rows),
        )
        return format_html(
            '<table class="web-form-topics"><tr><th>{}</th><th>{}</th></tr>{}</table>',
            "Office",
            "Topic given",
            body,
        )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                action_count=Count("actions"),
                call_count=_calls_subquery(),
                has_unverified=_unverified_exists(),
            )
        )

    @admin.display(description="actions", ordering="action_count")
    def action_count(self, obj):
        return obj.action_count

    @admin.display(description="calls", ordering="call_count")
    def call_count(self, obj):
        return obj.call_count

    @admin.display(description="targets verified", boolean=True, ordering="has_unverified")
    def targets_verified(self, obj):
        return not obj.has_unverified

    @admin.display(description="calls per office")
    def calls_per_office(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        rows = calls_by_office(obj)
        if not rows:
            return "No calls logged yet."
        header = format_html(
            "<tr><th>Office</th><th>Calls</th>{}</tr>",
            format_html_join("", "<th>{}</th>", ((label,) for label in Call.Outcome.labels)),
        )
        body = format_html_join(
            "",
            "<tr><td>{} {}</td><td>{}</td>{}</tr>",
            (
                (
                    row["official__title"],
                    row["official__name"],
                    row["total"],
                    format_html_join(
                        "", "<td>{}</td>", ((row[value],) for value in Call.Outcome.values)
                    ),
                )
                for row in rows
            ),
        )
        return format_html('<table class="calls-per-office">{}{}</table>', header, body)

    def get_urls(self):
        pages = [
            ("dashboard/", dashboard_view, "dashboard"),
            ("report/", staffer_report_view, "report"),
            ("report/csv/", staffer_report_csv_view, "report_csv"),
            ("export/", campaign_export_view, "export"),
        ]
        return object_page_urls(self, pages) + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        for campaign in Campaign.objects.live():
            if targets := unverified_targets(campaign):
                self.message_user(
                    request, _unverified_warning(campaign, targets), level=messages.WARNING
                )
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            campaign = Campaign.objects.live().filter(pk=object_id).first()
            if campaign is not None and (targets := unverified_targets(campaign)):
                self.message_user(
                    request, _unverified_warning(campaign, targets), level=messages.WARNING
                )
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    """Every "I called", filterable by campaign, office and outcome."""

    list_display = ("created_at", "campaign", "official", "outcome")
    list_filter = ("outcome", "campaign", ("official", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("campaign", "official")
    date_hierarchy = "created_at"
    readonly_fields = ("campaign", "official", "action", "outcome", "created_at")

    def has_add_permission(self, request):
        return False
