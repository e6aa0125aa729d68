"""Arenda settings. Everything that differs between machines comes from the environment
(README.md, "Configuration", lists them)."""

import ipaddress
import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from arenda.core import sentry
from arenda.core.logcontext import logging_config
from arenda.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent

DEBUG = env_bool("DEBUG", False)
TESTING = env_bool("ARENDA_TESTING", False)

DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _installation_secret(path: Path) -> str:
    """A random key made once per installation and kept in DATA_DIR (mode 0600), so a
    fresh install works without configuration and never runs on a known key."""
    if not path.exists():
        import secrets

        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    SECRET_KEY = "arenda-insecure-test-key" if TESTING else _installation_secret(DATA_DIR / "secret_key")

# Key for secrets stored in the database (1C passwords). Kept outside the database so
# that a dump alone does not reveal them; derived from SECRET_KEY when not given — then a
# backup of DATA_DIR holds both, and a system check says so (``arenda/core/checks.py``).
ENCRYPTION_KEY_SET = bool(env_str("ENCRYPTION_KEY"))
ENCRYPTION_KEY = env_str("ENCRYPTION_KEY") or SECRET_KEY
# Previous keys, read (never written) until ``manage.py rotate_encryption_key`` has
# re-encrypted every secret with ENCRYPTION_KEY (docs/operations.md, «Rotating secrets»).
ENCRYPTION_KEY_OLD = env_list("ENCRYPTION_KEY_OLD", [])
# Previous SECRET_KEYs whose signatures (sessions, password-reset links) still verify.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG or TESTING else []
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The site's address as people outside reach it (https://arenda.example.ru): links that go
# out in messages — the driver's trip page, documents by e-mail — start with it
# (``arenda/core/links.py``). Unset: https:// and the first of ALLOWED_HOSTS.
PUBLIC_URL = env_str("PUBLIC_URL", "http://127.0.0.1:8000" if DEBUG or TESTING else "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "simple_history",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "arenda.core",
    "arenda.directory",
    "arenda.crm",
    "arenda.bookings",
    "arenda.billing",
    "arenda.integrations.onec",
    "arenda.api",
    "arenda.integrations.messaging",
    "arenda.reports",
    "arenda.front",
    "arenda.ops",
    "arenda.demo",
]

MIDDLEWARE = [
    # Request rate and latency by view for /metrics (django-prometheus; docs/metrics.md);
    # its pair is the last middleware. The request's id for the logs (core/logcontext.py).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "arenda.core.logcontext.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "arenda.core.audit.AuditAddressMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "arenda.urls"
WSGI_APPLICATION = "arenda.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "arenda.front.context_processors.shell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    try:
        DATABASES = {
            "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
        }
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}")
    if DATABASES["default"]["ENGINE"] not in (
        "django.db.backends.postgresql",
        "django.db.backends.sqlite3",
    ):
        raise ImproperlyConfigured("DATABASE_URL must point to PostgreSQL or SQLite")
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "arenda.sqlite3"}}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers go on while one writer writes; IMMEDIATE takes the write lock at
    # the start of every transaction, so check-then-write services are serialised.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": env_int("SQLITE_BUSY_TIMEOUT", 20, minimum=1),
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("TEST", {})

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Brute-force protection: 5 failures for a username from one address lock it for 15 min.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15, minimum=1) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "arenda.core.network.client_address"
# How long the audit trail of access (core/audit.py) keeps its events.
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 730, minimum=30)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "front/lockout.html"
AXES_VERBOSE = False
AXES_ENABLED = env_bool("AXES_ENABLED", True)

