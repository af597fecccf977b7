from django import forms
from django.utils.translation import gettext_lazy as _

from legislators import states

from .models import Action, Campaign
from .validators import validate_multi_line, validate_single_line, validate_zip_code


class OfficialChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.title} {obj.name}"


class ActionForm(forms.Form):
    """What a constituent fills in. The officials offered are the campaign's: nothing else
    posted can become a delivery."""

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
    officials = OfficialChoiceField(
        label=_("Who should hear from you?"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one official to write to."),
            "invalid_choice": _("That official is not part of this campaign."),
        },
    )
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

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        targets = campaign.targets.filter(is_active=True)
        self.fields["officials"].queryset = targets
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["zip_code"].widget.attrs.update(
            {"autocomplete": "postal-code", "inputmode": "numeric"}
        )
        self.fields["first_name"].widget.attrs["autocomplete"] = "given-name"
        self.fields["last_name"].widget.attrs["autocomplete"] = "family-name"
        self.fields["street"].widget.attrs["autocomplete"] = "street-address"
        self.fields["city"].widget.attrs["autocomplete"] = "address-level2"
        self.fields["state"].widget.attrs["autocomplete"] = "address-level1"
        if not self.is_bound:
            self.initial.setdefault("officials", list(targets))
            self.initial.setdefault("subject", campaign.message_subject)
            self.initial.setdefault("message", campaign.message_body)

    def constituent(self) -> dict:
        return {
            key: self.cleaned_data[key]
            for key in ("first_name", "last_name", "email", "street", "city", "state", "zip_code")
        }
