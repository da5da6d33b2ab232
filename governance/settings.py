"""Settings, read from the environment (12-factor).

Every variable is documented in `.env.example`. Two ways to run, one code base:

* embedded default (``DJANGO_ENV=development``, the default): SQLite, a
  filesystem Celery broker, local-memory-free file cache; nothing to install
  but Python;
* production (``DJANGO_ENV=production``): PostgreSQL from ``DATABASE_URL``,
  Redis from ``REDIS_URL``; refuses to start when misconfigured.
"""

import warnings
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")
# Runtime state of the embedded default: SQLite file, broker folder, cache, media.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEVELOPMENT_SECRET_KEY = "insecure-development-key-do-not-use-in-production"

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be 'development' or 'production', not {DJANGO_ENV!r}.")
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env.bool("DEBUG", default=not PRODUCTION)
SECRET_KEY = env.str("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])


def check_production_settings(*, debug: bool, secret_key: str, allowed_hosts: list[str], database_url: str = "",
                              redis_url: str = "", axes_enabled: bool = True) -> None:
    """Refuse to run a production deployment that breaks the portal's promises. Called at import.

    Every problem is named with the variable to set, all at once.
    """
    problems = []
    if debug:
        problems.append("DEBUG is on")
    # The same bar as Django's security.W009: 50+ characters, 5+ distinct ones, not a generated dev key.
    if (not secret_key or secret_key == DEVELOPMENT_SECRET_KEY or len(secret_key) < 50
            or len(set(secret_key)) < 5 or secret_key.startswith("django-insecure-")):
        problems.append("SECRET_KEY is missing, the development default, shorter than 50 characters "
                        "or not random")
    hosts = [h.strip() for h in allowed_hosts]
    if not hosts or not all(hosts):
        problems.append("ALLOWED_HOSTS is empty or has an empty entry")
    elif any(h in {"*", ".", "0.0.0.0"} for h in hosts):
        problems.append("ALLOWED_HOSTS allows any host ('*'): name the portal's host names")
    if not database_url.strip():
        problems.append("DATABASE_URL is not set (production needs PostgreSQL; it would silently use SQLite)")
    elif database_url.strip().lower().startswith("sqlite"):
        problems.append("DATABASE_URL names SQLite: production needs PostgreSQL, which every process and node shares")
    if not redis_url.strip():
        problems.append("REDIS_URL is not set (every node must share one Redis for the cache, the broker and the "
                        "change tokens; it would silently use a per-node file cache and filesystem broker)")
    if not axes_enabled:
        problems.append("AXES_ENABLED is false: production keeps the lockout after repeated failed logins")
    if problems:
        raise ImproperlyConfigured("Refusing to start in production: " + "; ".join(problems) + ".")


INSTALLED_APPS = [
    # SimpleAdminConfig: no autodiscovery, because leaflet/admin.py needs GDAL.
    # Every admin module is imported explicitly in governance/admin_site.py.
    "django.contrib.admin.apps.SimpleAdminConfig",
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
    "guardian",
    "treebeard",
    "simple_history",
    "axes",
    "csp",
    "django_htmx",
    "django_celery_beat",
    "django_celery_results",
    "leaflet",
    "governance",
    "governance.exports",
    "grids",
    "incidents",
    "mediation",
    "intake",
    "governance.ledgers",
    "dashboards",
]

# models.W040: SQLite ignores an index's INCLUDE columns (mediation's covering index of the figures is for
# PostgreSQL, where they make the scan index-only; on SQLite it stays a plain index).
SILENCED_SYSTEM_CHECKS = ["models.W040"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Pages and API answers carry personal data: no cache may keep them unless a view says otherwise.
    "governance.core.middleware.no_store",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a lockout into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "governance.urls"
WSGI_APPLICATION = "governance.wsgi.application"
ASGI_APPLICATION = "governance.asgi.application"

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
                "governance.context_processors.portal",
                "governance.alerts.context_processors.alert_count",
                "governance.access.navigation.top_bar",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# SQLite by default; PostgreSQL (or any dj-database-url) from DATABASE_URL.
DATABASE_URL = env.str("DATABASE_URL", default="").strip()


SUPPORTED_DATABASE_ENGINES = {"django.db.backends.postgresql", "django.db.backends.sqlite3"}


def database_from_url(url: str) -> dict:
    """Django's DATABASES entry for ``url``, or a sentence that names the variable when it cannot be used."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # django-environ only warns about an unknown scheme
        try:
            config = environ.Env.db_url_config(url)
        except (KeyError, ValueError, ImproperlyConfigured):
            config = {}
    if config.get("ENGINE") not in SUPPORTED_DATABASE_ENGINES:
        raise ImproperlyConfigured(
            "DATABASE_URL is not a PostgreSQL or SQLite URL this portal can use; "
            "e.g. postgres://user:password@host:5432/name")
    return config


DATABASES = {
    # Empty or unset: the embedded default's SQLite file (refused in production, below).
    "default": database_from_url(DATABASE_URL or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: wait for the lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
    DATABASES["default"]["TEST"] = {"NAME": env.str("SQLITE_TEST_NAME", default="") or None}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery -----------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# Seconds to connect to Redis and to wait for an answer, for the cache and the broker: a LAN
# answers in a millisecond, and a Redis that is down or silent must cost a request little
# (redis-py's default is 5 s a call). The cache answers as a miss after that (governance/cache.py).
REDIS_TIMEOUT = env.float("REDIS_TIMEOUT", default=0.05)
REDIS_CACHE_OPTIONS = {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT}
REDIS_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "governance.core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
    }
else:
    # A file cache is shared by web, worker and beat on one machine.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

CELERY_BROKER_DIR = Path(env.str("CELERY_BROKER_DIR", default=str(VAR_DIR / "broker")))
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # A broker that is down or silent: a publish fails within a fraction of a second (the
    # caller says so, governance.celery.enqueue), not after redis-py's 5 s per attempt.
    CELERY_BROKER_TRANSPORT_OPTIONS = REDIS_BROKER_TRANSPORT_OPTIONS
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.2}
# Results in the database, for a task that asks for it (none does): a result store that fails
# (PostgreSQL refusing connections) used to fail the task's retry and kill the worker, and
# nobody reads the results: every task's effect is in its own rows (alerts, exports, tallies).
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "Asia/Shanghai"

# --- Authentication and access --------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "governance.auth.RefuseDemoPasswordBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)

if PRODUCTION:
    check_production_settings(debug=DEBUG, secret_key=SECRET_KEY, allowed_hosts=ALLOWED_HOSTS,
                              database_url=DATABASE_URL, redis_url=REDIS_URL, axes_enabled=AXES_ENABLED)
AXES_LOCKOUT_TEMPLATE = "axes_lockout.html"  # a portal page (HTTP 429), not axes' bare text

# --- Internationalisation -------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# No MEDIA_URL is routed: photos and export files are served only by views that check scope.
MEDIA_URL = "/media-is-not-public/"


def file_storage(kind: str, *, bucket: str = "", endpoint_url: str = "", access_key: str = "", secret_key: str = "",
                 region: str = "", prefix: str = "", addressing_style: str = "path", verify: str = "true",
                 timeout: float = 10.0) -> dict:
    """``STORAGES["default"]``: where photos and export files live, named by ``FILE_STORAGE``.

    ``local``: the folder ``MEDIA_ROOT`` (one machine, or a folder every node mounts). ``s3``: a
    bucket of an S3-compatible object store (MinIO, Ceph RGW, a government cloud's object storage)
    that every web and worker node reaches, through django-storages. The bucket stays private: no
    ACL is sent (the bucket's own policy applies), and the portal never hands a browser a URL of
    the store; files are read through the storage API and served by the views that check scope.
    Every file gets a name of its own, and none is ever overwritten.
    """
    if kind == "local":
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    if kind != "s3":
        raise ImproperlyConfigured(f"FILE_STORAGE must be 'local' or 's3', not {kind!r}.")
    if not bucket.strip():
        raise ImproperlyConfigured("FILE_STORAGE=s3 needs S3_BUCKET, the bucket that holds photos and exports.")
    if addressing_style not in {"path", "virtual", "auto"}:
        raise ImproperlyConfigured(
            f"S3_ADDRESSING_STYLE must be 'path', 'virtual' or 'auto', not {addressing_style!r}.")
    from botocore.config import Config

    lowered = verify.strip().lower()
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket.strip(),
            "endpoint_url": endpoint_url.strip() or None,
            "access_key": access_key or None,  # None: boto3's own chain (environment, instance role)
            "secret_key": secret_key or None,
            "region_name": region.strip() or None,
            "location": prefix.strip("/"),
            "default_acl": None,
            "file_overwrite": False,
            # Larger files read through the storage spill to a temporary file rather than memory.
            "max_memory_size": 2 * 1024 * 1024,
            # true, false (an intranet store with a self-signed certificate), or the path of a CA bundle
            "verify": True if lowered in {"", "true", "1", "yes"} else False if lowered in {"false", "0", "no"}
            else verify.strip(),
            # A store that is down or silent costs a request seconds, not minutes (botocore waits 60 s a read).
            "client_config": Config(s3={"addressing_style": addressing_style}, signature_version="s3v4",
                                    connect_timeout=timeout, read_timeout=timeout,
                                    retries={"max_attempts": 2, "mode": "standard"}),
        },
    }


FILE_STORAGE = env.str("FILE_STORAGE", default="local").strip().lower()
STORAGES = {
    "default": file_storage(
        FILE_STORAGE, bucket=env.str("S3_BUCKET", default=""), endpoint_url=env.str("S3_ENDPOINT_URL", default=""),
        access_key=env.str("S3_ACCESS_KEY_ID", default=""), secret_key=env.str("S3_SECRET_ACCESS_KEY", default=""),
        region=env.str("S3_REGION", default=""), prefix=env.str("S3_PREFIX", default=""),
        addressing_style=env.str("S3_ADDRESSING_STYLE", default="path"), verify=env.str("S3_VERIFY", default="true"),
        timeout=env.float("S3_TIMEOUT", default=10.0)),
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- Map ------------------------------------------------------------------
# A city's own tile server; empty means no tiles: the map shows polygons alone.
MAP_TILES_URL = env.str("MAP_TILES_URL", default="")
MAP_TILES_ATTRIBUTION = env.str("MAP_TILES_ATTRIBUTION", default="")
MAP_TILES_GCJ02 = env.bool("MAP_TILES_GCJ02", default=False)
LEAFLET_CONFIG = {
    "TILES": [(_("Base map"), MAP_TILES_URL, {"attribution": MAP_TILES_ATTRIBUTION})] if MAP_TILES_URL else [],
    "RESET_VIEW": False,
    "NO_GLOBALS": False,
}

# --- REST API -------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an anonymous API call is answered 401 with a WWW-Authenticate header.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "governance.core.api.StrictPageNumberPagination",
    "PAGE_SIZE": 50,
    # drf-spectacular's, made to say what the server does: errors, constraints, no docstrings (governance.core.openapi)
    "DEFAULT_SCHEMA_CLASS": "governance.core.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "governance.core.api.exception_handler",
    # JSON bounded in size and depth (governance.core.parsers.SafeJSONParser); forms for the pages' scripts.
    "DEFAULT_PARSER_CLASSES": [
        "governance.core.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "City governance portal API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per choice set, whatever the property is called (severity of an incident, of an alert…).
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "incidents.models.Status",
        "SourceEnum": "incidents.models.Source",
        "FigureSourceEnum": "dashboards.map.api.FIGURE_SOURCES",
        "LevelEnum": "grids.models.Level",
        "AlertKindEnum": "governance.alerts.models.AlertKind",
        "AlertSeverityEnum": "governance.alerts.models.AlertSeverity",
        "ExportStatusEnum": "governance.exports.models.ExportStatus",
        "CaseStatusEnum": "mediation.models.Status",
        "CaseSourceEnum": "mediation.models.Source",
        "PartyRoleEnum": "mediation.models.PartyRole",
        "RiskLevelEnum": "mediation.models.RiskLevel",
        "ReferredToEnum": "mediation.models.ReferredTo",
        "LedgerProgressStatusEnum": "governance.ledgers.models.ProgressStatus",
        "LedgerReviewEnum": "governance.ledgers.models.Review",
        "LedgerNoticeStatusEnum": "governance.ledgers.models.NoticeStatus",
        "LedgerProjectStatusEnum": "governance.ledgers.models.ProjectStatus",
        "LedgerProjectLevelEnum": "governance.ledgers.models.ProjectLevel",
        "LedgerCycleEnum": "governance.ledgers.periods.Cycle",
    },
}

# --- Email ----------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="governance-portal@localhost")

# --- Security -------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
# A session lasts one working shift and ends with the browser: government intranet PCs are shared.
SESSION_COOKIE_AGE = env.int("SESSION_HOURS", default=8) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# The portal's page when a form comes without its CSRF token (JSON under /api/).
CSRF_FAILURE_VIEW = "governance.views.csrf_failure"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-less header meta
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # On by default so that `check --deploy` is clean (W021). The directive only matters for
    # a registrable domain submitted to the browsers' preload list; a portal on a subdomain
    # (portal.<city>.gov.cn) cannot be listed, so it is inert there.
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    # Load balancers probe /healthz over plain HTTP, without X-Forwarded-Proto.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Everything is served by the portal itself, so the policy is 'self' only.
# Map tiles may come from the city's tile server.
_tile_origin = []
if MAP_TILES_URL:
    from urllib.parse import urlsplit

    _parts = urlsplit(MAP_TILES_URL.replace("{s}", "a"))
    _tile_origin = [f"{_parts.scheme}://{_parts.netloc}".replace("://a.", "://*.")]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", *_tile_origin],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- Logging --------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# --- Domain settings ------------------------------------------------------
# Tolerance for boundary checks, as a share of the child's area: a polygon may
# poke outside its parent, or overlap a sibling, by this much (float noise).
TERRITORY_AREA_TOLERANCE = env.float("TERRITORY_AREA_TOLERANCE", default=1e-6)
# The largest territory file import_territory reads: a city's file beyond it is split by district.
TERRITORY_FILE_MAX_BYTES = env.int("TERRITORY_FILE_MAX_BYTES", default=64 * 1024 * 1024)
CITY_NAME = env.str("CITY_NAME", default="示范市")
# Incident photos: size limit per photo and a pixel limit against decompression bombs.
INCIDENT_PHOTO_MAX_BYTES = env.int("INCIDENT_PHOTO_MAX_BYTES", default=10 * 1024 * 1024)
INCIDENT_PHOTO_MAX_PIXELS = env.int("INCIDENT_PHOTO_MAX_PIXELS", default=40_000_000)
# The pixels one request may make the server decode, all its photos together (a JPEG counts at the reduced
# scale it is decoded at): bounds the CPU and memory of one request (incidents/attachments.py).
INCIDENT_PHOTOS_MAX_DECODED_PIXELS = env.int("INCIDENT_PHOTOS_MAX_DECODED_PIXELS", default=100_000_000)
# How long an upload may take, agreed by the filing page and the proxy in front of gunicorn
# (deploy/nginx/portal-proxy.conf; tests/deploy/test_nginx.py holds them together): the page
# gives up when no byte was sent for UPLOAD_IDLE_SECONDS (nginx's client_body_timeout) or when
# the answer has not come UPLOAD_ANSWER_SECONDS after the last byte (nginx's proxy_read_timeout,
# longer than gunicorn's --timeout). A slow but steady upload is never cut short.
UPLOAD_IDLE_SECONDS = 60
UPLOAD_ANSWER_SECONDS = 90
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Exports: hours a finished export's file is kept before the expiry task deletes it (the job stays as the record).
EXPORT_RETENTION_HOURS = env.int("EXPORT_RETENTION_HOURS", default=24)
# A CJK TrueType font (.ttf/.ttc) that every PDF embeds; empty: the first of Debian's that is installed
# (fonts-wqy-zenhei, fonts-noto-cjk, ...), else reportlab's STSong-Light, which is not embedded.
PDF_CJK_FONT = env.str("PDF_CJK_FONT", default="")
# Intake (residents' QR quick reports, Open311; intake/ratelimit.py): the minor categories residents may
# choose (codes of minor categories or of their major ones), photo limits, and rate limits "count/seconds".
INTAKE_RESIDENT_CATEGORIES = env.list("INTAKE_RESIDENT_CATEGORIES", default=[
    "02", "04", "05", "06", "07", "08", "12", "14"])
INTAKE_PHOTO_MAX_BYTES = env.int("INTAKE_PHOTO_MAX_BYTES", default=5 * 1024 * 1024)
INTAKE_MAX_PHOTOS = env.int("INTAKE_MAX_PHOTOS", default=3)
INTAKE_RATE_PER_CLIENT = env.str("INTAKE_RATE_PER_CLIENT", default="5/3600")
INTAKE_RATE_PER_GRID = env.str("INTAKE_RATE_PER_GRID", default="60/3600")
INTAKE_RATE_TRACKING = env.str("INTAKE_RATE_TRACKING", default="30/600")
INTAKE_RATE_PER_KEY = env.str("INTAKE_RATE_PER_KEY", default="600/60")
# Behind a proxy that sets X-Forwarded-For (deploy/nginx): the client is its last address.
INTAKE_TRUST_PROXY = env.bool("INTAKE_TRUST_PROXY", default=False)
# The portal's public address printed in the signs' QR codes (e.g. https://zz.example.gov.cn); empty: the request's.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="")
# The number printed on signs for residents who would rather call (the command centre's hotline).
INTAKE_SIGN_HOTLINE = env.str("INTAKE_SIGN_HOTLINE", default="12345")
# Alert engine: how long an incident stays red before it climbs one level.
ALERT_ESCALATION_GRACE_MINUTES = env.int("ALERT_ESCALATION_GRACE_MINUTES", default=120)

# simple-history: history pages are records; a past version is never saved back (writes go through services).
SIMPLE_HISTORY_REVERT_DISABLED = True
