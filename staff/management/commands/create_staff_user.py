"""manage.py create_staff_user EMAIL: a superuser who signs in with a password and a TOTP code.

Run again for an existing account to give it a new authenticator (a lost phone): the old one
stops working. The password is asked for in the terminal (never as an argument, which would
stay in the shell's history); `--keep-password` leaves an existing account's password alone.
"""

import base64
import getpass
import io
import logging

import segno
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

logger = logging.getLogger("staff")


class Command(BaseCommand):
    help = "Create (or re-key) a staff superuser with a TOTP authenticator; prints its key."

    def add_arguments(self, parser):
        parser.add_argument("email", help="the staff member's email address, also their username")
        parser.add_argument(
            "--keep-password",
            action="store_true",
            help="an existing account keeps its password; only the authenticator is replaced",
        )
        parser.add_argument("--no-qr", action="store_true", help="print no QR code")

    def handle(self, *args, email, keep_password, no_qr, **options):
        email = email.strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"Not an email address: {email!r}") from None
        User = get_user_model()
        user = User.objects.filter(username=email).first()
        if keep_password and user is None:
            raise CommandError(f"No account {email} to keep the password of.")
        password = None if keep_password else self._ask_password(User(username=email, email=email))
        with transaction.atomic():
            created = user is None
            if created:
                user = User(username=email, email=email)
            user.is_staff = user.is_superuser = user.is_active = True
            if password is not None:
                user.set_password(password)
            user.save()
            TOTPDevice.objects.filter(user=user).delete()
            device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
        logger.info(
            "staff account %s: %s, new authenticator",
            user.pk,
            "created" if created else "updated",
        )
        self._print_key(email, device, created=created, qr=not no_qr)

    def _ask_password(self, user) -> str:
        password = getpass.getpass(f"Password for {user.username}: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords differ; nothing was changed.")
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages) + " Nothing was changed.") from None
        return password

    def _print_key(self, email: str, device: TOTPDevice, *, created: bool, qr: bool) -> None:
        secret = base64.b32encode(device.bin_key).decode()
        self.stdout.write(
            f"Staff user {email} {'created' if created else 'updated'}. Add this key to an "
            "authenticator app (scan the QR code, or type the secret):"
        )
        if qr:
            drawing = io.StringIO()
            segno.make(device.config_url, error="m").terminal(out=drawing, compact=True)
            self.stdout.write(drawing.getvalue(), ending="")
        self.stdout.write(f"  secret: {secret}")
        self.stdout.write(f"  URI:    {device.config_url}")
        self.stdout.write(
            "Then sign in at /admin/ with the email, the password and the app's 6-digit code. "
            "This key is shown once: keep it only in the app."
        )
