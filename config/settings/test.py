"""Tests run against the real services on loopback: PostgreSQL and Redis at their default ports."""

import os
import uuid

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/action_alerts")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
# A queue of this test run's own on the shared Redis; worker processes inherit the name.
os.environ.setdefault("CELERY_QUEUE", f"action-alerts-test-{uuid.uuid4().hex[:12]}")
os.environ.setdefault("WEB_FORM_QUEUE", f"{os.environ['CELERY_QUEUE']}-web-forms")

from .base import *  # noqa: F403
from .base import env

SECRET_KEY = env.str("SECRET_KEY", default="test-only-key")
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests read what they just wrote: nothing is reused between requests but where a test asks.
PUBLIC_CACHE_SECONDS = env.float("PUBLIC_CACHE_SECONDS", default=0.0)
