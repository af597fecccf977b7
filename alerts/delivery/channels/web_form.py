"""The office's own web form, filled by headless Chromium from its definition.

Never attempted (NeedsConstituent, no browser started): no enabled definition, a CAPTCHA,
a form marked broken, a required choice nothing matches, a required phone number not given.
A fill that fails (a step times out, an element is missing, the success rule is not seen, the
browser died) is a TransientError carrying the attempt's evidence. WEB_FORM_BROKEN_AFTER
failures in a row, across deliveries, mark the office's form broken: its other pending and
queued web-form deliveries go to the constituents, and the organizers are told.
"""

import logging
from pathlib import Path

from django.conf import settings
from django.core.mail import mail_managers
from django.db.models import F
from django.utils import timezone

from alerts.models import Delivery, DeliveryStatus
from legislators import contact_forms
from legislators.models import ContactForm, Official

from ..webforms import runner, values
from .errors import Evidence, NeedsConstituent, TransientError

logger = logging.getLogger(__name__)

FORM_BROKEN = "the office's web form is not working right now"
SEND_IT_YOURSELF = "; please send it yourself"
BROKEN_REASON = FORM_BROKEN + SEND_IT_YOURSELF
NO_FORM_REASON = "the office's web form cannot be filled automatically" + SEND_IT_YOURSELF


def form_problem(form: ContactForm, *, topic: str) -> str | None:
    """Why this office's web form cannot be filled (for a campaign of this `topic`, when one
    is given), or None. Routing asks it before choosing the web form; sending asks it again,
    as the form may have been switched off or marked broken since."""
    if not form.enabled:
        return "the office's web form is switched off for now"
    if form.status == ContactForm.Status.CAPTCHA:
        return "the office's web form asks for a CAPTCHA, which only a person can answer"
    if form.status == ContactForm.Status.BROKEN:
        return FORM_BROKEN
    offered = contact_forms.topic_options(form.definition) if topic else []
    if offered and contact_forms.best_match(topic, offered) is None:
        return "none of the topics the office's web form offers fits this campaign"
    return None


def usable_form(official) -> ContactForm:
    """The official's definition, or NeedsConstituent saying why it cannot be used (the topic
    was matched when the delivery was routed)."""
    form = ContactForm.objects.filter(official=official).first()
    if form is None:
        raise NeedsConstituent(NO_FORM_REASON)
    problem = form_problem(form, topic="")
    if problem is not None:
        raise NeedsConstituent(problem + SEND_IT_YOURSELF)
    return form


def plan_for(delivery, form: ContactForm) -> values.Plan:
    try:
        return values.plan(
            form.definition, values.variables_for(delivery), origin=settings.CONTACT_FORMS_ORIGIN
        )
    except values.Unfillable as exc:
        raise NeedsConstituent(f"{exc.reason}; please send it yourself") from None


def _screenshot_path(delivery) -> tuple[Path, str]:
    # read_due numbers the claimed attempt; a delivery sent on its own has no such number.
    number = getattr(delivery, "last_attempt_number", None) or delivery.attempts or 1
    relative = f"{delivery.pk}/{number}.png"
    return Path(settings.WEB_FORM_EVIDENCE_DIR) / relative, relative


def _relative(path: str) -> str:
    if not path:
        return ""
    try:
        return str(Path(path).relative_to(settings.WEB_FORM_EVIDENCE_DIR))
    except ValueError:
        return path


def _scrub(text: str, plan: values.Plan) -> str:
    """A failure's message without anything the constituent typed."""
    for step in plan.fields():
        if len(step.value) >= 3:
            text = text.replace(step.value, "…")
    return text


def send(delivery) -> Evidence:
    form = usable_form(delivery.official)
    plan = plan_for(delivery, form)
    path, _ = _screenshot_path(delivery)
    try:
        result = runner.fill(
            plan,
            screenshot=path,
            origin=settings.CONTACT_FORMS_ORIGIN,
            wait_cap=settings.WEB_FORM_WAIT_CAP_SECONDS,
        )
    except runner.StepFailed as exc:
        evidence = Evidence(exc.final_url, False, _relative(exc.screenshot))
        reason = _scrub(f"broken at {exc}", plan)
        _failed(form, reason, evidence)
    except runner.BrowserGone as exc:
        # Not the office's fault: the form's failure count stays as it is.
        evidence = Evidence(exc.final_url, None, "")
        raise TransientError(f"web form: the browser stopped: {exc}", evidence=evidence) from None
    evidence = Evidence(result.final_url, result.success_seen, _relative(result.screenshot))
    if not result.success_seen:
        _failed(form, "the office's confirmation was not seen after submitting", evidence)
    ContactForm.objects.filter(pk=form.pk).update(consecutive_failures=0)
    return evidence


def _failed(form: ContactForm, reason: str, evidence: Evidence):
    """Count the failure; at WEB_FORM_BROKEN_AFTER in a row mark the form broken (once, by
    whoever gets there first) and raise NeedsConstituent, else TransientError."""
    ContactForm.objects.filter(pk=form.pk).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    failures = ContactForm.objects.values_list("consecutive_failures", flat=True).get(pk=form.pk)
    if failures >= settings.WEB_FORM_BROKEN_AFTER:
        contact_form_break(form=form, reason=f"{failures} failures in a row; last: {reason}")
        raise NeedsConstituent(BROKEN_REASON, evidence=evidence)
    raise TransientError(f"web form {reason}", evidence=evidence)


def contact_form_break(*, form: ContactForm, reason: str) -> bool:
    """Mark the form broken, move the office's pending and queued web-form deliveries to the
    constituents, and tell the organizers. False when it was not working (nothing done)."""
    now = timezone.now()
    won = ContactForm.objects.filter(pk=form.pk, status=ContactForm.Status.WORKING).update(
        status=ContactForm.Status.BROKEN, status_reason=reason[:2000], status_changed_at=now
    )
    if not won:
        return False
    moved = Delivery.objects.filter(
        official_id=form.official_id, channel=Official.Channel.WEB_FORM
    ).transition(
        source=[DeliveryStatus.PENDING, DeliveryStatus.QUEUED],
        target=DeliveryStatus.MANUAL,
        now=now,
        manual_reason=BROKEN_REASON,
    )
    official = Official.objects.get(pk=form.official_id)
    logger.warning("web form of %s marked broken; %s deliveries now manual", official.key, moved)
    mail_managers(
        f"Web form broken: {official}",
        f"The web form of {official} ({official.key}) was marked broken and will not be "
        f"filled again until its definition is fixed and re-imported, or it is reset in the "
        f"admin.\n\nReason: {reason}\n\n{moved} waiting deliveries to this office were "
        f"handed to their constituents to send themselves.\n",
        fail_silently=True,
    )
    return True
