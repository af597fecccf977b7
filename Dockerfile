# One image for every process: gunicorn (the default CMD), `celery -A config worker` and
# `celery -A config beat` (see docker-compose.yml).
FROM python:3.11-slim

# PYTHONPATH=/app: `pip install .` also puts config/alerts/legislators into site-packages, but
# config/settings/base.py derives BASE_DIR (templates/, static/, var/) from its own file path.
# /app must win the import for every process (gunicorn, celery, manage.py, python -c), or
# BASE_DIR becomes site-packages and templates/ and static/ are not found.
# The image defaults to production settings, so `docker run IMAGE python manage.py ...` never
# falls back to manage.py's default (dev: DEBUG=True).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=config.settings.production

RUN groupadd --system app \
    && useradd --system --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

WORKDIR /app

# Debian's Chromium for the browser worker (offices' web forms); Playwright drives it and
# downloads no browser of its own.
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium \
    && rm -rf /var/lib/apt/lists/*

# The project and its pinned dependencies (psycopg[binary] bundles libpq).
COPY pyproject.toml README.md ./
COPY config/ config/
COPY alerts/ alerts/
COPY legislators/ legislators/
RUN pip install --no-cache-dir . \
    && rm -rf build ./*.egg-info

COPY templates/ templates/
COPY static/ static/
COPY manage.py ./

# Static files are collected at build time into STATIC_ROOT (var/static) and stay root-owned.
# The key and hosts below exist only for this RUN line; they are not in the image's environment.
# var/ itself belongs to the app user: the SQLite/mail/broker fallbacks and the beat schedule.
RUN SECRET_KEY=collectstatic-build-only-not-a-secret ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput \
    && chown app:app var

USER app

EXPOSE 8000

# Stdlib only. Any answer below 500 counts as up (a 4xx still means gunicorn and Django answer).
# The Host is the first ALLOWED_HOSTS entry so the check does not log DisallowedHost, and
# X-Forwarded-Proto keeps SECURE_SSL_REDIRECT from answering with a redirect.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, http.client as h; host = os.environ.get('ALLOWED_HOSTS', 'localhost').split(',')[0].strip().lstrip('.*') or 'localhost'; c = h.HTTPConnection('127.0.0.1', 8000, timeout=5); c.request('GET', '/', headers={'Host': host, 'X-Forwarded-Proto': 'https'}); raise SystemExit(c.getresponse().status >= 500)"]

# --timeout 120: a staff CSV export of every action streams ~25,000 rows a second, and a sync
# worker is killed mid-download past its timeout (30 s by default: ~500,000 actions).
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120", "--access-logfile", "-"]
