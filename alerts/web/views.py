import json
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ..messages import signed_off
from ..models import Action, Call, Campaign, Delivery
from ..notifications import ConfirmationLinkError, action_to_confirm, confirmation_code_matches
from ..selectors import action_outcomes, actions_counted, addressed_as
from ..services import FormTokenUsed, action_confirm, action_submit, call_log, campaign_wording
from . import abuse, pages
from .forms import ActionForm, form_token_is_valid, new_form_token
from .framing import frame_ancestors_header
from .recent import recent
from .steps import (
    Step,
    StepPage,
    as_id,
    first_step_with_errors,
    move_posted,
    next_page_values,
    posted_values,
)


def campaign_list(request):
    campaigns = Campaign.objects.live().order_by("-starts_at", "title")
    return render(request, "alerts/campaign_list.html", {"campaigns": campaigns})


def privacy(request):
    return render(request, "alerts/privacy.html")


def _live_campaign(slug):
    return get_object_or_404(Campaign.objects.live(), slug=slug)


def _public_campaign(slug):
    """The live campaign, or one that has ended (whose pages stay up); else 404."""
    return get_object_or_404(Campaign.objects.live() | Campaign.objects.ended(), slug=slug)


def _ended_campaign(slug):
    return get_object_or_404(Campaign.objects.ended(), slug=slug)


def _live_campaign_for_show(request, slug):
    """The live campaign as it was a moment ago (web/recent.py), for a POST too: a campaign
    closed less than PUBLIC_CACHE_SECONDS ago may take one more submission, which is sent like
    any other, and a blast's submits are spared a read each."""
    return recent(f"live-campaign:{slug}", lambda: _live_campaign(slug))


@dataclass(frozen=True)
class _Shown:
    """The campaign a page or embed is about, and in what light."""

    campaign: Campaign
    ended: bool = False  # closed, or past its end: the page says so and takes nothing
    preview: bool = False  # not live, shown to signed-in staff only: nothing is sent


def _campaign_shown(request, slug) -> _Shown:
    """The live campaign; else one that has ended; else, to signed-in staff (their second
    factor verified), any campaign as a preview; else 404. The live and ended ones are the same
    for every visitor and may be reused for a moment (recent.py); a preview is read afresh and
    never kept, and who the visitor is is asked only once the campaign is neither."""
    try:
        return _Shown(_live_campaign_for_show(request, slug))
    except Http404:
        pass
    try:
        return _Shown(recent(f"ended-campaign:{slug}", lambda: _ended_campaign(slug)), True)
    except Http404:
        if not _is_verified_staff(request):
            raise
    return _Shown(get_object_or_404(Campaign, slug=slug), preview=True)


def _is_verified_staff(request) -> bool:
    user = request.user
    return user.is_active and user.is_staff and user.is_verified()


@require_http_methods(["GET", "POST"])
def campaign_detail(request, slug):
    shown = _campaign_shown(request, slug)
    if shown.ended:
        return _ended(request, shown.campaign, embed=False)
    return _journey(request, shown.campaign, embed=False, preview=shown.preview)


@csrf_exempt  # Cookies rarely reach a cross-site iframe; the signed form token guards POSTs.
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def campaign_embed(request, slug):
    shown = _campaign_shown(request, slug)
    campaign = shown.campaign
    if shown.ended:
        return _framed_for_partners(_ended(request, campaign, embed=True), campaign)
    if request.method == "POST" and not form_token_is_valid(request.POST.get("token", "")):
        return HttpResponseForbidden(_("This form has expired. Reload the page to start again."))
    return _framed_for_partners(
        _journey(request, campaign, embed=True, preview=shown.preview), campaign
    )


def _ended(request, campaign, *, embed):
    """A campaign that has ended: its page (and embed) stays up, says so and gives the final
    count. A POST (a form left open while it closed) is answered in the same words, and
    nothing is stored."""
    refused = request.method == "POST"
    count = actions_counted(campaign)
    ends_at = campaign.ends_at
    context = {
        "campaign": campaign,
        "count": count,
        "goal": max(campaign.goal, count, 1),
        "ended_on": ends_at if ends_at is not None and ends_at <= timezone.now() else None,
        "refused": refused,
        **pages.layout(embed),
    }
    # 409: the form was sent to a campaign no longer in the state that takes it.
    return render(request, "alerts/campaign_closed.html", context, status=409 if refused else 200)


