"""tsconsole settings. Everything that varies between machines comes from the environment via env.py."""

import re
from pathlib import Path

from . import env, localservices

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.env_str("TSCONSOLE_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env.env_bool("DEBUG", False)
DEMO_MODE = env.env_bool("TSCONSOLE_DEMO", False)
# SECRET_KEY (or SECRET_KEY_FILE); else the key `make run` keeps in var/secret_key for the demo.
SECRET_KEY = (
    env.env_str("SECRET_KEY")
    or localservices.local_secret_key(VAR_DIR)
    or env.env_str("SECRET_KEY", required=not DEBUG)
    or "insecure-development-key-only-for-debug"
)
# Key of the HMAC-SHA256 that turns raw signals (emails, device ids, IPs, card fingerprints) into the
# hashes stored for linking accounts; rotating it unlinks new sightings from old ones.
SIGNAL_HASH_KEY = env.env_str("SIGNAL_HASH_KEY") or SECRET_KEY
# A signal on more accounts than this (a carrier's NAT address) links no one: see cases.models.
COMMON_SIGNAL_ACCOUNTS = env.env_int("COMMON_SIGNAL_ACCOUNTS", 1000, minimum=2)
ALLOWED_HOSTS = env.env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.env_list("CSRF_TRUSTED_ORIGINS", [])
PORT = env.env_int("PORT", 8000, minimum=1, maximum=65535)
# Where people reach the console: links in emails and chat posts, which are read outside it, start here.
SITE_URL = env.env_site_url("SITE_URL", f"http://127.0.0.1:{PORT}" if DEBUG else "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "django_htmx",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "tsconsole",
    "cases",
    "enforcement",
    "appeals",
    "qa",
    "insights",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tsconsole.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "tsconsole.middleware.ControlCharacterMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tsconsole.middleware.LoginRequiredMiddleware",
    "tsconsole.middleware.TimezoneMiddleware",
]

ROOT_URLCONF = "tsconsole.urls"
WSGI_APPLICATION = "tsconsole.wsgi.application"

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
                "tsconsole.context_processors.navigation",
            ],
            "builtins": ["tsconsole.templatetags.timefmt"],
        },
    },
]

# Unset: the checkout's own PostgreSQL under var/pg/, which `make run` starts (tsconsole/localservices.py).
DATABASES = {"default": env.env_database("DATABASE_URL", localservices.default_database_url(VAR_DIR))}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.env_int("DB_CONN_MAX_AGE", 60, minimum=0))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True

# Evidence lives outside the static tree and is served only through an authorised view.
EVIDENCE_ROOT = Path(env.env_str("EVIDENCE_ROOT", str(VAR_DIR / "evidence")))
EVIDENCE_MAX_BYTES = env.env_int("EVIDENCE_MAX_BYTES", 25 * 1024 * 1024, minimum=1)
EVIDENCE_ALLOWED_TYPES = env.env_list(
    "EVIDENCE_ALLOWED_TYPES",
    ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain", "text/csv", "video/mp4"],
)

LOGIN_URL = "login"
# ModelBackend, with the session's user and roles read in one statement.
AUTHENTICATION_BACKENDS = ["tsconsole.auth_backends.SessionUserBackend"]
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Redis is the Celery broker and the cache. Unset: the checkout's own server under var/redis/.
REDIS_URL = env.env_redis_url("REDIS_URL", localservices.default_redis_url(VAR_DIR))
CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
# Sessions are read from Redis on every page (written through to PostgreSQL, which stays the record).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
CELERY_TASK_ALWAYS_EAGER = env.env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict = {}  # filled by tsconsole.celery from each app's beat_schedule()
SWEEP_INTERVAL_SECONDS = env.env_int("SWEEP_INTERVAL_SECONDS", 5, minimum=1)
# Escalations: minutes to acknowledge by severity; unacknowledged, the sweep pages the next step
# of the on-call ladder each time this much more passes.
ESCALATION_ACK_MINUTES = {
    "sev1": env.env_int("ESCALATION_ACK_SEV1_MINUTES", 15, minimum=1),
    "sev2": env.env_int("ESCALATION_ACK_SEV2_MINUTES", 60, minimum=1),
    "sev3": env.env_int("ESCALATION_ACK_SEV3_MINUTES", 240, minimum=1),
    "sev4": env.env_int("ESCALATION_ACK_SEV4_MINUTES", 1440, minimum=1),
}

