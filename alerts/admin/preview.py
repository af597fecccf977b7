"""Staff preview a campaign, draft included, as a constituent from a ZIP code would see it: the
officials that address would write to, each with its variant (thank, urge, executive) and the
exact message it would be delivered, subject and body. It goes through the journey's own form
(`web.forms.ActionForm`: who this address may write to), its defaults for the subject and the
words (`web.steps.next_page_values`) and the composing function the submit uses
(`services.messages_compose`), and writes nothing: no action, no delivery, nothing published."""

from dataclasses import dataclass

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, QueryDict
from django.template.response import TemplateResponse

from legislators import states
from legislators.lookup import AddressError, delegation_for_address
from legislators.models import Official

from ..delivery.routing import Reach
from ..messages import ComposedMessage
from ..models import Action, Campaign
from ..selectors import SAMPLE_SENDER, campaign_problems
from ..services import messages_compose, officials_reach
from ..web.forms import ActionForm
from ..web.steps import Step, next_page_values

PREVIEW_TEMPLATE = "admin/alerts/campaign/preview.html"


class PreviewForm(forms.Form):
    zip_code = forms.CharField(label="ZIP code", max_length=10)
    street = forms.CharField(
        label="Street address (optional)",
        required=False,
        max_length=Action._meta.get_field("street").max_length,
        help_text="For a ZIP code split between districts: the street decides which.",
    )
    city = forms.CharField(
        label="City (optional)",
        required=False,
        max_length=Action._meta.get_field("city").max_length,
    )
    state = forms.ChoiceField(
        label="State (optional)",
        required=False,
        choices=[("", "— the ZIP code's —"), *states.CHOICES],
        help_text="Only for a ZIP code that crosses a state line.",
    )


@dataclass(frozen=True)
class PreviewedMessage:
    official: Official
    message: ComposedMessage
    way: Reach
    # A ZIP code split between districts: this representative or another, by the street.
    one_of_several: bool


def campaign_preview_view(model_admin: admin.ModelAdmin, request, object_id):
    campaign = model_admin.get_object(request, unquote(object_id))
    if campaign is None:
        raise Http404("No such campaign.")
    if not model_admin.has_view_permission(request, campaign):
        raise PermissionDenied
    form = PreviewForm(request.GET if "zip_code" in request.GET else None)
    previews, sender, subject = [], None, ""
    if form.is_valid():
        previews, sender, subject = _preview(campaign, form)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "original": campaign,
        "title": f"Preview: {campaign}",
        "form": form,
        "problems": campaign_problems(campaign),
        "previews": previews,
        "sender": sender,
        "subject": subject,
    }
    return TemplateResponse(request, PREVIEW_TEMPLATE, context)


def _preview(campaign: Campaign, form: PreviewForm):
    """What a made-up constituent at this address would send, or errors on `form`."""
    given = form.cleaned_data
    state = given["state"]
    if not state:
        try:
            state = delegation_for_address(zip_code=given["zip_code"]).states[0]
        except AddressError as exc:
            if campaign.target_congress:
                form.add_error("zip_code", str(exc))
                return [], None, ""
            state = SAMPLE_SENDER["state"]  # no one is looked up by address: any state does
    data = QueryDict(mutable=True)
    data.update(
        {
            **SAMPLE_SENDER,
            "street": given["street"] or SAMPLE_SENDER["street"],
            "city": given["city"] or SAMPLE_SENDER["city"],
            "state": state,
            "zip_code": given["zip_code"],
        }
    )
    journey = ActionForm(data, campaign=campaign, upto=Step.ADDRESS)
    if not journey.is_valid():
        for name, errors in journey.errors.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
        return [], None, ""
    recipients = journey.recipients
    split = recipients.representative_choices
    officials = [*recipients.checkable, *split]
    values = next_page_values(data, journey)
    sender = {name: journey.cleaned_data[name] for name in Action.CONTACT_FIELDS}
    composed = messages_compose(
        campaign=campaign,
        officials=officials,
        subject=values["subject"],
        message=values["message"],
        sender=sender,
    )
    ways = officials_reach(officials=officials, campaign=campaign)
    previews = [
        PreviewedMessage(
            official=official,
            message=message,
            way=ways[official.pk],
            one_of_several=official in split,
        )
        for official, message in zip(officials, composed, strict=True)
    ]
    return previews, sender, values["subject"]
