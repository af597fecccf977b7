"""The constituent's form, one class for the whole journey.

The steps are pages of one form: (1) address, (2) officials, (3) message. Each page posts every
field seen so far (earlier ones hidden), so each POST is validated whole, nothing is kept on the
server between pages, and the officials allowed are always recomputed from the address.
"""

import re
import secrets

from django import forms
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from legislators import states
from legislators.lookup import AddressError

from ..messages import MESSAGE_MAX_LENGTH, SUBJECT_MAX_LENGTH
from ..models import PREFIXES, Action, Campaign
from ..validators import validate_multi_line, validate_single_line, validate_zip_code
from .targeting import Recipients, recipients_for

STEPS = ("address", "officials", "message")
CONTACT_FIELDS = Action.CONTACT_FIELDS
STEP_FIELDS = {
    "address": ("prefix", *CONTACT_FIELDS),
    "officials": ("officials", "representative"),
    "message": ("subject", "message", "consent"),
}
CARRIED_FIELDS = ("token", "source", "ref")
TOKEN_SALT = "alerts.action-form"  # noqa: S105 (a signing namespace, not a secret)
TOKEN_MAX_AGE = 60 * 60 * 24 * 2
SOURCE_RE = re.compile(r"^[\w.-]{1,100}$")


def new_form_token() -> str:
    """A one-time token: the same token submitted twice is one action."""
    return signing.dumps(secrets.token_urlsafe(16), salt=TOKEN_SALT)


def form_token_is_valid(token: str) -> bool:
    try:
        signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return False
    return True


def clean_source(value: str) -> str:
    return value if value and SOURCE_RE.match(value) else ""


