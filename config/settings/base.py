"""Settings shared by every mode. Each value is read once, typed, from the environment.

`dev` (the default for manage.py and Celery), `production` (gunicorn, docker-compose) and `test`
build on this module; nothing here is unsafe to run in production.
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # The admin site with a second factor (staff/admin_site.py), in place of django.contrib.admin.
    "staff.apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    "legislators",
    "alerts",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "staff",
    # Who changed a campaign, its asks and letters, and when (the History page in the admin).
    "simple_history",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before OTPMiddleware, so that a session it ends is seen by OTP as no user at all.
    "staff.middleware.StaffSessionTimeoutMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Hands the signed-in user to django-simple-history, so a history row says who saved it.
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "alerts.web.framing.ContentSecurityPolicyMiddleware",
    # Last: it turns a lockout found during sign-in into the lockout page, which the middleware
    # above then give their headers.
    "axes.middleware.AxesMiddleware",
]
X_FRAME_OPTIONS = "DENY"
# Scripts, styles and everything else only from our own origin (static/): no inline script or
# style, no eval. The embed widens frame-ancestors to its campaign's partners (framing.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# Without DATABASE_URL: SQLite in var/. Web and worker share that file, so WAL lets readers and
# a writer overlap, and IMMEDIATE transactions take the write lock up front instead of failing
# with "database is locked" when a read transaction later tries to write.
SQLITE_PATH = VAR_DIR / "db.sqlite3"
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{SQLITE_PATH}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Statements prepared by PostgreSQL, once per connection (ARCHITECTURE.md, Running modes).
    _threshold = env.str("DATABASE_PREPARE_THRESHOLD", default="5")
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "server_side_binding": True,
        "prepare_threshold": None if _threshold.lower() in {"", "off", "none"} else int(_threshold),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# A Redis that takes connections and never answers (paused, swapping, its host wedged) must
# cost a request a bounded wait, not a hung worker: every client of it has socket timeouts.
# Connecting and each command: half a second each at most (a healthy Redis answers in a ms).
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=0.5)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
                "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Staff sign-in (staff/) -----------------------------------------------------------------
# The admin asks for a password and a TOTP code (django-otp). django-axes counts failures, a
# wrong code included, per account and per client address as alerts.web.abuse.client_ip sees it
# (so X-Forwarded-For counts only as far as TRUSTED_PROXY_COUNT trusts it), and refuses every
# sign-in from either for AXES_COOLOFF_TIME once one has AXES_FAILURE_LIMIT.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("STAFF_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("STAFF_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "staff.access.client_address"
AXES_USERNAME_CALLABLE = "staff.access.attempted_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "staff/locked_out.html"
# The `staff` logger records sign-ins, failures and lockouts (addresses hashed); axes' own
# access log and verbose lines would keep addresses and typed names in the clear.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token"]
OTP_TOTP_ISSUER = env.str("STAFF_OTP_ISSUER", default="Action Alerts")
# A staff session ends after this long without a request, and this long after sign-in at most.
STAFF_SESSION_IDLE_SECONDS = env.int("STAFF_SESSION_IDLE_SECONDS", default=30 * 60)
STAFF_SESSION_MAX_SECONDS = env.int("STAFF_SESSION_MAX_SECONDS", default=12 * 3600)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Email ----------------------------------------------------------------------------------
# Without EMAIL_URL, mail is written as files under var/mail so nothing leaves the machine.
EMAIL_FILE_PATH = VAR_DIR / "mail"
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
# A stuck SMTP server must not hold a worker forever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Action Alerts <alerts@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The right-hand side of every Message-ID we create: a domain the operator controls.
MESSAGE_ID_DOMAIN = env.str("MESSAGE_ID_DOMAIN", default="action-alerts.invalid")

# Absolute links in email (confirmation links) start with this.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# --- Delivery -------------------------------------------------------------------------------
# Sandbox mode sends every delivery, whatever the official's channel, to one catch-all inbox,
# so a campaign can be tried end to end without writing to real offices.
DELIVERY_SANDBOX = env.bool("DELIVERY_SANDBOX", default=True)
DELIVERY_SANDBOX_EMAIL = env.str("DELIVERY_SANDBOX_EMAIL", default="sandbox@localhost")
# Transient failures are retried with exponential backoff and jitter, up to a cap, this often.
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", default=8)
DELIVERY_RETRY_BASE_SECONDS = env.float("DELIVERY_RETRY_BASE_SECONDS", default=30.0)
DELIVERY_RETRY_CAP_SECONDS = env.float("DELIVERY_RETRY_CAP_SECONDS", default=6 * 3600.0)
# Longer waits than this are parked in the database for the sweep, not held by the broker.
DELIVERY_MAX_COUNTDOWN_SECONDS = env.float("DELIVERY_MAX_COUNTDOWN_SECONDS", default=300.0)
# The sweep re-enqueues deliveries queued this long without being taken.
DELIVERY_REQUEUE_AFTER_SECONDS = env.float("DELIVERY_REQUEUE_AFTER_SECONDS", default=300.0)
DELIVERY_SWEEP_SECONDS = env.float("DELIVERY_SWEEP_SECONDS", default=60.0)
# A delivery task carries up to this many delivery ids (an action's, or a backlog's), read in
# one query and sent in turn over the worker's connections: a broker message per delivery
# would cost more than the delivery. After DELIVERY_BATCH_SECONDS a task starts no more sends
# and hands the rest back to the broker, so a slow receiver cannot run it into its time limit.
DELIVERY_BATCH_SIZE = env.int("DELIVERY_BATCH_SIZE", default=100)
DELIVERY_BATCH_SECONDS = env.float("DELIVERY_BATCH_SECONDS", default=30.0)

# The House's Communicating With Congress API: without a key, House offices fall back to
# their contact forms (delivered by the constituent, "manual").
CWC_API_URL = env.str("CWC_API_URL", default="https://cwc.house.gov")
CWC_API_KEY = env.str("CWC_API_KEY", default="")
CWC_DELIVERY_AGENT = env.str("CWC_DELIVERY_AGENT", default="Action Alerts")
CWC_DELIVERY_AGENT_EMAIL = env.str("CWC_DELIVERY_AGENT_EMAIL", default="cwc-operator@example.org")
CWC_DELIVERY_AGENT_CONTACT = env.str("CWC_DELIVERY_AGENT_CONTACT", default="Delivery Operator")
CWC_DELIVERY_AGENT_PHONE = env.str("CWC_DELIVERY_AGENT_PHONE", default="000-000-0000")

# The Senate's CWC program (SCWC): offices on its active-offices list take the same CWC 2.0
# message. The production path is `…/api/production-messages/`; during onboarding, testing.
SENATE_CWC_URL = env.str("SENATE_CWC_URL", default="")
SENATE_CWC_API_KEY = env.str("SENATE_CWC_API_KEY", default="")
# "testing" while onboarding (…/api/testing-messages/), "production" once approved.
SENATE_CWC_STAGE = env.str("SENATE_CWC_STAGE", default="production")
# Where `import_senate_offices` (and beat, daily, when set) reads the active-offices list.
SENATE_CWC_OFFICES_URL = env.str("SENATE_CWC_OFFICES_URL", default="")
# Messages a second to SCWC, across every worker (the Senate takes about 5-10 per agent).
SENATE_CWC_RATE_PER_SECOND = env.float("SENATE_CWC_RATE_PER_SECOND", default=4.0)

# Offices' own web forms, filled by headless Chromium (the contact-congress format).
CONTACT_FORMS_DIR = env.path(
    "CONTACT_FORMS_DIR", default=BASE_DIR.parent / "shared" / "data" / "contact-forms"
)
# http://host:port: every definition's https://HOST/PATH becomes http://host:port/HOST/PATH
# (replicas for tests and rehearsals).
CONTACT_FORMS_ORIGIN = env.str("CONTACT_FORMS_ORIGIN", default="")
# Browser deliveries have a queue and worker of their own, so they never hold up email or CWC.
WEB_FORM_QUEUE = env.str("WEB_FORM_QUEUE", default="web-forms")
WEB_FORM_BROWSER = env.str("WEB_FORM_BROWSER", default="/usr/bin/chromium")
WEB_FORM_STEP_TIMEOUT_SECONDS = env.float("WEB_FORM_STEP_TIMEOUT_SECONDS", default=20.0)
# The longest a definition's own `wait` step may pause (None: as written); replicas set it low.
WEB_FORM_WAIT_CAP_SECONDS = env.float("WEB_FORM_WAIT_CAP_SECONDS", default=None)
# Consecutive failed fills, across deliveries, after which an office's form is marked broken.
WEB_FORM_BROKEN_AFTER = env.int("WEB_FORM_BROKEN_AFTER", default=3)
# Screenshots of each fill's last page; purged with the delivery's other personal data.
WEB_FORM_EVIDENCE_DIR = env.path("WEB_FORM_EVIDENCE_DIR", default=VAR_DIR / "evidence")

# --- Personal data (alerts/privacy.py) -------------------------------------------------------
# Constituents' names, addresses, phone numbers and words are anonymised this many days after
# their action (daily, by beat); counts and delivery outcomes stay. The privacy notice says so.
PERSONAL_DATA_RETENTION_DAYS = env.int("PERSONAL_DATA_RETENTION_DAYS", default=180)
# Where the privacy notice tells constituents to ask for an export or erasure of their data
# (done with manage.py export_constituent / erase_constituent); empty: the address mail is
# sent from (DEFAULT_FROM_EMAIL), which constituents' replies reach.
PRIVACY_CONTACT_EMAIL = env.str("PRIVACY_CONTACT_EMAIL", default="")

# Who is told when an office's web form breaks (Django's mail_managers).
MANAGERS = [("Organizers", address) for address in env.list("MANAGERS_EMAILS", default=[])]

# An executive office's holder is named only while verified this recently.
EXECUTIVE_VERIFY_DAYS = env.int("EXECUTIVE_VERIFY_DAYS", default=90)

# Webhook deliveries: signed with this secret; private and loopback addresses are refused
# unless allowed (tests allow loopback).
WEBHOOK_SECRET = env.str("WEBHOOK_SECRET", default="")
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", default=False)
HTTP_CONNECT_TIMEOUT = env.float("HTTP_CONNECT_TIMEOUT", default=5.0)
HTTP_READ_TIMEOUT = env.float("HTTP_READ_TIMEOUT", default=20.0)

# The Congress whose districts the ZIP lookup uses (118: 2023-2025, 119: 2025-2027).
ACTIVE_CONGRESS = env.int("ACTIVE_CONGRESS", default=119)

# Where the real public data lives (see ../shared/data/README.md); read at run time only.
LEGISLATOR_DATA_DIR = env.path("LEGISLATOR_DATA_DIR", default=BASE_DIR.parent / "shared" / "data")
# Without that folder the pinned files are downloaded from here (legislators/sources.py).
PUBLIC_DATA_BASE_URL = env.str("PUBLIC_DATA_BASE_URL", default="https://raw.githubusercontent.com")

# --- Celery ---------------------------------------------------------------------------------
# Without REDIS_URL the broker is kombu's filesystem transport under var/: a real worker with
# no server to run. It has no redelivery, which the periodic sweep makes up for.
BROKER_DIR = VAR_DIR / "broker"
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=120)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 10
# A sending attempt that outlives its lease is presumed dead (the task's hard limit killed it).
DELIVERY_LEASE_SECONDS = env.int("DELIVERY_LEASE_SECONDS", default=CELERY_TASK_TIME_LIMIT + 30)
# Redis hands an unacknowledged message out again after this; it must outlast any task and any
# countdown, or a slow task would run twice.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
CELERY_BROKER_SOCKET_TIMEOUT = env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=1.0)
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # A publish waits one socket timeout at most: no reconnection attempts (max_retries 0),
    # as what it carried is committed already and the sweep hands it over later; a worker
    # reconnects by its own broker_connection_* settings. With the cache's wait, a submission
    # to a sick Redis stays under 2 seconds (tests/chaos/test_redis_sick.py).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        "socket_connect_timeout": CELERY_BROKER_SOCKET_TIMEOUT,
        "socket_timeout": CELERY_BROKER_SOCKET_TIMEOUT,
        "max_retries": 0,
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    for folder in ("queue", "processed", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="action-alerts")
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# Tasks are idempotent (they claim their delivery before sending), so a message is acknowledged
# only after the task ran, and one whose worker died is handed out again.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup closes the database connection before and after every task unless
# this is set: a new PostgreSQL connection (a process fork) per task. config.celery_app closes
# only broken or expired connections instead.
CELERY_DB_REUSE_MAX = 1_000_000
# Tasks are idempotent, so one cut off by a lost broker connection may simply run again.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# A web request must not hang while the broker is down: fail fast, the sweep re-enqueues.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Periodic work, all of it (run by `celery beat`).
CELERY_BEAT_SCHEDULE = {
    "sweep-deliveries": {"task": "alerts.sweep", "schedule": DELIVERY_SWEEP_SECONDS},
    "send-confirmation-reminders": {"task": "alerts.send_reminders", "schedule": 15 * 60},
    "purge-personal-data": {"task": "alerts.purge_personal_data", "schedule": 24 * 3600},
    # Scheduled campaigns go live, and live ones close, within a minute of their times.
    "advance-campaigns": {"task": "alerts.advance_campaigns", "schedule": 60},
}
if SENATE_CWC_OFFICES_URL:  # the Senate's CWC active-offices list, re-read daily
    CELERY_BEAT_SCHEDULE["refresh-senate-cwc-offices"] = {
        "task": "legislators.refresh_senate_offices",
        "schedule": 24 * 3600,
    }
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Staff sign-ins, failures and lockouts are an audit trail, whatever LOG_LEVEL says.
        "staff": {"level": "INFO"},
        # Who exported constituents' data, likewise (alerts.admin.exports).
        "alerts.exports": {"level": "INFO"},
        "axes": {"level": "ERROR"},
    },
}

# --- Geocoder -------------------------------------------------------------------------------
# Dotted path to a class that maps a street address to its district (for ZIPs that span several);
# empty means none is configured, and constituents in those ZIPs pick their representative.
GEOCODER = env.str("GEOCODER", default="")
GEOCODER_CENSUS_URL = env.str(
    "GEOCODER_CENSUS_URL", default="https://geocoding.geo.census.gov/geocoder"
)
GEOCODER_TIMEOUT = env.float("GEOCODER_TIMEOUT", default=5.0)

# How long a worker process reuses what every visitor of a public page sees alike (the live
# campaign, its counter), in seconds; 0 turns it off. A change shows within that time.
PUBLIC_CACHE_SECONDS = env.float("PUBLIC_CACHE_SECONDS", default=2.0)

# --- Request bodies --------------------------------------------------------------------------
# The public form's largest honest POST is about 65 KB (5,000 characters of words, each up to
# 12 bytes URL-encoded): twice that for any form's fields, multipart ones included, then 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = 128 * 1024
# Django's default; a cosigner paste of all of Congress posts about 540 rows.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
# Nothing on the site takes a file: a multipart POST with one is refused (400) at its first
# file part, so no upload is ever written to a temporary file.
DATA_UPLOAD_MAX_NUMBER_FILES = 0
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

# --- Abuse controls and framing -------------------------------------------------------------
# Our reverse proxies in front of gunicorn; 0 ignores X-Forwarded-For and trusts REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Key for hashing client addresses; empty uses SECRET_KEY (so rotating that changes hashes).
IP_HASH_SALT = env.str("IP_HASH_SALT", default="")
# Submissions one client address (an IPv6 /64) may make per window.
RATE_LIMIT_PER_IP = env.int("RATE_LIMIT_PER_IP", default=30)
# Submissions one email address may make per window.
RATE_LIMIT_PER_EMAIL = env.int("RATE_LIMIT_PER_EMAIL", default=5)
# Length of the fixed rate-limit window, in seconds.
RATE_LIMIT_WINDOW_SECONDS = env.int("RATE_LIMIT_WINDOW_SECONDS", default=3600)
# Confirmation emails (and reminders) one mailbox may receive per UTC day, however its address
# is written (case, +tags, Gmail's dots): more actions are kept, their emails held back.
CONFIRMATIONS_PER_RECIPIENT_PER_DAY = env.int("CONFIRMATIONS_PER_RECIPIENT_PER_DAY", default=3)