# Outbox relay (tsconsole/outbox.py). A claimed message is leased: if the worker dies mid-delivery
# the lease runs out and the next relay run takes it again, so the lease must outlast a whole
# claimed batch of deliveries at the worst case of one timeout each.
# QA sampling: how far back each pass reads decisions, and how often it runs.
QA_SAMPLING_LOOKBACK_DAYS = env.env_int("QA_SAMPLING_LOOKBACK_DAYS", 8, minimum=1)
QA_SAMPLING_WORK_MEM = env.env_str("QA_SAMPLING_WORK_MEM", "128MB")
QA_SAMPLING_INTERVAL_SECONDS = env.env_int("QA_SAMPLING_INTERVAL_SECONDS", 300, minimum=10)
OUTBOX_RELAY_INTERVAL_SECONDS = env.env_int("OUTBOX_RELAY_INTERVAL_SECONDS", SWEEP_INTERVAL_SECONDS, minimum=1)
OUTBOX_MAX_ATTEMPTS = env.env_int("OUTBOX_MAX_ATTEMPTS", 8, minimum=1, maximum=100)
OUTBOX_BACKOFF_BASE_SECONDS = env.env_int("OUTBOX_BACKOFF_BASE_SECONDS", 60, minimum=1)
OUTBOX_BACKOFF_CAP_SECONDS = env.env_int("OUTBOX_BACKOFF_CAP_SECONDS", 3600, minimum=1)
OUTBOX_TIMEOUT_SECONDS = env.env_int("OUTBOX_TIMEOUT_SECONDS", 10, minimum=1, maximum=300)
OUTBOX_BATCH_SIZE = env.env_int("OUTBOX_BATCH_SIZE", 5, minimum=1, maximum=100)
OUTBOX_LEASE_SECONDS = env.env_int("OUTBOX_LEASE_SECONDS", 60, minimum=1)
if OUTBOX_BACKOFF_CAP_SECONDS < OUTBOX_BACKOFF_BASE_SECONDS:
    raise env.SettingsError(
        f"OUTBOX_BACKOFF_CAP_SECONDS ({OUTBOX_BACKOFF_CAP_SECONDS}) must be at least "
        f"OUTBOX_BACKOFF_BASE_SECONDS ({OUTBOX_BACKOFF_BASE_SECONDS})"
    )
if OUTBOX_LEASE_SECONDS <= OUTBOX_BATCH_SIZE * OUTBOX_TIMEOUT_SECONDS:
    raise env.SettingsError(
        f"OUTBOX_LEASE_SECONDS ({OUTBOX_LEASE_SECONDS}) must exceed OUTBOX_BATCH_SIZE × OUTBOX_TIMEOUT_SECONDS "
        f"({OUTBOX_BATCH_SIZE} × {OUTBOX_TIMEOUT_SECONDS}), or a batch could outlive its claim and be sent twice"
    )

# Enforcement: the two-person rule sends actions against high-impact accounts (or content they
# authored) and every termination to a lead for approval.
ENFORCEMENT_HIGH_IMPACT_FOLLOWERS = env.env_int("ENFORCEMENT_HIGH_IMPACT_FOLLOWERS", 100_000, minimum=0)
ENFORCEMENT_HIGH_IMPACT_VERIFIED = env.env_bool("ENFORCEMENT_HIGH_IMPACT_VERIFIED", True)
ENFORCEMENT_HIGH_IMPACT_ACCOUNT_TYPES = env.env_list("ENFORCEMENT_HIGH_IMPACT_ACCOUNT_TYPES", ["business", "enterprise"])
if set(ENFORCEMENT_HIGH_IMPACT_ACCOUNT_TYPES) - {"private", "business", "enterprise"}:
    raise env.SettingsError(
        f"ENFORCEMENT_HIGH_IMPACT_ACCOUNT_TYPES: expected a comma-separated list of private, business, enterprise; "
        f"got {','.join(ENFORCEMENT_HIGH_IMPACT_ACCOUNT_TYPES)!r}"
    )
# DSA statements of reasons (insights/dsa.py): the prefix of each statement's platform unique id
# (unique within the platform, so two consoles feeding one platform need different prefixes), the
# terms-of-service URL cited as the ground's reference (optional), and the territorial scope.
DSA_PUID_PREFIX = env.env_str("DSA_PUID_PREFIX", "tsconsole")
if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", DSA_PUID_PREFIX):
    raise env.SettingsError(f"DSA_PUID_PREFIX: letters, digits, '-' and '_' only (1-40), got {DSA_PUID_PREFIX!r}")
DSA_TERMS_URL = env.env_str("DSA_TERMS_URL", "")
DSA_TERRITORIAL_SCOPE = [code.upper() for code in env.env_list("DSA_TERRITORIAL_SCOPE", [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS", "IT", "LI",
    "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
])]
_EEA = {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS", "IT", "LI",
        "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK"}
if not DSA_TERRITORIAL_SCOPE or set(DSA_TERRITORIAL_SCOPE) - _EEA:
    raise env.SettingsError(
        f"DSA_TERRITORIAL_SCOPE: comma-separated EU/EEA country codes (e.g. DE,FR,IE); "
        f"not accepted: {','.join(sorted(set(DSA_TERRITORIAL_SCOPE) - _EEA)) or '(empty)'}")