def _framed_for_partners(response, campaign):
    """Only the campaign's partner sites (and we) may frame an embedded page."""
    response["Content-Security-Policy"] = frame_ancestors_header(campaign.allowed_origins.split())
    return response


def _journey(request, campaign, *, embed, preview=False):
    """Steps 1-3 on one URL. Each POST carries every field seen so far and is validated whole;
    the page shown is the first with errors, or the next one. A `preview` (staff, a campaign
    not live) is rendered afresh, never from the page cache, and its send is refused."""
    if request.method == "GET":
        if preview:
            form = ActionForm(campaign=campaign, initial=dict(pages.visitor_values(request)))
            return _render(request, StepPage(form, Step.ADDRESS, embed=embed), preview=True)
        return pages.address_page(request, campaign, embed=embed)

    if request.POST.get("homepage"):
        return _decoy_thanks(request, campaign, embed)
    move = move_posted(request.POST)
    if move.validate is None:
        form = ActionForm(campaign=campaign, initial=posted_values(request.POST))
        return _render(request, StepPage(form, move.then, embed=embed), preview=preview)

    form = ActionForm(request.POST, campaign=campaign, upto=move.validate)
    if not form.is_valid():
        step = first_step_with_errors(form.errors) or move.validate
        return _render(request, StepPage(form, step, embed=embed), preview=preview)
    if move.send and preview:
        form.add_error(
            None, _("This is a preview of a campaign that is not live: nothing was sent.")
        )
        return _render(request, StepPage(form, Step.MESSAGE, embed=embed), preview=True)
    if move.send:
        # Counted only once valid: a typo costs nobody their allowance.
        try:
            abuse.check_submission(request=request, email=form.cleaned_data["email"])
        except abuse.RateLimited as exc:
            return abuse.rate_limited_response(request, exc, embedded=embed)
        if not form_token_is_valid(form.cleaned_data["token"]):
            return _render(request, _with_fresh_token(request, form, embed=embed))
        return _submit(request, campaign, form, embed)
    return _render(request, _next_page(request, form, move.then, embed=embed), preview=preview)


def _with_fresh_token(request, form, *, embed, why=None):
    """The message page again, as posted, with a new token and a word on why."""
    data = request.POST.copy()
    data["token"] = new_form_token()
    form = ActionForm(data, campaign=form.campaign, upto=Step.MESSAGE, recipients=form.recipients)
    form.is_valid()
    form.add_error(
        None, why or _("This form was open too long. Check your message and send again.")
    )
    return StepPage(form, Step.MESSAGE, embed=embed)


def _next_page(request, form, step, *, embed):
    initial = next_page_values(request.POST, form)
    next_form = ActionForm(
        campaign=form.campaign, upto=step, recipients=form.recipients, initial=initial
    )
    return StepPage(next_form, step, embed=embed)


def _render(request, page, *, preview=False):
    return render(request, page.template, {**pages.page_context(page), "preview": preview})


def _submit(request, campaign, form, embed):
    try:
        submitted = _action_submit(request, campaign, form)
    except FormTokenUsed:
        why = _("This form was already sent. To send another message, check it and send again.")
        return _render(request, _with_fresh_token(request, form, embed=embed, why=why))
    if embed:
        # A partner's frame may not keep our cookie: the page comes with the POST's answer,
        # and a reload posts the same submission again (the same action, by its token).
        response = _thanks(request, campaign, submitted.action, embed=True)
    else:
        response = redirect(
            "alerts:thanks", slug=campaign.slug, action_id=submitted.action.public_id
        )
    _remember_submitted(request, response, submitted.action)
    return response