class IdListField(forms.Field):
    """A list of positive integer ids; which ids are allowed is the form's business."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        try:
            return [int(v) for v in values]
        except (TypeError, ValueError):
            raise ValidationError(_("Choose officials from the list."), code="invalid") from None


def consent_text(campaign: Campaign) -> str:
    return str(
        _(
            "I agree that %(organization)s may use my name, address and email to deliver my "
            "message to the officials I chose and to confirm it with me, as the privacy notice "
            "explains."
        )
        % {"organization": campaign.organization_name}
    )


class ActionForm(forms.Form):
    prefix = forms.ChoiceField(
        label=_("Title (optional)"),
        required=False,
        choices=[("", "—"), *PREFIXES],
        help_text=_("Some offices address their reply with it."),
    )
    first_name = forms.CharField(
        label=_("First name"), max_length=100, validators=[validate_single_line]
    )
    last_name = forms.CharField(
        label=_("Last name"), max_length=100, validators=[validate_single_line]
    )
    email = forms.EmailField(label=_("Email"), max_length=254)
    street = forms.CharField(
        label=_("Street address"), max_length=200, validators=[validate_single_line]
    )
    city = forms.CharField(label=_("City"), max_length=100, validators=[validate_single_line])
    state = forms.ChoiceField(label=_("State"), choices=[("", "—"), *states.CHOICES])
    zip_code = forms.CharField(label=_("ZIP code"), max_length=10, validators=[validate_zip_code])

    officials = IdListField(label=_("Your officials"), required=False)
    representative = forms.IntegerField(
        label=_("Your representative"), required=False, widget=forms.HiddenInput
    )

    subject = forms.CharField(
        label=_("Subject"),
        min_length=6,
        max_length=SUBJECT_MAX_LENGTH,
        validators=[validate_single_line],
        help_text=_("6 to %(count)s characters.") % {"count": SUBJECT_MAX_LENGTH},
    )
    message = forms.CharField(
        label=_("In your own words"),
        max_length=MESSAGE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        validators=[validate_multi_line],
        help_text=_("Optional. Up to %(count)s characters. Offices give personal words weight.")
        % {"count": MESSAGE_MAX_LENGTH},
    )
    consent = forms.BooleanField(label=_("I agree"), required=False)

    # A field people never see; software that fills in every field fills it in.
    homepage = forms.CharField(label=_("Leave this field empty"), required=False, max_length=200)
    token = forms.CharField(required=False, widget=forms.HiddenInput, max_length=200)
    source = forms.CharField(required=False, widget=forms.HiddenInput, max_length=100)
    ref = forms.CharField(required=False, widget=forms.HiddenInput, max_length=20)

    AUTOCOMPLETE = {
        "first_name": "given-name",
        "last_name": "family-name",
        "email": "email",
        "street": "street-address",
        "city": "address-level2",
        "state": "address-level1",
        "zip_code": "postal-code",
    }

    def __init__(
        self,
        *args,
        campaign: Campaign,
        upto: str = "address",
        recipients: Recipients | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.upto = upto
        self.recipients = recipients
        self.steps_done = STEPS[: STEPS.index(upto) + 1]
        for name, token in self.AUTOCOMPLETE.items():
            self.fields[name].widget.attrs["autocomplete"] = token
        self.fields["zip_code"].widget.attrs["inputmode"] = "numeric"
        self.fields["subject"].widget.attrs["maxlength"] = SUBJECT_MAX_LENGTH
        self.fields["message"].widget.attrs["maxlength"] = MESSAGE_MAX_LENGTH
        homepage = self.fields["homepage"].widget.attrs
        homepage.update({"autocomplete": "off", "tabindex": "-1"})
        if upto != "message":
            self.fields["subject"].required = False
        self.fields["consent"].label = consent_text(campaign)

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs.update(
                    {"aria-invalid": "true", "aria-describedby": f"id_{name}_error"}
                )

    # --- validation ---

    def clean_source(self):
        return clean_source(self.cleaned_data.get("source", ""))

    def clean(self):
        cleaned = super().clean()
        if self.recipients is None and not any(
            name in self.errors for name in ("zip_code", "state")
        ):
            try:
                self.recipients = recipients_for(
                    campaign=self.campaign,
                    zip_code=cleaned["zip_code"],
                    state=cleaned["state"],
                    street=cleaned.get("street", ""),
                    city=cleaned.get("city", ""),
                )
            except AddressError as exc:
                self.add_error("zip_code", str(exc))
        if self.recipients is not None and "officials" in self.steps_done:
            self._clean_choice(cleaned)
        if self.upto == "message" and not cleaned.get("consent"):
            self.add_error("consent", _("Please agree, so that we may send your message."))
        return cleaned

    def _clean_choice(self, cleaned):
        checkable = {o.pk: o for o in self.recipients.checkable}
        candidates = {o.pk: o for o in self.recipients.representative_choices}
        chosen_ids = cleaned.get("officials") or []
        representative_id = cleaned.get("representative")
        # No open relay: only officials recomputed from this address can be written.
        if any(pk not in checkable for pk in chosen_ids):
            self.add_error("officials", _("That official is not one of yours for this campaign."))
            return
        if representative_id is not None and representative_id not in candidates:
            self.add_error("representative", _("Choose your representative from the ones listed."))
            return
        chosen = [checkable[pk] for pk in dict.fromkeys(chosen_ids)]
        if representative_id is not None:
            chosen.append(candidates[representative_id])
        if not chosen:
            self.add_error("officials", _("Choose at least one official to write to."))
        cleaned["chosen_officials"] = chosen

    def first_step_with_errors(self) -> str | None:
        for step in STEPS:
            if any(name in self.errors for name in STEP_FIELDS[step]):
                return step
        return None

    def constituent(self) -> dict:
        return {name: self.cleaned_data[name] for name in ("prefix", *CONTACT_FIELDS)}

    # --- what the pages show ---

    def value_of(self, name):
        if self.is_bound:
            if name == "officials":
                return self.data.getlist("officials")
            return self.data.get(name, "")
        field = self.fields.get(name)
        return self.initial.get(name, (field.initial if field else None) or "")

    def carried(self, *steps):
        """(name, value) pairs to post again as hidden inputs: the fields of `steps` and the
        form's own bookkeeping."""
        names = [*CARRIED_FIELDS, *(n for step in steps for n in STEP_FIELDS[step])]
        pairs = []
        for name in names:
            if name == "consent":
                continue
            value = self.value_of(name)
            values = value if isinstance(value, list) else [value]
            pairs.extend((name, v) for v in values if v not in (None, ""))
        return pairs

    @property
    def current(self) -> dict:
        """Every field's present value, for templates (which cannot pass arguments)."""
        return {name: self.value_of(name) for name in self.fields}

    # What each page posts again, hidden: every field it does not show.
    @property
    def carried_on_address(self):
        return self.carried("officials", "message") + self._chosen_marker()

    @property
    def carried_on_officials(self):
        return self.carried("address", "message")

    @property
    def carried_on_message(self):
        return [*self.carried("address", "officials"), ("chosen", "1")]

    def _chosen_marker(self):
        """Once the officials page was seen, an empty choice is a choice, not "not yet"."""
        return [("chosen", "1")] if self.value_of("chosen") == "1" else []

    def selected_ids(self) -> set[int]:
        return {int(v) for v in self.value_of("officials") or [] if str(v).isdigit()}

    def selected_representative(self) -> int | None:
        value = self.value_of("representative")
        return int(value) if value and str(value).isdigit() else None