# --- Language and time ------------------------------------------------------------------
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("TIME_ZONE", "Europe/Moscow")
try:
    ZoneInfo(TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE={TIME_ZONE!r} is not a known time zone")

# --- Static and stored files --------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Stored files (waybill scans) have no public URL: MEDIA_URL stays unset and only views
# that check the reader's right serve them (arenda/core/files.py; docs/security.md, «Files»).
MEDIA_ROOT = DATA_DIR / "files"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

# --- Security ------------------------------------------------------------------------------
# Every header the app sends is listed in docs/security.md.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Links customers open (the КП link) carry a token in the path: never send it elsewhere.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if env_bool("BEHIND_HTTPS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if SESSION_COOKIE_SECURE:
    # Served over HTTPS: browsers are told to keep to it, plain HTTP is redirected.
    SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", False)
    SECURE_SSL_REDIRECT = env_bool("SSL_REDIRECT", True)
# Adding a domain to the browsers' preload list is its owner's decision (HSTS_PRELOAD=1),
# so ``check --deploy`` does not ask for it.
SILENCED_SYSTEM_CHECKS = [] if env_bool("HSTS_PRELOAD", False) else ["security.W021"]

# Content-Security-Policy (django-csp): scripts and styles only from our static files, no
# inline ones, no eval; htmx is configured to match (front/templates/base.html). With
# CSP_REPORT_ONLY=1 the policy reports without blocking (to try a change on a live site);
# violations are logged by /csp-report/ either way.
_CSP = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # One inline style attribute is allowed by its hash: «border-top: 0» in
        # django-simple-history's admin history page (simple_history/object_history_list.html).
        "style-src-attr": ["'unsafe-hashes'", "'sha256-XMXSevYjgSjXgRafBFDvtjwX+yyWLrxfso9DcNZ9UXM='"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "report-uri": ["/csp-report/"],
    }
}
if env_bool("CSP_REPORT_ONLY", False):
    CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_REPORT_ONLY = None, _CSP
else:
    CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP, None

# Permissions-Policy (django-permissions-policy): no page of the app uses these.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}

# The debug page and error reports mask credentials in URLs and *_TOKEN/_PASSWORD/_KEY.
DEFAULT_EXCEPTION_REPORTER_FILTER = "arenda.core.errors.MaskingExceptionReporterFilter"


def _trusted_proxies(raw: str):
    """``TRUSTED_PROXIES``: how many reverse proxies stand in front of the app ("1"), or their
    addresses and networks ("10.0.0.5,10.1.0.0/16"); unset, X-Forwarded-For is ignored
    (``arenda/core/network.py``)."""
    raw = raw.strip()
    if not raw:
        return None
    if raw.isdigit():
        return int(raw)
    entries = tuple(entry.strip() for entry in raw.split(",") if entry.strip())
    try:
        for entry in entries:
            ipaddress.ip_network(entry, strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {exc}")
    return entries


TRUSTED_PROXIES = _trusted_proxies(env_str("TRUSTED_PROXIES"))

# --- API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["arenda.core.permissions.RolePermission"],
    # JSON only: the interactive docs are /api/docs/ (DRF's browsable pages carry inline
    # styles the Content-Security-Policy refuses, and forms a second way into the data).
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "arenda.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        # Django-filter's and DRF's, refusing pay to whoever may not see it (docs/permissions.md)
        "arenda.api.filters.FilterBackend",
        "arenda.api.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "arenda.api.errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Arenda API",
    "DESCRIPTION": "REST API of Arenda, the special-machinery rental system.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "arenda.api.schema.integer_ids",
    ],
    # Choice sets used by several fields get one name in the schema.
    "ENUM_NAME_OVERRIDES": {
        "LeadSourceEnum": "arenda.crm.models.Lead.Source",
        "LeadStatusEnum": "arenda.crm.models.Lead.Status",
        "DocumentKindEnum": "arenda.directory.models.DocumentKind",
    },
}

# --- Cache ---------------------------------------------------------------------------------
# The intake rate limit counts here. Memory is per process: with several processes
# (gunicorn workers, machines) set CACHE_URL=redis://host:6379/0 so they share the counts.
CACHE_URL = env_str("CACHE_URL") or env_str("REDIS_URL")
if CACHE_URL:
    if not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured("CACHE_URL must be a redis://, rediss:// or unix:// URL")
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "arenda"}}

# --- Background tasks ------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend"
        if env_bool("TASKS_IMMEDIATE", False)
        else "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

