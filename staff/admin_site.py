"""The admin site staff sign in to: a password and a TOTP code, or no admin page at all."""

from django import forms
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite

SECOND_FACTOR_REFUSED = "second factor"


class StaffAuthenticationForm(OTPAdminAuthenticationForm):
    """Username, password and the code from the staff member's authenticator, in one step.

    Whatever is wrong (the password, the code, a missing code) gets the same message, so the
    form never tells a guesser that the password was right. A refused code counts as a failed
    sign-in for django-axes like a wrong password does.
    """

    error_messages = {
        **OTPAdminAuthenticationForm.error_messages,
        "invalid_login": (
            "Please enter the correct %(username)s, password and authenticator code for a "
            "staff account."
        ),
    }
    otp_token = forms.CharField(
        required=False,
        label="Authenticator code",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean(self):
        self.cleaned_data = super(OTPAdminAuthenticationForm, self).clean()
        try:
            self.clean_otp(self.get_user())
        except ValidationError:
            user_login_failed.send(
                sender=__name__,
                credentials={"username": self.cleaned_data.get("username")},
                request=self.request,
                reason=SECOND_FACTOR_REFUSED,
            )
            raise self.get_invalid_login_error() from None
        return self.cleaned_data

    def _chosen_device(self, user):
        """The device chosen, or the staff member's only one: the usual case needs no choice.
        django-otp asks for a choice so that a code is never tried against several devices."""
        device = super()._chosen_device(user)
        if device is None and not self.cleaned_data.get("otp_device"):
            devices = list(devices_for_user(user, for_verify=True))
            if len(devices) == 1:
                device = devices[0]
        return device

    def _update_form(self, user):
        """django-otp lists the user's devices and sends the password back in the page, which
        tells a guesser that the password was right. We list them only for someone with
        several (who must choose one), and never send the password back."""
        choices = self.device_choices(user)
        if len(choices) > 2:  # the blank choice and two devices
            self.fields["otp_device"].widget.choices = choices

    @property
    def lists_devices(self) -> bool:
        return len(self.fields["otp_device"].widget.choices) > 2


class StaffAdminSite(OTPAdminSite):
    """Only staff verified by a second factor in this session are let in (`has_permission`);
    anyone else, a staff member signed in with a password alone included, is sent to the login
    page, which asks for both."""

    login_form = StaffAuthenticationForm
    login_template = "staff/login.html"

    def __init__(self, name: str = "admin"):
        super().__init__(name)