if DSA_TERMS_URL and (not re.match(r"https?://", DSA_TERMS_URL) or len(DSA_TERMS_URL) > 500):
    raise env.SettingsError(f"DSA_TERMS_URL: an http(s) URL of at most 500 characters, got {DSA_TERMS_URL!r}")
# Insights: an export of more rows than this runs as a background job with a download link; job
# files are kept under INSIGHTS_EXPORT_DIR.
INSIGHTS_EXPORT_INLINE_MAX = env.env_int("INSIGHTS_EXPORT_INLINE_MAX", 5000, minimum=1)
INSIGHTS_EXPORT_DIR = env.env_str("INSIGHTS_EXPORT_DIR", str(VAR_DIR / "exports"))

# Wellness: after this many minutes of continuous exposure to sensitive material the page suggests
# a break (each person may choose their own in Preferences); a gap of BREAK_RESET minutes without
# any sensitive case in view ends the stretch.
WELLNESS_BREAK_AFTER_MINUTES = env.env_int("WELLNESS_BREAK_AFTER_MINUTES", 45, minimum=5, maximum=480)
WELLNESS_BREAK_RESET_MINUTES = env.env_int("WELLNESS_BREAK_RESET_MINUTES", 10, minimum=2, maximum=240)
WELLNESS_HEARTBEAT_SECONDS = env.env_int("WELLNESS_HEARTBEAT_SECONDS", 60, minimum=15, maximum=300)

# How long after an action the affected user (or the notifier) may appeal it (DSA Art. 20: at least 6 months).
APPEAL_WINDOW_MONTHS = env.env_int("APPEAL_WINDOW_MONTHS", 6, minimum=6, maximum=120)

EMAIL_CONFIG = env.env_email("EMAIL_URL", "consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.env_str("DEFAULT_FROM_EMAIL", "tsconsole@localhost")

REST_FRAMEWORK = {
    # Token first: its `WWW-Authenticate: Token` makes a missing or bad token a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tsconsole.api_auth.TokenAuthentication",  # DRF's, with the user's roles in the same query
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "tsconsole.api_renderers.JSONRenderer",  # DRF's output, written by orjson
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "tsconsole.api_parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "tsconsole.api_schema.AutoSchema",
    "EXCEPTION_HANDLER": "tsconsole.api_errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "tsconsole API",
    "DESCRIPTION": "Report intake, cases, enforcement and subject status for Trust & Safety teams.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Choice sets used under several field names get one stable schema name each.
    "ENUM_NAME_OVERRIDES": {
        "DsaCategoryEnum": "cases.models.DsaCategory",
        "DecisionGroundEnum": "enforcement.models.DecisionGround",
        "ActionStatusEnum": "enforcement.models.ActionStatus",
        "ActionTypeEnum": "enforcement.models.ActionType",
        "SubjectKindEnum": "cases.models.Subject.Kind",
        "EvidenceKindEnum": "cases.models.Evidence.Kind",
        "EscalationSeverityEnum": "cases.models.EscalationSeverity",
        "EscalationStatusEnum": "cases.models.Escalation.Status",
        "CaseStatusEnum": "cases.models.CaseStatus",
        "AppellantKindEnum": "appeals.models.AppellantKind",
        "AppealOutcomeEnum": "appeals.models.Outcome",
        "QaOutcomeEnum": "qa.models.Outcome",
        "QaRuleKindEnum": "qa.models.RuleKind",
        "QaSampleStatusEnum": "qa.models.SampleStatus",
        "AppealStatusEnum": ["open", "decided"],
    },
}

# Sign-in throttling (tsconsole/signin.py), for the login form and the API token endpoint alike:
# attempts per account (normalised username) and per client address (IPv6 per /64) in a window.
LOGIN_ACCOUNT_RATE_LIMIT = env.env_int("LOGIN_ACCOUNT_RATE_LIMIT", 10, minimum=1)
LOGIN_ADDRESS_RATE_LIMIT = env.env_int("LOGIN_ADDRESS_RATE_LIMIT", 50, minimum=1)
LOGIN_RATE_WINDOW_SECONDS = env.env_int("LOGIN_RATE_WINDOW_SECONDS", 300, minimum=1)
# How many reverse proxies in front of the console append to X-Forwarded-For. 0: the client is the
# socket's peer and X-Forwarded-For is ignored; N: the Nth entry from the right is the client.
TRUSTED_PROXY_COUNT = env.env_int("TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=10)

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = env.env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # Production defaults are HTTPS-only; a TLS-terminating proxy must send X-Forwarded-Proto.
    SECURE_SSL_REDIRECT = env.env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # container health checks speak plain HTTP
    SECURE_HSTS_SECONDS = env.env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env.env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading is a per-domain, hard-to-undo opt-in: the operator chooses it, not the default.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