def _action_submit(request, campaign, form):
    return action_submit(
        campaign=campaign,
        constituent=form.constituent(),
        subject=form.cleaned_data["subject"],
        message=form.cleaned_data["message"],
        officials=form.cleaned_data["chosen_officials"],
        consent_text=form.fields["consent"].label,
        keep_informed_text=form.keep_informed_agreed(),
        form_token=form.cleaned_data["token"],
        source=form.cleaned_data["source"],
        referral_code=form.cleaned_data["ref"],
        ip_hash=abuse.ip_hash(abuse.client_ip(request)),
        ways=form.ways,
        # The same for every visitor: kept for a moment under a blast (recent.py).
        wording=recent(f"wording:{campaign.pk}", lambda: campaign_wording(campaign)),
    )


# The thanks page shows what one person sent (their officials, their words): only the browser
# that sent it may see it, by a signed cookie naming the actions it sent, not by the action's
# id alone, which a replayed form or a shared link could give someone else.
THANKS_SALT = "alerts.thanks"
THANKS_MAX_AGE = 60 * 60 * 24 * 30
THANKS_KEPT = 10


def thanks_cookie_name() -> str:
    return "__Host-thanks" if settings.SESSION_COOKIE_SECURE else "thanks"


def thanks_cookie_value(public_ids) -> str:
    """The signed cookie value that lets a browser see these actions' thanks pages."""
    # Dots, not commas, between the ids: a cookie value with a comma goes out quoted.
    value = ".".join(str(pk) for pk in public_ids)
    return signing.get_cookie_signer(salt=thanks_cookie_name() + THANKS_SALT).sign(value)


def _submitted_here(request) -> list[str]:
    value = request.get_signed_cookie(
        thanks_cookie_name(), default="", salt=THANKS_SALT, max_age=THANKS_MAX_AGE
    )
    return [pk for pk in value.split(".") if pk]


