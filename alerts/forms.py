from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from legislators import states
from legislators.lookup import AddressError

from .models import Action, Campaign
from .targeting import Recipients, recipients_for
from .validators import validate_multi_line, validate_single_line, validate_zip_code

CONTACT_FIELDS = ("first_name", "last_name", "email", "street", "city", "state", "zip_code")


class IdListField(forms.Field):
    """A list of positive integer ids; which ids are allowed is the form's business."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        try:
            return [int(v) for v in values]
        except (TypeError, ValueError):
            raise ValidationError(_("Choose officials from the list."), code="invalid") from None


class ContactForm(forms.Form):
    """Step 1: who the constituent is and where they live, which decides their officials."""

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

    AUTOCOMPLETE = {
        "first_name": "given-name",
        "last_name": "family-name",
        "email": "email",
        "street": "street-address",
        "city": "address-level2",
        "state": "address-level1",
        "zip_code": "postal-code",
    }

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.recipients: Recipients | None = None
        for name, token in self.AUTOCOMPLETE.items():
            self.fields[name].widget.attrs["autocomplete"] = token
        self.fields["zip_code"].widget.attrs["inputmode"] = "numeric"

    def clean(self):
        cleaned = super().clean()
        if not any(name in self.errors for name in ("zip_code", "state")):
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
        return cleaned

    def has_contact_errors(self) -> bool:
        return any(name in self.errors for name in CONTACT_FIELDS)

    def constituent(self) -> dict:
        return {name: self.cleaned_data[name] for name in CONTACT_FIELDS}


class ActionForm(ContactForm):
    """Step 2: the officials to write and the message. Posted with step 1's fields, which are
    validated again and decide (on the server) which officials may be chosen."""

    officials = IdListField(required=False)
    representative = forms.IntegerField(required=False, widget=forms.HiddenInput)
    subject = forms.CharField(
        label=_("Subject"),
        max_length=Action._meta.get_field("subject").max_length,
        validators=[validate_single_line],
    )
    message = forms.CharField(
        label=_("Your message"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 10}),
        validators=[validate_multi_line],
    )

    def __init__(self, *args, recipients: Recipients | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.recipients = recipients
        for name in CONTACT_FIELDS:
            self.fields[name].widget = forms.HiddenInput()
        if not self.is_bound and recipients is not None:
            self.initial.setdefault("officials", [o.pk for o in recipients.checkable])
            self.initial.setdefault("subject", self.campaign.message_subject)
            self.initial.setdefault("message", self.campaign.message_body)

    def clean(self):
        cleaned = super().clean()
        if self.recipients is None:
            return cleaned
        checkable = {o.pk: o for o in self.recipients.checkable}
        candidates = {o.pk: o for o in self.recipients.representative_choices}
        chosen_ids = cleaned.get("officials") or []
        representative_id = cleaned.get("representative")

        # No open relay: only officials recomputed from this address can be written.
        if any(pk not in checkable for pk in chosen_ids):
            self.add_error("officials", _("That official is not one of yours for this campaign."))
            return cleaned
        if representative_id is not None and representative_id not in candidates:
            self.add_error("representative", _("Choose your representative from the ones listed."))
            return cleaned
        chosen = [checkable[pk] for pk in dict.fromkeys(chosen_ids)]
        if representative_id is not None:
            chosen.append(candidates[representative_id])
        if not chosen:
            self.add_error("officials", _("Choose at least one official to write to."))
        cleaned["chosen_officials"] = chosen
        return cleaned

    def selected_ids(self) -> set[int]:
        """What the checkboxes show as ticked: the posted choice, or everyone at first."""
        if self.is_bound:
            return {int(v) for v in self.data.getlist("officials") if str(v).isdigit()}
        return set(self.initial.get("officials", []))

    def selected_representative(self) -> int | None:
        value = self.data.get("representative") if self.is_bound else None
        return int(value) if value and str(value).isdigit() else None
