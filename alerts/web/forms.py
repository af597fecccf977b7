"""The constituent's form, one class for the whole journey.

The steps are pages of one form: (1) address, (2) officials, (3) message. Each POST carries every
field seen so far and is validated whole, up to the step it came from, so the officials allowed
are always recomputed from the address. What each page shows is steps.StepPage's business.
"""

import copy
import re
import secrets

from django import forms
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from legislators.lookup import AddressError

from ..messages import (
    MESSAGE_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    subject_for,
    validate_no_asks_in_subject,
)
from ..models import PREFIXES, SENATE_PREFIXES, Action, Campaign
from ..services import campaign_topic, officials_reach, questions_of
from ..validators import validate_multi_line, validate_phone, validate_single_line
from .recent import recent
from .steps import Step, as_id, steps_through
from .targeting import Recipients, fixed_targets, recipients_for

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
        ids = [as_id(v) for v in values]
        if None in ids:
            raise ValidationError(_("Choose officials from the list."), code="invalid")
        return ids


class FixedChoiceField(forms.ChoiceField):
    """A choice field whose choices are the same for every form: each form shares them instead
    of deep-copying them, as Django does in case a form changes its own. Copying the 57 states
    cost a blast's submit more than copying all the other fields (bench/README.md)."""

    def __deepcopy__(self, memo):
        # Field.__deepcopy__, less the widget's copy of its choices (normalized again on copy).
        memo[id(self)] = result = _field_copy(self)
        return result


def _field_copy(field: forms.Field) -> forms.Field:
    """What Field.__deepcopy__ and Widget.__deepcopy__ copy (the field, its widget and the
    widget's attrs, the error messages and validators), without `copy.deepcopy`'s machinery."""
    copied = object.__new__(type(field))
    copied.__dict__ = field.__dict__.copy()
    widget = object.__new__(type(field.widget))
    widget.__dict__ = field.widget.__dict__.copy()
    widget.attrs = field.widget.attrs.copy()
    copied.widget = widget
    copied.error_messages = field.error_messages.copy()
    copied.validators = field.validators[:]
    return copied


def _copies_plainly(field: forms.Field) -> bool:
    """Whether Django's deep copy of this field is `_field_copy`'s: neither the field nor its
    widget copies anything more of its own (a ChoiceField its choices, a MultiWidget its
    widgets), a FixedChoiceField and a Select aside, whose choices are shared."""
    widget_copy = type(field.widget).__deepcopy__
    return type(field).__deepcopy__ in {
        forms.Field.__deepcopy__,
        FixedChoiceField.__deepcopy__,
    } and (
        widget_copy is forms.Widget.__deepcopy__
        or (widget_copy is forms.Select.__deepcopy__ and isinstance(field, FixedChoiceField))
    )


class DeclaredFields(dict):
    """A form class's `base_fields`, copied for each form (BaseForm.__init__ deep-copies them)
    five times faster than `copy.deepcopy` does: a blast's submit builds a form with twenty
    fields. Fields that copy more than `_field_copy` does are deep-copied as Django would."""

    def __init__(self, fields):
        super().__init__(fields)
        self.plain = frozenset(name for name, field in self.items() if _copies_plainly(field))

    def __deepcopy__(self, memo):
        return {
            name: _field_copy(field) if name in self.plain else copy.deepcopy(field, memo)
            for name, field in self.items()
        }


def as_declared_on_action(name: str) -> dict:
    """Action.<name>'s length limit and validators, for the form field that fills it."""
    field = Action._meta.get_field(name)
    validators = [
        v
        for v in field.validators
        if v not in field.default_validators and not isinstance(v, MaxLengthValidator)
    ]
    return {"max_length": field.max_length, "validators": validators}


def consent_text(campaign: Campaign) -> str:
    return str(
        _(
            "I agree that %(organization)s may use my name, address and email to deliver my "
            "message to the officials I chose and to confirm it with me, as the privacy notice "
            "explains."
        )
        % {"organization": campaign.organization_name}
    )


def keep_informed_text(campaign: Campaign) -> str:
    return str(
        _(
            "Keep me informed by %(organization)s: I agree to get its emails about this and "
            "other campaigns."
        )
        % {"organization": campaign.organization_name}
    )