def _remember_submitted(request, response, action):
    public_id = str(action.public_id)
    held = [public_id, *(pk for pk in _submitted_here(request) if pk != public_id)]
    response.set_cookie(
        thanks_cookie_name(),
        thanks_cookie_value(held[:THANKS_KEPT]),
        max_age=THANKS_MAX_AGE,
        path="/",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _action_submitted_here(request, campaign, action_id) -> Action:
    """The action, if this browser sent it; else 404, as for an action that does not exist."""
    if str(action_id) not in _submitted_here(request):
        raise Http404("No thanks page for this browser.")
    return get_object_or_404(Action, campaign=campaign, public_id=action_id)


def _decoy_thanks(request, campaign, embed):
    """What a bot that filled the hidden field sees: a thank-you page. Nothing was stored."""
    context = {**_thanks_context(request, campaign, action=None), **pages.layout(embed)}
    return render(request, "alerts/thanks.html", context)


def _thanks_context(request, campaign, *, action):
    count = actions_counted(campaign)
    share_url = request.build_absolute_uri(reverse("alerts:campaign_detail", args=[campaign.slug]))
    if action is not None:
        share_url += f"?ref={action.referral_code}"
    return {
        "campaign": campaign,
        "action": action,
        "count": count,
        "goal": max(campaign.goal, count, 1),
        "share_url": share_url,
    }


def _thanks(request, campaign, action, *, embed, call_errors=None, status=200):
    outcomes = action_outcomes(action)
    for outcome in outcomes:
        # What the page offers to paste: the message without the signature's address.
        outcome.delivery.paste_body = signed_off(outcome.delivery.body)
    context = _thanks_context(request, campaign, action=action)
    context.update(
        pages.layout(embed),
        deliveries=[o for o in outcomes if o.report.state not in {"yourself", "call"}],
        manual=[o for o in outcomes if o.report.state in {"yourself", "call"}],
        skipped=action.skipped_officials.all(),
        awaiting_confirmation=campaign.double_opt_in and action.confirmed_at is None,
        # The call log's form posts with a CSRF cookie, which a partner's frame may not carry.
        call_form=not embed,
        call_outcomes=Call.Outcome.choices,
        call_errors=call_errors or {},
        called=request.GET.get("called", ""),
    )
    return render(request, "alerts/thanks.html", context, status=status)


def thanks(request, slug, action_id):
    campaign = _public_campaign(slug)
    action = _action_submitted_here(request, campaign, action_id)
    return _thanks(request, campaign, action, embed=False)


@xframe_options_exempt
def embed_thanks(request, slug, action_id):
    campaign = _public_campaign(slug)
    action = _action_submitted_here(request, campaign, action_id)
    return _framed_for_partners(_thanks(request, campaign, action, embed=True), campaign)


CALL_LIMIT = abuse.Limit("call", 30, 3600)


@require_POST
def call_logged(request, slug, action_id):
    """ "I called": one of this action's officials, and how the call went (after the campaign
    has ended too: the call was made)."""
    campaign = _public_campaign(slug)
    action = _action_submitted_here(request, campaign, action_id)
    if not abuse.hit(CALL_LIMIT, abuse.client_ip(request)):
        exc = abuse.RateLimited(retry_after=abuse.retry_after(CALL_LIMIT), limit="call")
        return abuse.rate_limited_response(request, exc)
    official_id = request.POST.get("official", "")
    try:
        if (pk := as_id(official_id)) is None:
            raise ValidationError({"official": _("That official is not one of this action's.")})
        call_log(action=action, official_id=pk, outcome=request.POST.get("outcome", ""))
    except ValidationError as exc:
        errors = {"official": official_id, "messages": exc.messages}
        return _thanks(request, campaign, action, embed=False, call_errors=errors, status=400)
    url = reverse("alerts:thanks", args=[campaign.slug, action.public_id])
    return redirect(f"{url}?called={official_id}#official-{official_id}")


@require_GET
def campaign_count(request, slug):
    def body():
        campaign = _public_campaign(slug)
        counter = {"count": actions_counted(campaign), "goal": campaign.goal}
        if campaign.has_ended():
            counter["ended"] = True
        return json.dumps(counter)

    return HttpResponse(recent(f"count:{slug}", body), content_type="application/json")


@require_http_methods(["GET", "POST"])
def confirm(request, action_id):
    """The emailed link's page. GET only shows the form (mail scanners fetch links and must
    confirm nothing); the POST confirms when it carries the action's code. The code never
    travels in a URL the server sees: the link holds it in its fragment, which the page's
    script copies into the form, and without JavaScript the constituent types it from the
    email. So access logs, proxies and Referer headers hold the action's id, never the code."""
    try:
        action = action_to_confirm(action_id)
    except ConfirmationLinkError as exc:
        status = 410 if exc.expired else 404
        return render(
            request, "alerts/confirm_invalid.html", {"expired": exc.expired}, status=status
        )
    context = {"action": action, "campaign": action.campaign}
    if request.method == "POST":
        if action.confirmed_at is not None:
            context.update(already_confirmed=True, queued=0)
            return render(request, "alerts/confirm_done.html", context)
        if not abuse.hit(confirm_code_limit(), str(action.public_id)):
            limit = confirm_code_limit()
            exc = abuse.RateLimited(retry_after=abuse.retry_after(limit), limit=limit.name)
            return abuse.rate_limited_response(request, exc)
        entered = request.POST.get("code", "")
        if confirmation_code_matches(action, entered):
            queued = action_confirm(action=action)
            context.update(already_confirmed=queued is None, queued=queued or 0)
            return render(request, "alerts/confirm_done.html", context)
        context["code_error"] = (
            _("Enter the code from the email we sent you.")
            if not entered.strip()
            else _("That is not the code in the email we sent you. Check it and try again.")
        )
    # Whom each message names, as it was written: not whoever holds the office today.
    context["addressed"] = [
        addressed_as(d)
        for d in action.deliveries.select_related("official").exclude(status=Delivery.Status.FAILED)
    ]
    status = 400 if "code_error" in context else 200
    return render(request, "alerts/confirm.html", context, status=status)


def confirm_code_limit() -> abuse.Limit:
    """Tries at one action's confirmation code: 10 an hour, so its 40 bits hold for the
    link's 7 days (under 1 in 10^8 for a guesser)."""
    return abuse.Limit("confirm-code", 10, 3600)
