"""Which way a message goes to each official, decided when the action is submitted.

    House member        CWC (the House's)
    senator             the Senate's CWC when their seat is on its active list, else the
                        office's web form when a working definition exists, else manual
    executive office    its web form when a definition exists and is enabled, else manual
    any official        email or a webhook, where the official is set up for one

"Manual" means the constituent sends it themselves through the office's own page; the reason
is kept on the delivery and shown to them.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext

from legislators import contact_forms, senate_offices
from legislators.models import ContactForm, Official

from .channels import cwc, web_form

Channel = Official.Channel


@dataclass(frozen=True)
class Reach:
    channel: str
    manual_reason: str = ""
    senate: bool = False  # a senator's office
    # What this way needs from the constituent beyond the form's usual fields: "senate_prefix"
    # (the Senate's CWC takes only Mr., Mrs., Miss, Ms., Dr.), "phone" (some web forms).
    asks: frozenset[str] = frozenset()

    @property
    def is_manual(self) -> bool:
        return self.channel == Channel.CONTACT_FORM

    @property
    def plan(self) -> str:
        """What will happen to the message, as the constituent is told before sending."""
        if self.channel == Channel.CWC:
            if self.senate:
                return gettext("We send it for you through the Senate's CWC system.")
            return gettext("We send it for you through the House's CWC system.")
        if self.channel == Channel.WEB_FORM:
            return gettext("We fill in the office's own web form for you.")
        if self.channel in (Channel.EMAIL, Channel.WEBHOOK):
            return gettext("We send it for you.")
        return gettext("You send this one yourself through the office's page (%(reason)s).") % {
            "reason": self.manual_reason
        }

    @property
    def label(self) -> str:
        """How an organizer or a constituent would name it."""
        if self.channel == Channel.CWC:
            return "the Senate's CWC" if self.senate else "the House's CWC"
        if self.is_manual:
            return f"the constituent ({self.manual_reason})"
        return Channel(self.channel).label

    @property
    def is_senate_cwc(self) -> bool:
        return self.channel == Channel.CWC and self.senate


def reaches(*, officials, topic: str = "") -> dict[int, Reach]:
    """How each of these officials is reached, in two queries whatever their number."""
    officials = list(officials)
    listed = senate_offices.listed_codes()
    forms = {form.official_id: form for form in ContactForm.objects.filter(official__in=officials)}
    return {
        official.pk: reach(official, listed=listed, form=forms.get(official.pk), topic=topic)
        for official in officials
    }


def reach(official, *, listed=frozenset(), form: ContactForm | None = None, topic="") -> Reach:
    senate = cwc.is_senate_office(official.cwc_office)
    if official.channel == Channel.EMAIL and official.email:
        return Reach(Channel.EMAIL)
    if official.channel == Channel.WEBHOOK and official.webhook_url and settings.WEBHOOK_SECRET:
        return Reach(Channel.WEBHOOK)
    if official.cwc_office and not senate and settings.CWC_API_KEY:
        return Reach(Channel.CWC)
    if senate and cwc.senate_reachable(official, listed=listed):
        return Reach(Channel.CWC, senate=True, asks=frozenset({"senate_prefix"}))
    problem = web_form.form_problem(form, topic=topic) if form is not None else None
    if form is not None and problem is None:
        return Reach(Channel.WEB_FORM, senate=senate, asks=web_form_asks(form))
    if official.email:
        return Reach(Channel.EMAIL)
    reason = problem or "this office takes messages only through its own web page"
    return Reach(Channel.CONTACT_FORM, manual_reason=reason, senate=senate)


def web_form_asks(form: ContactForm) -> frozenset[str]:
    """The constituent's phone, when the office's form requires one."""
    phone = contact_forms.required_inputs(form.definition).get("$PHONE", {})
    return frozenset({"phone"}) if phone.get("required") else frozenset()
