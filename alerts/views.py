from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from legislators.models import Official

from .forms import ActionForm, ContactForm
from .models import Action, Campaign
from .selectors import campaign_letters
from .services import action_submit


def campaign_list(request):
    campaigns = Campaign.objects.live().order_by("-starts_at", "title")
    return render(request, "alerts/campaign_list.html", {"campaigns": campaigns})


def _live_campaign(slug):
    return get_object_or_404(Campaign.objects.live(), slug=slug)


@require_http_methods(["GET", "POST"])
def campaign_detail(request, slug):
    """Step 1 (address) and step 2 (officials and message) on one URL, without JavaScript.

    Step 2 re-posts step 1's fields, so every POST is validated whole and nothing is kept
    between requests.
    """
    campaign = _live_campaign(slug)
    step = request.POST.get("step") if request.method == "POST" else None
    form = ContactForm(campaign=campaign)
    if step == "send":
        form = ActionForm(request.POST, campaign=campaign)
        if form.is_valid():
            action = action_submit(
                campaign=campaign,
                constituent=form.constituent(),
                subject=form.cleaned_data["subject"],
                message=form.cleaned_data["message"],
                officials=form.cleaned_data["chosen_officials"],
            )
            return redirect("alerts:thanks", slug=campaign.slug, action_id=action.public_id)
        if not form.has_contact_errors():
            return _render_compose(request, campaign, form)
    elif step == "address":
        form = ContactForm(request.POST, campaign=campaign)
        if form.is_valid():
            compose = ActionForm(
                campaign=campaign, recipients=form.recipients, initial=form.constituent()
            )
            return _render_compose(request, campaign, compose)
    elif step == "edit":
        form = ContactForm(campaign=campaign, initial=request.POST.dict())
    context = {
        "campaign": campaign,
        "asks": campaign.asks.all(),
        "letters": campaign_letters(campaign),
        "form": form,
    }
    return render(request, "alerts/campaign_detail.html", context)


def _render_compose(request, campaign, form):
    return render(request, "alerts/compose.html", {"campaign": campaign, "form": form})


def thanks(request, slug, action_id):
    campaign = _live_campaign(slug)
    action = get_object_or_404(
        Action.objects.annotate(delivery_count=Count("deliveries")),
        campaign=campaign,
        public_id=action_id,
    )
    officials = Official.objects.filter(deliveries__action=action).order_by("kind", "title")
    return render(
        request,
        "alerts/thanks.html",
        {"campaign": campaign, "action": action, "officials": officials},
    )
