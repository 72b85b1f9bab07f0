"""Settings, all read from environment variables (12-factor).

With nothing set, Lapor runs the embedded default: SQLite and a file-system Celery broker
under ``var/``, so a laptop needs no database or Redis server.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

VAR_DIR = Path(env.str("LAPOR_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)
# pytest sets PYTEST_VERSION; tests run with Django's DEBUG off but need no real secret.
TESTING = "PYTEST_VERSION" in os.environ

_DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            "SECRET_KEY is not set; production (DEBUG off) needs a long random SECRET_KEY "
            "in the environment, or set DEBUG=1 for local development."
        )
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG or TESTING else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "lapor.admin_site.LaporAdminConfig",  # django.contrib.admin, filters limited
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "rest_framework_api_key",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Each app's migrations/max_migration.txt names its latest migration: two branches that both
    # add one conflict in git, and `manage.py check` fails on a history that is not linear.
    "django_linear_migrations",
    "lapor",
    "agencies",
    "notifications",
    "complaints",
    "accounts",
    "portal",
    "workspace",
    "awards",
    "api",
]

MIDDLEWARE = [
    "lapor.middleware.HardeningMiddleware",
    "lapor.middleware.InputGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "lapor.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Public reads by anonymous visitors from a read replica, when DATABASE_REPLICA_URLS is set.
    "lapor.middleware.ReplicaReadsMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.IdleSessionMiddleware",
    "accounts.middleware.TwoFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "lapor.urls"
WSGI_APPLICATION = "lapor.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "agencies.context_processors.staff_scope",
            ],
        },
    },
]


# --- Database -------------------------------------------------------------------------------
def _database_from_env() -> dict:
    url = env.str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'lapor.sqlite3'}")
    scheme = urlsplit(url).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql", "psql"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL must start with sqlite:/// or postgres://, not {url[:40]!r}; "
            "for example postgres://postgres@127.0.0.1:5432/lapor."
        )
    try:
        config = env.db_url_config(url)
    except Exception as exc:
        raise ImproperlyConfigured(f"DATABASE_URL {url[:60]!r} cannot be read: {exc}.") from exc
    if scheme == "sqlite":
        # WAL and immediate transactions let the web server and the worker write side by side.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        # A file, not memory, so tests with threads and a live server share one database.
        config["TEST"] = {"NAME": str(VAR_DIR / "test_lapor.sqlite3")}
    else:
        if not config.get("NAME"):
            raise ImproperlyConfigured(
                f"DATABASE_URL {url[:60]!r} names no database; add one after the last slash."
            )
        config["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
        config["CONN_HEALTH_CHECKS"] = True
        config.setdefault("OPTIONS", {})["connect_timeout"] = env.int(
            "DB_CONNECT_TIMEOUT", default=5
        )
        # test_<database>, so that several checkouts on one server do not share a test database.
        config["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default=f"test_{config['NAME']}")}
    return config


DATABASES = {"default": _database_from_env()}


def _replicas_from_env() -> dict:
    """``DATABASE_REPLICA_URLS``: streaming replicas of the primary, for public reads only
    (lapor/dbrouter.py). Aliases replica1, replica2, ...; in tests each mirrors the primary."""
    replicas = {}
    for n, url in enumerate(env.list("DATABASE_REPLICA_URLS", default=[]), start=1):
        if urlsplit(url).scheme not in {"postgres", "postgresql", "pgsql", "psql"}:
            raise ImproperlyConfigured("DATABASE_REPLICA_URLS takes postgres:// URLs only.")
        config = {**DATABASES["default"], **env.db_url_config(url)}
        config["OPTIONS"] = DATABASES["default"].get("OPTIONS", {})
        config["TEST"] = {"MIRROR": "default"}
        replicas[f"replica{n}"] = config
    return replicas


DATABASES.update(_replicas_from_env())
LAPOR_DATABASE_REPLICAS = [alias for alias in DATABASES if alias != "default"]
DATABASE_ROUTERS = ["lapor.dbrouter.ReplicaRouter"]
# Safe requests by anonymous visitors on these paths (regular expressions) read from a replica.
LAPOR_REPLICA_PATHS = [
    r"^/$",
    r"^/complaints/$",
    r"^/complaints/(?!new/)[A-Za-z0-9-]+/$",
    r"^/peta/(data/)?$",
    r"^/data/complaints\.(csv|geojson)$",
    r"^/rankings/(\d{4}/)?$",
    r"^/rankings/\d{4}/regions/[0-9.]+/$",
    r"^/api/v1/(regions|categories|agencies|complaints)/$",
    r"^/api/v1/complaints/[A-Za-z0-9-]+/(timeline/)?$",
    r"^/api/v1/rankings/\d{4}/$",
    r"^/open311/v2/(discovery|services|requests)(/[^/]+)?\.(json|xml)$",
]
# After a POST (or any unsafe request) the browser reads from the primary for this long.
LAPOR_REPLICA_PIN_SECONDS = env.int("LAPOR_REPLICA_PIN_SECONDS", default=10)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits, shared between processes) -----------------------------------------
CACHES = {"default": env.cache_url("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Redis down must not close the complaint form: this backend answers as an empty cache
    # (and logs a warning) instead of raising, and the limiter below then fails open.
    CACHES["default"]["BACKEND"] = "lapor.cache.ResilientRedisCache"
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {"socket_connect_timeout": 1, "socket_timeout": 1}
    )
# Whole public pages for anonymous visitors (lapor/pagecache.py): how long an entry lives at
# most; every committed change of public data retires all entries at once. 0: no page cache.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=120)
# The staff figures' counts stay on screen for this long after a committed change retired them
# (the page says "as of"): a steady stream of writes costs one computation per scope and period
# a minute instead of one per request. 0: every change shows at once.
FIGURES_STALE_SECONDS = env.int("FIGURES_STALE_SECONDS", default=60)
# django-ratelimit: which address a request comes from (see lapor/clientip.py), and let the
# request through when the cache cannot count it.
RATELIMIT_IP_META_KEY = "lapor.clientip.client_ip"
RATELIMIT_FAIL_OPEN = True

# The client's address behind a reverse proxy: the header the proxy sets (empty: the
# connection's own address) and how many proxies of ours append to it. Used by the rate
# limits and the login lock-out alike.
LAPOR_CLIENT_IP_HEADER = env.str("LAPOR_CLIENT_IP_HEADER", default="")
LAPOR_TRUSTED_PROXIES = env.int("LAPOR_TRUSTED_PROXIES", default=1)

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.int("LAPOR_PASSWORD_MIN_LENGTH", default=10)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out account or address is refused before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Email address or username, in any case (a phone capitalises the first letter).
    "accounts.backends.EmailOrUsernameBackend",
]
LOGIN_URL = "login"
# The sign-in view sends staff to the dashboard and citizens to their complaints.
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Failed sign-ins (django-axes, counted in the database so a cache outage changes nothing):
# after LAPOR_LOGIN_FAILURE_LIMIT failures an account is locked for LAPOR_LOGIN_COOLOFF_MINUTES
# from the address they came from, and only there: guesses from other addresses cannot lock
# the owner out. A successful sign-in clears the count.
AXES_FAILURE_LIMIT = env.int("LAPOR_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LAPOR_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# And per address, whichever accounts it tries (django-ratelimit, failures only, so an office
# behind one address is not held back by its colleagues' sign-ins).
LAPOR_SIGNIN_FAILURE_RATE = env.str("LAPOR_SIGNIN_FAILURE_RATE", default="20/h")
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "lapor.clientip.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.signin.locked_out"
AXES_VERBOSE = False
# The username axes records (its column holds 255): at most what an account's can be.
AXES_USERNAME_CALLABLE = "lapor.middleware.axes_username"

# Sessions end after this much inactivity: short for staff, long for citizens.
LAPOR_STAFF_IDLE_MINUTES = env.int("LAPOR_STAFF_IDLE_MINUTES", default=30)
LAPOR_CITIZEN_IDLE_MINUTES = env.int("LAPOR_CITIZEN_IDLE_MINUTES", default=14 * 24 * 60)
# Two-factor sign-in (TOTP): the issuer shown in authenticator apps.
OTP_TOTP_ISSUER = "Lapor Paman"

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Makassar"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not (DEBUG or TESTING)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Email ----------------------------------------------------------------------------------
_EMAIL_URL = env.str("EMAIL_URL", default=f"filemail://{VAR_DIR / 'mail'}")
EMAIL_CONFIG = env.email_url_config(_EMAIL_URL)
if _EMAIL_URL.startswith("filemail://"):
    # filemail:///var/mail is the absolute path /var/mail (django-environ drops the slash).
    EMAIL_FILE_PATH = _EMAIL_URL.removeprefix("filemail://") or str(VAR_DIR / "mail")
# Seconds a mail server may take to answer before a delivery gives up on it (Django: forever).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
vars().update({k: v for k, v in EMAIL_CONFIG.items() if k != "EMAIL_FILE_PATH"})
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Lapor Paman <noreply@lapor.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery ---------------------------------------------------------------------------------
BROKER_DIR = Path(env.str("LAPOR_BROKER_DIR", default=str(VAR_DIR / "broker")))
CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL", default=env.str("REDIS_URL", default="filesystem://")
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web request that changes a complaint must not hang on a broker that is down: the outbox
# row is already committed and beat's delivery round sends it later.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
LAPOR_MAIL_SECONDS = env.int("LAPOR_MAIL_SECONDS", default=10)
CELERY_BEAT_SCHEDULE = {
    "sweep-deadlines": {
        "task": "complaints.tasks.sweep_deadlines",
        "schedule": env.int("LAPOR_SWEEP_SECONDS", default=300),
        "options": {"expires": 240},
    },
    "close-expired": {
        "task": "complaints.tasks.close_expired",
        "schedule": env.int("LAPOR_CLOSE_SECONDS", default=900),
        "options": {"expires": 600},
    },
    # The figures stay exact without it; folding keeps their pending deltas few (docs/figures.md).
    "fold-tallies": {
        "task": "complaints.tasks.fold_tallies",
        "schedule": env.int("LAPOR_TALLY_SECONDS", default=60),
        "options": {"expires": 50},
    },
    # Sends whatever is pending: mail the broker could not take while it was down goes out
    # within this many seconds of its return (docs/notifications.md).
    # Retention (docs/privacy.md): reporters' contact, spam attachments, old outbox bodies and
    # sign-in records are removed once their time is up; each step is batched and idempotent.
    "anonymise-due": {
        "task": "complaints.tasks.anonymise_due",
        "schedule": env.int("LAPOR_RETENTION_SECONDS", default=3600),
        "options": {"expires": 3000},
    },
    "prune-notifications": {
        "task": "notifications.tasks.prune_notifications",
        "schedule": env.int("LAPOR_RETENTION_SECONDS", default=3600),
        "options": {"expires": 3000},
    },
    "prune-signin-records": {
        "task": "accounts.tasks.prune_signin_records",
        "schedule": env.int("LAPOR_RETENTION_SECONDS", default=3600),
        "options": {"expires": 3000},
    },
    "deliver-notifications": {
        "task": "notifications.tasks.deliver_pending_notifications",
        "schedule": LAPOR_MAIL_SECONDS,
        "options": {"expires": LAPOR_MAIL_SECONDS},
    },
    # Area alerts: yesterday's new public complaints per followed regency, every morning.
    "area-digests": {
        "task": "complaints.tasks.send_area_digests",
        "schedule": crontab(hour=7, minute=0),
        "options": {"expires": 3600},
    },
    # The current year's provisional ranking, every night at 01:30 WITA.
    "refresh-rankings": {
        "task": "awards.tasks.refresh_current_rankings",
        "schedule": crontab(hour=1, minute=30),
        "options": {"expires": 3600},
    },
}
# --- Email intake (docs/email-intake.md) ----------------------------------------------------
# The inbound-mail webhook's shared secret; empty: the webhook refuses every call (403).
INBOUND_MAIL_SECRET = env.str("INBOUND_MAIL_SECRET", default="")
INBOUND_MAIL_MAX_BYTES = env.int("INBOUND_MAIL_MAX_BYTES", default=15 * 1024 * 1024)
# Where a mail that names no regency or category goes (to that region's triage).
INBOUND_MAIL_REGION = env.str("INBOUND_MAIL_REGION", default="63")
INBOUND_MAIL_CATEGORY = env.str("INBOUND_MAIL_CATEGORY", default="lainnya")
# The optional IMAP poll: off unless a host is set.
INBOUND_MAIL_IMAP_HOST = env.str("INBOUND_MAIL_IMAP_HOST", default="")
INBOUND_MAIL_IMAP_PORT = env.int("INBOUND_MAIL_IMAP_PORT", default=993)
INBOUND_MAIL_IMAP_SSL = env.bool("INBOUND_MAIL_IMAP_SSL", default=True)
INBOUND_MAIL_IMAP_USER = env.str("INBOUND_MAIL_IMAP_USER", default="")
INBOUND_MAIL_IMAP_PASSWORD = env.str("INBOUND_MAIL_IMAP_PASSWORD", default="")
INBOUND_MAIL_IMAP_FOLDER = env.str("INBOUND_MAIL_IMAP_FOLDER", default="INBOX")
INBOUND_MAIL_IMAP_BATCH = env.int("INBOUND_MAIL_IMAP_BATCH", default=50)
if INBOUND_MAIL_IMAP_HOST:
    CELERY_BEAT_SCHEDULE["poll-inbound-mail"] = {
        "task": "api.tasks.poll_inbound_mail",
        "schedule": env.int("INBOUND_MAIL_IMAP_SECONDS", default=120),
        "options": {"expires": 110},
    }

# A worker that lost the broker tries it again every few seconds (Celery's default backs off to
# 30 s between attempts).
CELERY_WORKER_CONSUMER = "lapor.celery:QuickReconnectConsumer"
# ... for as long as it takes (Celery's default gives up after 100 attempts).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    # Integration tokens first: an anonymous caller is answered 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.StaffTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttles.AnonWriteThrottle",
        "api.throttles.UserWriteThrottle",
        "api.throttles.TokenWriteThrottle",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "lapor.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
}
# Write rates of the API and Open311 (DRF rates: "10/hour", "600/hour", ...).
LAPOR_API_RATES = {
    "anon_write": env.str("LAPOR_API_ANON_WRITE_RATE", default="10/hour"),
    "user_write": env.str("LAPOR_API_USER_WRITE_RATE", default="60/hour"),
    "token_write": env.str("LAPOR_API_TOKEN_WRITE_RATE", default="600/hour"),
    "open311_write": env.str("LAPOR_OPEN311_WRITE_RATE", default="120/hour"),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Lapor API",
    "DESCRIPTION": (
        "API Lapor Paman, portal pengaduan publik Provinsi Kalimantan Selatan. "
        "Pesan kesalahan berbahasa Indonesia; kirim `Accept-Language: en` untuk bahasa Inggris. "
        "Lihat docs/api.md untuk autentikasi, token, batas laju dan Open311."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Two choice sets share the field name "status": name each.
    "ENUM_NAME_OVERRIDES": {
        "ComplaintStatusEnum": "complaints.workflow.ComplaintStatus",
        "RankingStatusEnum": [("published", "published"), ("provisional", "provisional")],
    },
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # The API docs page (Redoc) comes with drf-spectacular-sidecar: no CDN.
    "REDOC_DIST": "SIDECAR",
}

# --- Security (production) ------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not TESTING)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not TESTING)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not TESTING)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if TESTING else 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (django-csp; Django 5.2 has none of its own): scripts and styles only
# from this site's static files, map tiles from OpenStreetMap, no plugins, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "https://tile.openstreetmap.org"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Every log line passes through the redaction filter: private-link keys (``key=...``) and
# other secrets in URLs never reach a log (runserver's access log is ``django.server``).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "lapor.logging.RedactSecretsFilter"}},
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_secrets"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact_secrets"],
        },
    },
    "loggers": {
        # Django's own console handler (DEBUG only) has no redaction filter: send its records
        # to the root handler, which has, in every mode.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        "pikepdf": {"level": "WARNING"},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Lapor ----------------------------------------------------------------------------------
# The province's rule counts the follow-up deadline in calendar days; this switches to working days.
# Absolute address used in emails (links to complaints). `make run` (run_portal) sets it to the
# address it serves when it is not set; production sets its public https:// address.
LAPOR_SITE_URL = env.str("LAPOR_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# --- SMS and WhatsApp (docs/channels.md) ---------------------------------------------------------
# One provider per channel: "fake" writes each message as a JSON line under var/messages/ (the
# embedded default and the tests), "http" posts it to a gateway: URL, an optional header
# ("Name: value") for its credentials, and a payload template whose $to, $text and $channel are
# filled in (escaped for the content type). Inbound webhooks are signed as lapor.webhooks says,
# with the channel's secret; without a secret the webhook refuses everything.
LAPOR_MESSAGE_DIR = Path(env.str("LAPOR_MESSAGE_DIR", default=str(VAR_DIR / "messages")))


def _messaging_from_env(channel: str) -> dict:
    prefix = f"LAPOR_{channel.upper()}_"
    return {
        "provider": env.str(prefix + "PROVIDER", default="fake"),
        "url": env.str(prefix + "HTTP_URL", default=""),
        "auth_header": env.str(prefix + "HTTP_AUTH_HEADER", default=""),
        "payload": env.str(prefix + "HTTP_PAYLOAD", default='{"to": "$to", "text": "$text"}'),
        "content_type": env.str(prefix + "HTTP_CONTENT_TYPE", default="application/json"),
        "timeout": env.int(prefix + "HTTP_TIMEOUT", default=10),
        "webhook_secret": env.str(prefix + "WEBHOOK_SECRET", default=""),
        # Hosts inbound media URLs may point to (the provider's own); others are refused.
        "media_hosts": env.list(prefix + "MEDIA_HOSTS", default=[]),
    }


LAPOR_MESSAGING = {channel: _messaging_from_env(channel) for channel in ("sms", "whatsapp")}
# One-time codes sent to a phone to follow its complaints: per client address and per number.
LAPOR_PHONE_CODE_RATE = env.str("LAPOR_PHONE_CODE_RATE", default="5/h")
# Inbound messages acted on per sender number; beyond it they are dropped (and logged).
LAPOR_INBOUND_SENDER_RATE = env.str("LAPOR_INBOUND_SENDER_RATE", default="30/h")
# "Me too" (dukung) per client address.
LAPOR_SUPPORT_RATE = env.str("LAPOR_SUPPORT_RATE", default="30/h")
# Days after a resolution the reporter is asked "is it fixed?" by email (0: at once). The email
# goes out no later than a day before the reply window (10 days) ends, while "not fixed" can
# still reopen the complaint.
LAPOR_FIXED_CHECK_DAYS = env.int("LAPOR_FIXED_CHECK_DAYS", default=3)
# The public map's tiles ({z}/{x}/{y}); empty: no tiles, the map shows its counts on a blank
# ground and the page its table per regency (an office without internet, a tile server down).
LAPOR_MAP_TILE_URL = env.str(
    "LAPOR_MAP_TILE_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png"
)
LAPOR_MAP_TILE_ATTRIBUTION = env.str(
    "LAPOR_MAP_TILE_ATTRIBUTION",
    default='&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
)
if LAPOR_MAP_TILE_URL:
    _tiles = urlsplit(LAPOR_MAP_TILE_URL.replace("{s}", "a"))
    _tile_origin = f"{_tiles.scheme}://{_tiles.netloc}" if _tiles.netloc else None
    if _tile_origin and _tile_origin not in CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"]:
        CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"].append(_tile_origin)
# Complaint submissions from the form (django-ratelimit rates): per client address loosely, as a
# kelurahan office or a mobile carrier's NAT puts many people behind one address, and per contact
# (the email address or phone number given, or the account) tightly.
LAPOR_SUBMIT_RATE = env.str("LAPOR_SUBMIT_RATE", default="30/h")
LAPOR_SUBMIT_CONTACT_RATE = env.str("LAPOR_SUBMIT_CONTACT_RATE", default="5/h")
# Other limits (django-ratelimit rates, e.g. "20/h" or "30/10m"): per client address, and per
# target where a request aims at one email address or one complaint.
LAPOR_TRACK_RATE = env.str("LAPOR_TRACK_RATE", default="30/10m")
LAPOR_REGISTER_RATE = env.str("LAPOR_REGISTER_RATE", default="10/h")
LAPOR_PASSWORD_RESET_RATE = env.str("LAPOR_PASSWORD_RESET_RATE", default="10/h")
LAPOR_EMAIL_TARGET_RATE = env.str("LAPOR_EMAIL_TARGET_RATE", default="3/h")
LAPOR_REPORTER_ACTION_RATE = env.str("LAPOR_REPORTER_ACTION_RATE", default="20/h")
LAPOR_REPORTER_ACTION_COMPLAINT_RATE = env.str(
    "LAPOR_REPORTER_ACTION_COMPLAINT_RATE", default="10/h"
)
# Retention of personal data, in days (docs/privacy.md and the citizens' page /privasi/).
# A reporter's name, email, phone, account link and private link: after the complaint is closed
# or archived.
LAPOR_RETENTION_REPORTER_DAYS = env.int("LAPOR_RETENTION_REPORTER_DAYS", default=365)
# Attachments of complaints archived as spam: after archiving.
LAPOR_RETENTION_SPAM_ATTACHMENT_DAYS = env.int("LAPOR_RETENTION_SPAM_ATTACHMENT_DAYS", default=30)
# An email's recipient and body in the outbox: after it was sent (or given up).
LAPOR_RETENTION_NOTIFICATION_DAYS = env.int("LAPOR_RETENTION_NOTIFICATION_DAYS", default=30)
# Sign-in records and lock-out logs (django-axes): after the attempt.
LAPOR_RETENTION_SIGNIN_DAYS = env.int("LAPOR_RETENTION_SIGNIN_DAYS", default=90)
# Following a complaint or an area by email (docs/notifications.md): follow requests per client
# address (per address: LAPOR_EMAIL_TARGET_RATE), and how long a confirmation link is valid; an
# unconfirmed request is deleted after it.
LAPOR_FOLLOW_RATE = env.str("LAPOR_FOLLOW_RATE", default="20/h")
LAPOR_FOLLOW_CONFIRM_DAYS = env.int("LAPOR_FOLLOW_CONFIRM_DAYS", default=7)
LAPOR_FOLLOW_UP_WORKING_DAYS = env.bool("LAPOR_FOLLOW_UP_WORKING_DAYS", default=False)
# Shows the demo accounts' passwords on the home page and in `make run`; only with DEBUG on.
LAPOR_DEMO = DEBUG and env.bool("LAPOR_DEMO", default=True)
