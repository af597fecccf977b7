"""Production settings with the benchmark's urlconf: `make bench` serves the app with these.

Nothing about production is relaxed here: every secret and host still comes from the
environment (bench/web.py passes them), and the harness talks to gunicorn as a TLS-terminating
proxy would (X-Forwarded-Proto: https), so SECURE_SSL_REDIRECT, the secure cookies and the CSRF
checks run as they do in production. Only two things are added, beside the app: the ceiling
views (bench/urls.py) and a middleware that counts a request's SQL statements when asked to.
"""

from config.settings.production import *  # noqa: F403
from config.settings.production import MIDDLEWARE, TEMPLATES, VAR_DIR

ROOT_URLCONF = "bench.urls"
# Outermost, so that it counts every statement of the request (sessions, CSRF, on_commit).
MIDDLEWARE = ["bench.urls.query_count_middleware", *MIDDLEWARE]
# The page ceiling's template: a copy of the campaign page, written by the harness at start.
BENCH_TEMPLATE_DIR = VAR_DIR / "bench" / "templates"
TEMPLATES = [{**TEMPLATES[0], "DIRS": [*TEMPLATES[0]["DIRS"], BENCH_TEMPLATE_DIR]}]