# How often the task worker proves it runs (a periodic job below; docs/health.md).
HEALTH_WORKER_BEAT_SECONDS = env_int("HEALTH_WORKER_BEAT_SECONDS", 60, minimum=1)

# Periodic jobs (``manage.py run_scheduler`` enqueues each once per period, however many
# schedulers run): name → (seconds, the task's dotted path). The names are the scheduler's
# records (core.PeriodicJob); keep them when a task moves.
PERIODIC_JOBS = {
    "messaging.deliver_due": (60, "arenda.integrations.messaging.outbox.deliver_due_task"),
    # SMS delivery states, asked of the gateway (docs/channels.md)
    "messaging.poll_statuses": (300, "arenda.integrations.messaging.outbox.poll_statuses_task"),
    # the webhooks' memory of handled events, a month long
    "messaging.purge_inbound": (86400, "arenda.integrations.messaging.inbound.purge_old_events_task"),
    "crm.read_lead_mail": (60, "arenda.crm.tasks.read_lead_mail_task"),
    "billing.push_due_invoices": (60, "arenda.billing.onec.push_due_invoices"),
    "billing.pull_1c_payments": (300, "arenda.flows.tasks.pull_1c_payments"),
    "bookings.close_settled_bookings": (600, "arenda.flows.tasks.close_settled_bookings"),
    # trips' telematics evidence: retries when due, and the previous day read again (docs/telematics.md)
    "telematics.fetch_due": (60, "arenda.bookings.telematics.fetch_due_task"),
    "telematics.fetch_yesterday": (86400, "arenda.bookings.telematics.fetch_yesterday_task"),
    "billing.make_due_acts": (86400, "arenda.billing.acts.make_due_acts_task"),
    # the reports' trip ledger checked against the recent waybills, drift rewritten (docs/trip-ledger.md)
    "bookings.repair_trip_ledger": (86400, "arenda.bookings.ledger.repair_recent_task"),
    # the previous quarter's reconciliation statement, in a quarter's first days (docs/reconciliation.md)
    "billing.reconciliation_quarterly": (
        86400,
        "arenda.billing.reconciliation.send_quarterly_statements_task",
    ),
    "core.purge_audit": (86400, "arenda.core.audit.purge_old_events"),
    "directory.notify_expiring_documents": (3600, "arenda.directory.tasks.notify_expiring_documents_task"),
    # The worker's heartbeat: the scheduler enqueues it, a worker runs it (core/health.py).
    "core.worker_heartbeat": (HEALTH_WORKER_BEAT_SECONDS, "arenda.core.health.worker_heartbeat"),
}

# --- Health (docs/health.md) -------------------------------------------------------------------
# /health/ answers 503 when a process's last heartbeat is older than this many seconds. The
# scheduler beats every few seconds; the worker once per HEALTH_WORKER_BEAT_SECONDS.
HEALTH_WORKER_MAX_AGE = env_int("HEALTH_WORKER_MAX_AGE", 180, minimum=1)
HEALTH_SCHEDULER_MAX_AGE = env_int("HEALTH_SCHEDULER_MAX_AGE", 180, minimum=1)
if HEALTH_WORKER_MAX_AGE <= HEALTH_WORKER_BEAT_SECONDS:
    raise ImproperlyConfigured("HEALTH_WORKER_MAX_AGE must be longer than HEALTH_WORKER_BEAT_SECONDS")

# --- Backups (docs/backup.md) -------------------------------------------------------------------
BACKUP_DIR = Path(env_str("BACKUP_DIR", str(DATA_DIR / "backups"))).resolve()
BACKUP_KEEP = env_int("BACKUP_KEEP", 14, minimum=1)
# A Fernet key (``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``);
# set, every archive is encrypted with it. Keep it away from the archives.
BACKUP_ENCRYPTION_KEY = env_str("BACKUP_ENCRYPTION_KEY")
# On, the scheduler enqueues a backup once a day (at 00:00 UTC, its period's start).
if env_bool("BACKUP_SCHEDULE", False):
    PERIODIC_JOBS["ops.backup"] = (86400, "arenda.ops.tasks.backup_task")

