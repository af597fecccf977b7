"""Settings that protect production: they must hold without anyone remembering them."""

import json
import os
import secrets
import subprocess
import sys

from tests.support.processes import ROOT

PRINT_KEY = "from django.conf import settings; print(settings.SECRET_KEY, settings.DEBUG)"


# Not the test run's own: the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE, which a deployment
# must not (check --deploy says so).
TEST_ONLY = {"SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def _load(module, **env):
    base = {k: v for k, v in os.environ.items() if k not in TEST_ONLY}
    return subprocess.run(
        [sys.executable, "-c", PRINT_KEY],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": module, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _load("config.settings.production", ALLOWED_HOSTS="example.org")
    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = _load("config.settings.production", SECRET_KEY="s3cret")
    assert result.returncode != 0
    assert "Set the ALLOWED_HOSTS environment variable" in result.stderr


def test_production_starts_with_its_secrets_and_debug_off():
    result = _load("config.settings.production", SECRET_KEY="s3cret", ALLOWED_HOSTS="example.org")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["s3cret", "False"]


def test_with_no_environment_the_app_uses_sqlite_and_the_filesystem_broker():
    code = (
        "from django.conf import settings; "
        "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL, "
        "settings.EMAIL_BACKEND)"
    )
    bare = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "EMAIL_URL"}
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**bare, "DJANGO_SETTINGS_MODULE": "config.settings.dev"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "filesystem://",
        "django.core.mail.backends.filebased.EmailBackend",
    ]


def _production(code, **env):
    base = {k: v for k, v in os.environ.items() if k not in TEST_ONLY}
    return subprocess.run(
        [sys.executable, *code],
        cwd=ROOT,
        env={
            **base,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "example.org",
            "DATABASE_URL": "sqlite://:memory:",
            "REDIS_URL": "",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_passes_the_deployment_checklist_at_warning_level():
    """What `make check` runs: Django's own deployment checks, none of them warning."""
    result = _production(["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode == 0, result.stderr


def test_production_cookies_are_host_prefixed_and_hsts_lasts_a_year_with_subdomains():
    code = (
        "import json; from django.conf import settings as s; print(json.dumps(["
        "s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_DOMAIN, s.CSRF_COOKIE_DOMAIN, "
        "s.SESSION_COOKIE_PATH, s.CSRF_COOKIE_PATH, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_HSTS_INCLUDE_SUBDOMAINS]))"
    )
    result = _production(["-c", f"import django; django.setup(); {code}"])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        "__Host-sessionid",
        "__Host-csrftoken",
        True,
        True,
        None,
        None,
        "/",
        "/",
        365 * 24 * 3600,
        True,
    ]


PRINT_DATABASE_OPTIONS = (
    "import json; from django.conf import settings; "
    "print(json.dumps(settings.DATABASES['default']['OPTIONS']))"
)


def _database_options(**env) -> dict:
    code = ["-c", PRINT_DATABASE_OPTIONS]
    result = _production(code, DATABASE_URL="postgres://postgres@127.0.0.1:5432/x", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_postgresql_statements_are_prepared_unless_a_pooler_needs_them_not_to_be():
    assert _database_options() == {"server_side_binding": True, "prepare_threshold": 5}
    for off in ("off", "none", ""):
        options = _database_options(DATABASE_PREPARE_THRESHOLD=off)
        assert options["prepare_threshold"] is None, off
    assert _database_options(DATABASE_PREPARE_THRESHOLD="1")["prepare_threshold"] == 1