class ActionForm(forms.Form):
    prefix = FixedChoiceField(
        label=_("Title (optional)"),
        required=False,
        choices=[("", "—"), *PREFIXES],
        help_text=_("Some offices address their reply with it."),
    )
    first_name = forms.CharField(label=_("First name"), **as_declared_on_action("first_name"))
    last_name = forms.CharField(label=_("Last name"), **as_declared_on_action("last_name"))
    email = forms.EmailField(label=_("Email"), **as_declared_on_action("email"))
    # Congress's CWC grammar takes an address line and a city of 3 characters or more.
    street = forms.CharField(
        label=_("Street address"), min_length=3, **as_declared_on_action("street")
    )
    city = forms.CharField(label=_("City"), min_length=3, **as_declared_on_action("city"))
    state = FixedChoiceField(
        label=_("State"), choices=[("", "—"), *Action._meta.get_field("state").choices]
    )
    zip_code = forms.CharField(label=_("ZIP code"), **as_declared_on_action("zip_code"))

    officials = IdListField(label=_("Your officials"), required=False)
    representative = forms.IntegerField(
        label=_("Your representative"), required=False, widget=forms.HiddenInput
    )

    subject = forms.CharField(
        label=_("Subject"),
        min_length=6,
        max_length=SUBJECT_MAX_LENGTH,
        validators=[validate_single_line, validate_no_asks_in_subject],
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
    # Its own box, unticked unless the constituent ticks it: not needed to send the message.
    keep_informed = forms.BooleanField(label=_("Keep me informed"), required=False)
    # Asked on the message page only when an office chosen needs it (services.questions_of).
    senate_prefix = FixedChoiceField(
        label=_("Your title, for the Senate"),
        required=False,
        choices=[("", "—"), *((p, p) for p in SENATE_PREFIXES)],
        help_text=_("The Senate's system takes only these titles."),
    )
    phone = forms.CharField(
        label=_("Phone number"),
        required=False,
        max_length=Action._meta.get_field("phone").max_length,
        validators=[validate_single_line, validate_phone],
        help_text=_("An office you chose asks for one on its form."),
    )

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
        upto: Step = Step.ADDRESS,
        recipients: Recipients | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.upto = Step(upto)
        self.recipients = recipients
        self.ways = None  # how each chosen official is reached, once the message page is valid
        for name, token in self.AUTOCOMPLETE.items():
            self.fields[name].widget.attrs["autocomplete"] = token
        self.fields["zip_code"].widget.attrs["inputmode"] = "numeric"
        self.fields["subject"].widget.attrs["maxlength"] = SUBJECT_MAX_LENGTH
        self.fields["message"].widget.attrs["maxlength"] = MESSAGE_MAX_LENGTH
        homepage = self.fields["homepage"].widget.attrs
        homepage.update({"autocomplete": "off", "tabindex": "-1"})
        if self.upto is not Step.MESSAGE:
            self.fields["subject"].required = False
        self.fields["consent"].label = consent_text(campaign)
        self.fields["keep_informed"].label = keep_informed_text(campaign)

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs.update(
                    {"aria-invalid": "true", "aria-describedby": f"id_{name}_error"}
                )

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
                    # The same for every visitor: kept for a moment under a blast (recent.py).
                    fixed=recent(
                        f"fixed-targets:{self.campaign.pk}",
                        lambda: fixed_targets(self.campaign),
                    ),
                )
            except AddressError as exc:
                self.add_error("zip_code", str(exc))
        if self.recipients is not None and Step.OFFICIALS in steps_through(self.upto):
            self._clean_choice(cleaned)
        if self.upto is Step.MESSAGE and "chosen_officials" in cleaned:
            self._clean_questions(cleaned)
            self._clean_subject_as_sent(cleaned)
        if self.upto is Step.MESSAGE and not cleaned.get("consent"):
            self.add_error("consent", _("Please agree, so that we may send your message."))
        return cleaned

    def _clean_questions(self, cleaned):
        # Kept for the submit, which would otherwise ask the same again.
        chosen = cleaned["chosen_officials"]
        # How each office is reached is the same for every visitor who chose it (recent.py).
        key = ",".join(str(o.pk) for o in chosen)
        self.ways = recent(
            f"reaches:{self.campaign.pk}:{campaign_topic(self.campaign)}:{key}",
            lambda: officials_reach(officials=chosen, campaign=self.campaign),
        )
        asks = questions_of(self.ways.values())
        prefix = cleaned.get("senate_prefix") or cleaned.get("prefix")
        if "senate_prefix" in asks and prefix not in SENATE_PREFIXES:
            self.add_error(
                "senate_prefix",
                _("The Senate's system needs one of these titles: %(titles)s.")
                % {"titles": ", ".join(SENATE_PREFIXES)},
            )
        if "phone" in asks and not cleaned.get("phone"):
            self.add_error("phone", _("An office you chose asks for a phone number."))

    def _clean_subject_as_sent(self, cleaned):
        """The subject each official gets, with the names filled in, fits its column."""
        subject = cleaned.get("subject")
        if not subject or "subject" in self.errors:
            return
        sender = {name: cleaned.get(name) or "" for name in Action.CONTACT_FIELDS}
        for official in cleaned["chosen_officials"]:
            length = len(subject_for(subject, sender=sender, official=official))
            if length > SUBJECT_MAX_LENGTH:
                self.add_error(
                    "subject",
                    _(
                        "With the names filled in, this subject is %(length)s characters long "
                        "for %(official)s. Keep it to %(max)s: shorten it or remove a "
                        "placeholder."
                    )
                    % {"length": length, "official": official.title, "max": SUBJECT_MAX_LENGTH},
                )
                return

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

    def keep_informed_agreed(self) -> str:
        """The keep-me-informed line as shown, if the constituent ticked it; else ""."""
        if not self.cleaned_data.get("keep_informed"):
            return ""
        return self.fields["keep_informed"].label

    def constituent(self) -> dict:
        given = {name: self.cleaned_data[name] for name in ("prefix", *Action.CONTACT_FIELDS)}
        given["prefix"] = self.cleaned_data.get("senate_prefix") or given["prefix"]
        given["phone"] = self.cleaned_data.get("phone", "")
        return given


ActionForm.base_fields = DeclaredFields(ActionForm.base_fields)