# --- Company-wide defaults ----------------------------------------------------------------------
INTAKE_TOKEN = env_str("INTAKE_TOKEN")
# Requests per minute one address may make to one intake source (429 beyond).
INTAKE_RATE_LIMIT = env_int("INTAKE_RATE_LIMIT", 30, minimum=1)
# The mailbox leads are read from (python manage.py read_lead_mail); off without a host.
LEAD_IMAP_HOST = env_str("LEAD_IMAP_HOST")
LEAD_IMAP_PORT = env_int("LEAD_IMAP_PORT", 993, minimum=1)
LEAD_IMAP_SSL = env_bool("LEAD_IMAP_SSL", True)
LEAD_IMAP_USER = env_str("LEAD_IMAP_USER")
LEAD_IMAP_PASSWORD = env_str("LEAD_IMAP_PASSWORD")
LEAD_IMAP_FOLDER = env_str("LEAD_IMAP_FOLDER", "INBOX")
TELEGRAM_BOT_TOKEN = env_str("TELEGRAM_BOT_TOKEN")
ONEC_TIMEOUT = env_int("ONEC_TIMEOUT", 15, minimum=1)
# Hosts the app may call with credentials (1C bases): names, "*.domain", addresses or
# networks; unset, any host but link-local and metadata ones (arenda/integrations/outbound.py).
OUTBOUND_ALLOWED_HOSTS = env_list("OUTBOUND_ALLOWED_HOSTS", [])
try:
    [ipaddress.ip_network(entry, strict=False) for entry in OUTBOUND_ALLOWED_HOSTS if "/" in entry]
except ValueError as exc:
    raise ImproperlyConfigured(f"OUTBOUND_ALLOWED_HOSTS: {exc}")
TELEGRAM_API_URL = env_str("TELEGRAM_API_URL", "https://api.telegram.org")
# Telegram sends it back in X-Telegram-Bot-Api-Secret-Token; the webhook refuses calls
# without it (set it on Telegram's side with ``manage.py telegram_webhook <url>``).
TELEGRAM_WEBHOOK_SECRET = env_str("TELEGRAM_WEBHOOK_SECRET")
TELEGRAM_BOT_USERNAME = env_str("TELEGRAM_BOT_USERNAME")
TELEGRAM_TIMEOUT = env_int("TELEGRAM_TIMEOUT", 10, minimum=1)
# SMS (the sign-off codes, docs/shift-report.md): "smsru", "smsc" or "" (off).
SMS_GATEWAY = env_str("SMS_GATEWAY")
SMS_API_ID = env_str("SMS_API_ID")  # SMS.ru
SMS_LOGIN = env_str("SMS_LOGIN")  # SMSC
SMS_PASSWORD = env_str("SMS_PASSWORD")  # SMSC
SMS_SENDER = env_str("SMS_SENDER")
SMS_SMSRU_URL = env_str("SMS_SMSRU_URL", "https://sms.ru")
SMS_SMSC_URL = env_str("SMS_SMSC_URL", "https://smsc.ru/sys")
SMS_TIMEOUT = env_int("SMS_TIMEOUT", 10, minimum=1)
# At most this many SMS a day (local time), orders and codes together; 0: no cap.
SMS_DAILY_CAP = env_int("SMS_DAILY_CAP", 300, minimum=0)
# The other channels (docs/channels.md). Each is set here or on the channels page
# (/settings/channels/), whose values win; secrets saved there are encrypted.
MAX_API_URL = env_str("MAX_API_URL", "https://platform-api2.max.ru")
MAX_BOT_TOKEN = env_str("MAX_BOT_TOKEN")
MAX_BOT_USERNAME = env_str("MAX_BOT_USERNAME")
# MAX sends it back in X-Max-Bot-Api-Secret; the webhook refuses calls without it.
MAX_WEBHOOK_SECRET = env_str("MAX_WEBHOOK_SECRET")
VK_API_URL = env_str("VK_API_URL", "https://api.vk.ru")
VK_TOKEN = env_str("VK_TOKEN")  # a community token with the "messages" right
VK_GROUP_ID = env_str("VK_GROUP_ID")
# VK puts it in the "secret" field of every Callback API call; calls without it are refused.
VK_SECRET_KEY = env_str("VK_SECRET_KEY")
VK_CONFIRMATION_CODE = env_str("VK_CONFIRMATION_CODE")
AVITO_API_URL = env_str("AVITO_API_URL", "https://api.avito.ru")
AVITO_CLIENT_ID = env_str("AVITO_CLIENT_ID")
AVITO_CLIENT_SECRET = env_str("AVITO_CLIENT_SECRET")
AVITO_ACCOUNT_ID = env_str("AVITO_ACCOUNT_ID")  # the company's Avito profile number
# Avito's webhook carries no signature: this key in its URL is the proof of origin.
AVITO_WEBHOOK_KEY = env_str("AVITO_WEBHOOK_KEY")
CHANNEL_TIMEOUT = env_int("CHANNEL_TIMEOUT", 10, minimum=1)
# A driver's invite link binds one chat, once, within this many days (bookings/driver_link.py).
DRIVER_INVITE_DAYS = env_int("DRIVER_INVITE_DAYS", 7, minimum=1)

