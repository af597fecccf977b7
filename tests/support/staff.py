"""Signing staff in to the admin, which asks for a password and a TOTP code (staff/)."""

import base64
import hashlib
import hmac
import struct
import time

from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

STAFF_PASSWORD = "Quiet-lantern-2417"


def totp_device(user) -> TOTPDevice:
    """The user's authenticator, as `create_staff_user` makes it."""
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def totp_code(secret_base32: str, *, at: float | None = None, step: int = 30) -> str:
    """The 6-digit code an authenticator app shows for this base32 secret (RFC 6238, SHA-1),
    computed here rather than by django-otp, so a test of the printed secret proves something."""
    key = base64.b32decode(secret_base32)
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def device_code(device: TOTPDevice, *, at: float | None = None) -> str:
    return totp_code(base64.b32encode(device.bin_key).decode(), at=at, step=device.step)


def staff_login(client: Client, user, device: TOTPDevice | None = None) -> TOTPDevice:
    """Sign `user` in on `client` as if through the login form with a verified device: the
    session holds the user and the device (django_otp.login's key). Tests of the admin's pages
    use this; tests of signing in itself go through the form (`sign_in`)."""
    device = device or TOTPDevice.objects.filter(user=user).first() or totp_device(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def sign_in(client: Client, username: str, password: str, code: str = "", **extra):
    """POST the admin's real login form; `extra` goes into the request (REMOTE_ADDR, ...)."""
    data = {"username": username, "password": password, "otp_token": code, "next": "/admin/"}
    return client.post(reverse("admin:login"), data, **extra)
