"""The campaign admin's lifecycle: the status field checked as the service checks it, the moves
by hand ("Schedule", "Go live now", "Close now"), a campaign's readiness on its page, its
preview (`preview.py`), "View on site" and "Clone". `CampaignLifecycleAdmin` is a mixin of
`CampaignAdmin`; every write is a service's."""

import copy

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.forms.models import inlineformset_factory
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from ..models import Campaign, PolicyAsk
from ..selectors import campaign_move_problems, campaign_problems
from ..services import CampaignMoveRefused, campaign_clone, campaign_status_set
from .pages import object_page_urls
from .preview import campaign_preview_view

Status = Campaign.Status
CLONE_TEMPLATE = "admin/alerts/campaign/clone.html"
# The policy asks as the admin's inline posts them (its prefix is the relation's name).
_AsksFormSet = inlineformset_factory(
    Campaign, PolicyAsk, fields=("position", "title", "detail"), extra=0
)


class StatusCheckedForm:
    """Mixed into the campaign's admin form: a campaign saved as scheduled or live must be
    complete, and a status change must be a move the lifecycle allows; the reasons show next
    to the status field. The move itself is made by `campaign_status_set` once the rest is
    saved (`CampaignLifecycleAdmin.save_related`)."""

    status_move: tuple[str, str] | None = None

    def clean(self):
        cleaned = super().clean()
        target = cleaned.get("status")
        if target is None or "status" in self.errors:
            return cleaned
        source = self.instance.status if self.instance.pk else Status.DRAFT
        if target == source and target not in (Status.SCHEDULED, Status.LIVE):
            return cleaned
        candidate = copy.copy(self.instance)
        candidate.status = source
        concrete = {f.name for f in Campaign._meta.concrete_fields}
        for name, value in cleaned.items():
            if name in concrete and name != "status":
                setattr(candidate, name, value)
        reasons = campaign_move_problems(
            candidate, target=target, asks=self._asks_posted(), targets=self._targets_posted()
        )
        starts_at = cleaned.get("starts_at")
        if target == Status.LIVE != source and starts_at and starts_at > timezone.now():
            reasons.append(
                "Its start time (“Starts at”) is ahead: choose “Scheduled” to go live then, "
                "or clear it to go live now."
            )
        if reasons:
            self.add_error("status", reasons)
        elif target != source:
            self.status_move = (source, target)
        return cleaned

    def _asks_posted(self):
        """The asks this save will leave (the inline's rows, less those ticked to delete); the
        saved ones when the post carries no inline (the inline reports its own errors)."""
        asks = _AsksFormSet(self.data, instance=self.instance, prefix="asks")
        if not asks.is_valid():
            return None
        return [
            PolicyAsk(position=row["position"], title=row["title"], detail=row.get("detail", ""))
            for row in (f.cleaned_data for f in asks.forms)
            if row and not row.get("DELETE")
        ]

    def _targets_posted(self):
        if "targets" not in self.fields or "targets" not in self.cleaned_data:
            return None
        return list(self.cleaned_data["targets"])


def _moved(model_admin, request, queryset, status, done_words):
    moved, refused = 0, []
    for campaign in queryset.order_by("pk"):
        try:
            campaign_status_set(campaign=campaign, status=status)
        except CampaignMoveRefused as exc:
            refused.append((campaign, exc.reasons))
        else:
            moved += 1
    if moved:
        model_admin.message_user(request, f"{moved} campaign(s) {done_words}.", messages.SUCCESS)
    for campaign, reasons in refused:
        model_admin.message_user(
            request, f"“{campaign}” was not changed: {' '.join(reasons)}", messages.ERROR
        )


@admin.action(description="Schedule (live at its start time)", permissions=["change"])
def schedule(model_admin, request, queryset):
    _moved(model_admin, request, queryset, Status.SCHEDULED, "scheduled")


@admin.action(description="Go live now", permissions=["change"])
def go_live_now(model_admin, request, queryset):
    _moved(model_admin, request, queryset, Status.LIVE, "live now")


@admin.action(description="Close now", permissions=["change"])
def close_now(model_admin, request, queryset):
    _moved(model_admin, request, queryset, Status.CLOSED, "closed")


@admin.action(description="Clone as new drafts", permissions=["add"])
def clone(model_admin, request, queryset):
    for campaign in queryset.order_by("pk"):
        copied = campaign_clone(campaign=campaign)
        url = reverse("admin:alerts_campaign_change", args=[copied.pk])
        model_admin.message_user(
            request,
            format_html('“{}” cloned as a new draft: <a href="{}">{}</a>.', campaign, url, copied),
            messages.SUCCESS,
        )


def campaign_clone_view(model_admin, request, object_id):
    """The change page's "Clone": a GET asks, a POST copies and opens the copy."""
    campaign = model_admin.get_object(request, unquote(object_id))
    if campaign is None:
        raise Http404("No such campaign.")
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    if request.method == "POST":
        copied = campaign_clone(campaign=campaign)
        model_admin.message_user(
            request, f"Cloned “{campaign}” as this new draft.", messages.SUCCESS
        )
        return HttpResponseRedirect(reverse("admin:alerts_campaign_change", args=[copied.pk]))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "original": campaign,
        "title": f"Clone “{campaign}”?",
    }
    return TemplateResponse(request, CLONE_TEMPLATE, context)


class CampaignLifecycleAdmin:
    """Mixed into `CampaignAdmin` (before `admin.ModelAdmin`)."""

    actions = (schedule, go_live_now, close_now, clone)

    class Media:
        css = {"all": ("css/campaign_preview.css",)}

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (StatusCheckedForm, form), {})

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "readiness")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        return [
            (name, {**options, "fields": (*options["fields"], "readiness")})
            if "status" in options["fields"]
            else (name, options)
            for name, options in fieldsets
        ]

    @admin.display(description="ready to go live?")
    def readiness(self, obj):
        if obj is None or obj.pk is None:
            return "Save the campaign first: then its preview and what it still needs show here."
        problems = campaign_problems(obj)
        links = format_html(
            '<p><a href="{}">Preview as a constituent</a> · <a href="{}">Clone as a new '
            "draft</a></p>",
            reverse("admin:alerts_campaign_preview", args=[obj.pk]),
            reverse("admin:alerts_campaign_clone", args=[obj.pk]),
        )
        if not problems:
            verdict = format_html('<p class="ready">{}</p>', "Ready: nothing is missing.")
        else:
            verdict = format_html(
                '<p class="not-ready">{}</p><ul>{}</ul>',
                "Not ready to be scheduled or go live:",
                format_html_join("", "<li>{}</li>", ((p,) for p in problems)),
            )
        return format_html('<div class="campaign-readiness">{}{}</div>', verdict, links)

    def view_on_site(self, obj):
        # Staff see a draft's page too, under a "Preview — not live" banner (web/views.py).
        return reverse("alerts:campaign_detail", args=[obj.slug])

    def get_urls(self):
        pages = [
            ("preview/", campaign_preview_view, "preview"),
            ("clone/", campaign_clone_view, "clone"),
        ]
        return object_page_urls(self, pages) + super().get_urls()

    def save_model(self, request, obj, form, change):
        # The status moves after the asks and targets are saved, through the service.
        if form.status_move is not None:
            obj.status = form.status_move[0]
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if form.status_move is None:
            return
        try:
            campaign_status_set(campaign=form.instance, status=form.status_move[1])
        except CampaignMoveRefused as exc:  # changed by someone else since the form was checked
            self.message_user(
                request, f"The status was not changed: {' '.join(exc.reasons)}", messages.ERROR
            )