# --- Telematics (docs/telematics.md) -------------------------------------------------------------
# A unit's tracker is read from one of these platforms; empty: that platform is off.
WIALON_API_URL = env_str("WIALON_API_URL")  # Wialon Hosting: https://hst-api.wialon.com
WIALON_TOKEN = env_str("WIALON_TOKEN")
AEMP_API_URL = env_str("AEMP_API_URL")  # an ISO 15143-3 (AEMP 2.0) fleet API's base address
AEMP_TOKEN = env_str("AEMP_TOKEN")  # a bearer token; or a user name and password (Basic)
AEMP_USERNAME = env_str("AEMP_USERNAME")
AEMP_PASSWORD = env_str("AEMP_PASSWORD")
TELEMATICS_TIMEOUT = env_int("TELEMATICS_TIMEOUT", 20, minimum=1)

# --- E-mail (the second messaging channel) ------------------------------------------------------
# In development mail is printed to the console unless EMAIL_BACKEND says otherwise.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "arenda@localhost")

# --- Operations: metrics, error reports, logs (docs/metrics.md) ---------------------------------
# prometheus_client takes its several-processes mode when PROMETHEUS_MULTIPROC_DIR merely
# exists: an empty one (as the environment file deploy/arenda.env.example leaves it) is off.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip():
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
# /metrics answers a scraper with this bearer token, or from these addresses/networks; with
# neither set it answers nobody (404).
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_ALLOWED_ADDRESSES = env_list("METRICS_ALLOWED_ADDRESSES", [])
try:
    [ipaddress.ip_network(entry, strict=False) for entry in METRICS_ALLOWED_ADDRESSES]
except ValueError as exc:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_ADDRESSES: {exc}")

# Errors (in requests and in background tasks) go to Sentry or GlitchTip when a DSN is
# set, without personal data (arenda/core/sentry.py).
SENTRY_DSN = env_str("SENTRY_DSN")
SENTRY_ENVIRONMENT = env_str("SENTRY_ENVIRONMENT", "production")
try:
    SENTRY_TRACES_SAMPLE_RATE = float(env_str("SENTRY_TRACES_SAMPLE_RATE", "0") or 0)
except ValueError:
    raise ImproperlyConfigured("SENTRY_TRACES_SAMPLE_RATE must be a number between 0 and 1")
if not 0 <= SENTRY_TRACES_SAMPLE_RATE <= 1:
    raise ImproperlyConfigured("SENTRY_TRACES_SAMPLE_RATE must be a number between 0 and 1")
if SENTRY_DSN and not TESTING:
    sentry.init(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT, traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE)

# LOG_FORMAT=json: one JSON object a line, with the request's id, the user's id and the
# task's id (arenda/core/logcontext.py); plain messages otherwise.
LOG_FORMAT = env_str("LOG_FORMAT", "plain").lower()
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be plain or json")
LOGGING = logging_config(log_format=LOG_FORMAT, level=env_str("LOG_LEVEL", "INFO"))
