"""Settings for the Kahoku DX portal, read from the environment.

Every value comes through the small typed helpers below so that a typo in a
deployment fails at start-up instead of quietly running with a default.
`DJANGO_ENV=production` switches on the hardening; tests run the same module.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from portal_lib.backup_seal import parse_key as parse_backup_key
from portal_lib.client_ip import parse_networks
from portal_lib.local_gov_code import parse_local_gov_code

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise ImproperlyConfigured(f"環境変数 {name} が設定されていません。")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"環境変数 {name}={value!r} は真偽値ではありません (true/false)。")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"環境変数 {name}={value!r} は整数ではありません。") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_networks(name: str) -> list[str]:
    """Comma-separated IP addresses or CIDRs; empty when unset."""
    values = env_list(name, [])
    try:
        parse_networks(values)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"環境変数 {name}={os.environ[name]!r} に IP アドレスでも CIDR でもない値があります"
            f" ({exc})。"
        ) from exc
    return values


DJANGO_ENV = env_str("DJANGO_ENV", "development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(
        f"DJANGO_ENV={DJANGO_ENV!r} は development か production を指定してください。"
    )
PRODUCTION = DJANGO_ENV == "production"

if PRODUCTION:
    # No fallback key and no wildcard host in production: fail loudly instead.
    SECRET_KEY = env_str("SECRET_KEY")
    if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure"):
        raise ImproperlyConfigured("SECRET_KEY は50文字以上のランダムな値にしてください。")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("本番環境では ALLOWED_HOSTS を設定してください。")
    if any("*" in host for host in ALLOWED_HOSTS):
        # A wildcard lets any Host header through, and with it forged links and cache keys.
        raise ImproperlyConfigured(
            "本番環境の ALLOWED_HOSTS に「*」は使えません。"
            "ポータルのホスト名(例: dx-portal.city.kahoku.example)を指定してください。"
        )
    # Links in mail (password reset, set-password, reminders) are built from this, never
    # from the request's Host header: no default in production.
    PORTAL_BASE_URL = env_str("PORTAL_BASE_URL")
    DEBUG = env_bool("DEBUG", False)
    if DEBUG:
        raise ImproperlyConfigured("本番環境で DEBUG=true にはできません。")
else:
    SECRET_KEY = env_str("SECRET_KEY", "django-insecure-local-development-only-key-kahoku-dx")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
    DEBUG = env_bool("DEBUG", True)
    PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "http://127.0.0.1:8000")

_portal = urlsplit(PORTAL_BASE_URL)
if (
    _portal.scheme not in {"http", "https"}
    or not _portal.hostname
    or _portal.path not in {"", "/"}
    or _portal.query
    or _portal.fragment
    or _portal.username
):
    raise ImproperlyConfigured(
        f"環境変数 PORTAL_BASE_URL={PORTAL_BASE_URL!r} は https://ホスト名[:ポート] の形"
        "(パスなし、例: https://dx-portal.city.kahoku.example)で指定してください。"
    )
if PRODUCTION and _portal.scheme != "https":
    raise ImproperlyConfigured("本番環境の PORTAL_BASE_URL は https:// で始めてください。")

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "simple_history",
    "import_export",
    "axes",
    # Second factor: TOTP, and recovery codes as static tokens (portal_lib/two_factor.py).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "plans",
    "workgroups",
    "initiatives",
    "reporting",
    # Last: the shared library, to connect its login receivers (portal_lib/apps.py).
    "portal_lib.apps.PortalLibConfig",
]

MIDDLEWARE = [
    # Outermost: request id + one structured access-log line per request.
    "kahoku_dx.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Refuse oversized bodies before anything reads them.
    "kahoku_dx.middleware.UploadLimitMiddleware",
    # Refuse control characters (400) and methods no screen serves (405) before any view.
    "kahoku_dx.middleware.ControlCharacterMiddleware",
    "kahoku_dx.middleware.ScreenMethodMiddleware",
    "kahoku_dx.middleware.DatabaseUnavailableMiddleware",
    "kahoku_dx.middleware.StorageFullMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kahoku_dx.i18n.PortalLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "kahoku_dx.middleware.ActiveUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # An API service account holding a session is logged out of the screens.
    "workgroups.middleware.ServiceAccountScreenMiddleware",
    # Idle and absolute session lifetimes (after messages: it leaves one for the login page).
    "portal_lib.session_timeout.SessionTimeoutMiddleware",
    # A session that owes the second factor reaches only the code or enrolment page.
    "portal_lib.two_factor.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kahoku_dx.urls"
WSGI_APPLICATION = "kahoku_dx.wsgi.application"

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
                "workgroups.context_processors.portal_roles",
            ],
        },
    },
]

# SQLite is the embedded default; PostgreSQL (psycopg 3) when DATABASE_URL is set.
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            # Concurrent writes queue up (for up to `timeout` seconds) instead of failing:
            # a transaction that begins by reading and then writes cannot take the write
            # lock while another one holds it, and SQLite refuses at once ("database is
            # locked", the 503 page) instead of waiting. IMMEDIATE takes the lock at BEGIN.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }

# The few statements every dashboard runs unchanged are prepared on their connection
# (portal_lib.compiled, prepare=True). Off for a transaction-pooling PgBouncer older than
# 1.21, which cannot hand a connection's prepared statements on.
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "").strip()
# A Redis call that cannot connect or answer within this gives up (the cache then misses).
REDIS_TIMEOUT_MS = env_int("REDIS_TIMEOUT_MS", 500)


def redis_cache(url: str) -> dict:
    """The cache on Redis: an outage degrades to "nothing cached" (kahoku_dx.cache), and
    no call waits longer than REDIS_TIMEOUT_MS for a Redis that does not answer."""
    return {
        "BACKEND": "kahoku_dx.cache.TolerantRedisCache",
        "LOCATION": url,
        "OPTIONS": {
            "socket_connect_timeout": REDIS_TIMEOUT_MS / 1000,
            "socket_timeout": REDIS_TIMEOUT_MS / 1000,
        },
    }


if REDIS_URL:
    CACHES = {"default": redis_cache(REDIS_URL)}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # The portal's own passwords (LOCAL_PASSWORD_LOGIN), then the city's directory when
    # AUTH_LDAP_SERVER_URI is set (workgroups/directory.py): local accounts never wait for
    # a directory that does not answer.
    "workgroups.directory.LocalPasswordBackend",
    "workgroups.directory.DirectoryBackend",
]

# --- Directory login (LDAP / Active Directory; workgroups/directory.py, docs/deploy.md) ---
# django-auth-ldap's own names where it has them. The directory only checks the password:
# the person is the portal's, found by 職員番号 (DIRECTORY_STAFF_NUMBER_ATTR) or e-mail;
# nobody is created. Unset AUTH_LDAP_SERVER_URI: directory login off.
AUTH_LDAP_SERVER_URI = env_str("AUTH_LDAP_SERVER_URI", "").strip()
AUTH_LDAP_BIND_DN = env_str("AUTH_LDAP_BIND_DN", "")
AUTH_LDAP_BIND_PASSWORD = env_str("AUTH_LDAP_BIND_PASSWORD", "")
AUTH_LDAP_START_TLS = env_bool("AUTH_LDAP_START_TLS", False)
AUTH_LDAP_USER_SEARCH_BASE = env_str("AUTH_LDAP_USER_SEARCH_BASE", "").strip()
AUTH_LDAP_USER_SEARCH_FILTER = env_str(
    "AUTH_LDAP_USER_SEARCH_FILTER", "(sAMAccountName=%(user)s)"
).strip()
DIRECTORY_STAFF_NUMBER_ATTR = env_str("DIRECTORY_STAFF_NUMBER_ATTR", "employeeNumber").strip()
DIRECTORY_EMAIL_ATTR = env_str("DIRECTORY_EMAIL_ATTR", "mail").strip()
DIRECTORY_DEPARTMENT_ATTR = env_str("DIRECTORY_DEPARTMENT_ATTR", "department").strip()
DIRECTORY_TIMEOUT_SECONDS = env_int("DIRECTORY_TIMEOUT_SECONDS", 5)
DIRECTORY_CA_CERT_FILE = env_str("DIRECTORY_CA_CERT_FILE", "").strip()
DIRECTORY_ALLOW_PLAINTEXT = env_bool("DIRECTORY_ALLOW_PLAINTEXT", False)
# all: everyone with a portal password may use it; fallback: superusers and the
# secretariat only (workgroups.access.may_use_local_password), everyone else signs in
# with the directory.
LOCAL_PASSWORD_LOGIN = env_str("LOCAL_PASSWORD_LOGIN", "all").strip()
if LOCAL_PASSWORD_LOGIN not in {"all", "fallback"}:
    raise ImproperlyConfigured(
        f"LOCAL_PASSWORD_LOGIN={LOCAL_PASSWORD_LOGIN!r} は all か fallback を指定してください。"
    )
if AUTH_LDAP_SERVER_URI:
    _ldap_uris = AUTH_LDAP_SERVER_URI.split()
    if not all(re.fullmatch(r"ldaps?://[^\s/]+/?", uri) for uri in _ldap_uris):
        raise ImproperlyConfigured(
            f"AUTH_LDAP_SERVER_URI={AUTH_LDAP_SERVER_URI!r} は ldap://ホスト名[:ポート] か "
            "ldaps://ホスト名[:ポート] で指定してください(複数は空白区切り)。"
        )
    _ldaps = all(uri.startswith("ldaps://") for uri in _ldap_uris)
    if AUTH_LDAP_START_TLS and any(uri.startswith("ldaps://") for uri in _ldap_uris):
        raise ImproperlyConfigured(
            "ldaps:// は最初から暗号化されています。AUTH_LDAP_START_TLS は ldap:// のときだけ"
            "使ってください。"
        )
    if PRODUCTION and not (_ldaps or AUTH_LDAP_START_TLS or DIRECTORY_ALLOW_PLAINTEXT):
        raise ImproperlyConfigured(
            "本番環境ではパスワードを暗号化して送るため、AUTH_LDAP_SERVER_URI を ldaps:// にするか "
            "AUTH_LDAP_START_TLS=true にしてください(庁内で平文を認める場合のみ "
            "DIRECTORY_ALLOW_PLAINTEXT=true)。"
        )
    if not AUTH_LDAP_USER_SEARCH_BASE:
        raise ImproperlyConfigured(
            "AUTH_LDAP_USER_SEARCH_BASE (職員を探す場所、例: OU=職員,DC=city,DC=kahoku,"
            "DC=local) を設定してください。"
        )
    if "%(user)s" not in AUTH_LDAP_USER_SEARCH_FILTER or not (
        AUTH_LDAP_USER_SEARCH_FILTER.startswith("(") and AUTH_LDAP_USER_SEARCH_FILTER.endswith(")")
    ):
        raise ImproperlyConfigured(
            f"AUTH_LDAP_USER_SEARCH_FILTER={AUTH_LDAP_USER_SEARCH_FILTER!r} は "
            "(sAMAccountName=%(user)s) や (uid=%(user)s) のように %(user)s を含めてください。"
        )
    if not (DIRECTORY_STAFF_NUMBER_ATTR or DIRECTORY_EMAIL_ATTR):
        raise ImproperlyConfigured(
            "DIRECTORY_STAFF_NUMBER_ATTR と DIRECTORY_EMAIL_ATTR の少なくとも一方を指定してください"
            "(職員を照合する属性)。"
        )
    if not 1 <= DIRECTORY_TIMEOUT_SECONDS <= 30:
        raise ImproperlyConfigured("DIRECTORY_TIMEOUT_SECONDS は1〜30秒にしてください。")
    if DIRECTORY_CA_CERT_FILE and not Path(DIRECTORY_CA_CERT_FILE).is_file():
        raise ImproperlyConfigured(
            f"DIRECTORY_CA_CERT_FILE={DIRECTORY_CA_CERT_FILE!r} のファイルがありません。"
        )
elif LOCAL_PASSWORD_LOGIN == "fallback":
    raise ImproperlyConfigured(
        "LOCAL_PASSWORD_LOGIN=fallback は、ディレクトリログイン (AUTH_LDAP_SERVER_URI) と"
        "一緒に設定してください。そうでないと事務局と管理者しかログインできません。"
    )
# Argon2id with OWASP's parameters first (kahoku_dx/hashers.py says why); the others only
# verify older hashes, which are upgraded at the next login.
PASSWORD_HASHERS = [
    "kahoku_dx.hashers.OwaspArgon2idPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
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

# Brute-force protection: lock a username *from one address* so that one colleague
# mistyping cannot lock the whole office (they share the city's NAT address).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60  # hours
# Beside it (portal_lib/login_throttle.py): one address across user names, and one user
# name across addresses, each with its own limit; every lock lifts after the cool-off.
LOGIN_IP_FAILURE_LIMIT = env_int("LOGIN_IP_FAILURE_LIMIT", 15)
LOGIN_USERNAME_FAILURE_LIMIT = env_int("LOGIN_USERNAME_FAILURE_LIMIT", 10)
if min(AXES_FAILURE_LIMIT, LOGIN_IP_FAILURE_LIMIT, LOGIN_USERNAME_FAILURE_LIMIT) < 1:
    raise ImproperlyConfigured(
        "ログイン失敗の上限 (AXES_FAILURE_LIMIT など) は1以上にしてください。"
    )
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "portal_lib.login_throttle.lockout_response"
# Behind the TLS proxy every request comes from 127.0.0.1: the client is read from
# X-Forwarded-For, but only when the request really came through one of these proxies.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")
AXES_CLIENT_IP_CALLABLE = "portal_lib.client_ip.client_ip"

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("日本語")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Locally, whitenoise serves straight from the app and project static folders.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Uploads are spreadsheets only; anything larger is refused before parsing.
MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES
# Bounds of one imported sheet, checked while the file streams (portal_lib.sheet_reading):
# data rows, and cells (calamine holds a sheet's cells in memory, ~100 bytes each).
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 100_000)
IMPORT_MAX_CELLS = env_int("IMPORT_MAX_CELLS", 1_000_000)
# Every upload is read in a child process that may grow by this much (RLIMIT_AS) and use
# this much CPU, the parent waiting for it at most as long; a file that costs more is refused.
IMPORT_READER_MEMORY_MB = env_int("IMPORT_READER_MEMORY_MB", 150)
IMPORT_READER_SECONDS = env_int("IMPORT_READER_SECONDS", 8)
# The admin's django-import-export saves row by row: its files are held to fewer rows.
ADMIN_IMPORT_MAX_ROWS = env_int("ADMIN_IMPORT_MAX_ROWS", 1_000)
# Where previewed uploads wait for their confirmation (portal_lib.upload_stash); /healthz
# answers 503 when it is not writable or has less than UPLOAD_MIN_FREE_MB free.
UPLOAD_STASH_DIR = env_str(
    "UPLOAD_STASH_DIR", os.path.join(tempfile.gettempdir(), "kahoku_dx_imports")
)
UPLOAD_MIN_FREE_MB = env_int("UPLOAD_MIN_FREE_MB", 100)

# Backups (make_backup / restore_backup, portal_lib.backup_seal): AES-256-GCM keys in URL-safe
# base64, comma-separated; the first seals new backups, each one listed opens old ones.
BACKUP_ENCRYPTION_KEY = env_list("BACKUP_ENCRYPTION_KEY", [])
for _key in BACKUP_ENCRYPTION_KEY:
    try:
        parse_backup_key(_key)
    except ValueError as exc:
        raise ImproperlyConfigured(f"環境変数 BACKUP_ENCRYPTION_KEY: {exc}") from None

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "dx-portal@city.kahoku.example")
# A password-reset link works for this long (seconds); a set-password link that the
# secretariat mails to a new or locked-out person for SET_PASSWORD_LINK_TIMEOUT (it may be
# opened the next working day). Both are void once used (portal_lib.accounts).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_HOURS", 3) * 60 * 60
SET_PASSWORD_LINK_TIMEOUT = env_int("SET_PASSWORD_LINK_HOURS", 72) * 60 * 60
# Password-reset mails (workgroups.password_reset): at most this many to one address, and
# requests from one client address, in any hour; past them the mail is silently not sent.
PASSWORD_RESET_PER_EMAIL_PER_HOUR = env_int("PASSWORD_RESET_PER_EMAIL_PER_HOUR", 3)
PASSWORD_RESET_PER_CLIENT_PER_HOUR = env_int("PASSWORD_RESET_PER_CLIENT_PER_HOUR", 10)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60)
# Beside that absolute lifetime (portal_lib/session_timeout.py): the session ends after this
# many minutes without a request.
SESSION_IDLE_TIMEOUT_MINUTES = env_int("SESSION_IDLE_TIMEOUT_MINUTES", 30)
# Role changes, token issuance and imports ask for the password (or the authenticator's
# code) again when the last one in the session is older than this (portal_lib/reauth.py).
REAUTH_WINDOW_MINUTES = env_int("REAUTH_WINDOW_MINUTES", 10)
# The name authenticator apps show beside the account (TOTP, django-otp).
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "かほく市DX推進ポータル")
# The admin never shows a device's secret key or its QR code (superusers only see devices).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    # The `preload` token only takes effect once the city submits its domain to the list;
    # an operator who must not preload sets false, and that choice silences W021.
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    if env_bool("BEHIND_TLS_PROXY", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Structured logs: one JSON object per line in production (LOG_FORMAT=json), readable
# text locally. Every record carries the request id set by RequestLogMiddleware.
LOG_FORMAT = env_str("LOG_FORMAT", "json" if PRODUCTION else "plain")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} は json か plain を指定してください。")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "kahoku_dx.logging.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "kahoku_dx.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # RequestLogMiddleware writes the access line; Django's own 4xx warnings would repeat it.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}

# --- Hardening (issue 6) ---------------------------------------------------------------

# Content-Security-Policy (django-csp): no inline script or style anywhere, no third party.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "kahoku_dx.views.csrf_failure"
# Load balancers probe /healthz over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Sessions live in the database so that any number of app processes behave as one, and
# never in Redis: a Redis outage must not end or break anyone's session (issue 19, probe 5).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
AXES_HANDLER = "portal_lib.login_throttle.PortalAxesHandler"

# --- The audit trail (issue 23; reporting/selectors/audit.py, `prune_audit`) -------------
# Every failed login is kept (axes' AccessFailureLog, the failure that locks marked), beside
# the successes axes keeps by default (AccessLog): the login records screen shows both.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# Days that history rows and login records are kept; 0 (the default): keep everything.
# `prune_audit` removes what is older, but never the latest history row of an object that
# still exists (who changed it last stays known).
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 0)
if AUDIT_RETENTION_DAYS < 0:
    raise ImproperlyConfigured(
        "AUDIT_RETENTION_DAYS は0(すべて保存)または1以上の日数にしてください。"
    )

# --- Read-only JSON API (issue 10) -----------------------------------------------------
# Django REST Framework + drf-spectacular: other systems and BI tools read with a token of
# a service account (managed by the secretariat on /api-accounts/); logged-in staff may
# also read with their session. Every endpoint is GET-only; access rules are the screens'.
API_PAGE_SIZE = env_int("API_PAGE_SIZE", 50)
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 200)
# Tokens (issue 19): stored as a digest, valid this many days from issue (reporting/api/tokens.py).
API_TOKEN_LIFETIME_DAYS = env_int("API_TOKEN_LIFETIME_DAYS", 365)


def env_rate(name: str, default: str) -> str | None:
    """A DRF rate, "number/period" (second, minute, hour, day); empty: no limit."""
    value = env_str(name, default).strip()
    if value == "":
        return None
    if not re.fullmatch(r"[0-9]+/(s|sec|second|m|min|minute|h|hour|d|day)", value):
        raise ImproperlyConfigured(
            f"環境変数 {name}={value!r} は「120/minute」のような回数/期間で指定してください。"
        )
    return value


API_THROTTLE_TOKEN_RATE = env_rate("API_THROTTLE_TOKEN_RATE", "120/minute")
API_THROTTLE_ADDRESS_RATE = env_rate("API_THROTTLE_ADDRESS_RATE", "300/minute")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous request then answers 401 with WWW-Authenticate: Token.
        "reporting.api.authentication.ApiTokenAuthentication",
        "reporting.api.permissions.PortalSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["reporting.api.permissions.ApiReader"],
    # Per token (or per person by session); the per-address limit runs before
    # authentication (reporting/api/throttling.py).
    "DEFAULT_THROTTLE_CLASSES": ["reporting.api.throttling.CallerRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api_token": API_THROTTLE_TOKEN_RATE,
        "api_address": API_THROTTLE_ADDRESS_RATE,
    },
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "reporting.api.pagination.ApiPagination",
    "PAGE_SIZE": API_PAGE_SIZE,
    # Numbers travel as JSON numbers, never as strings.
    "COERCE_DECIMAL_TO_STRING": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "かほく市DX推進計画 進捗管理ポータル API",
    "DESCRIPTION": (
        "他システム・BIツール向けの読み取り専用APIです。"
        "事務局が発行したサービスアカウントのトークンを `Authorization: Token <トークン>` で送ります。"
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["reporting.api.permissions.ApiReader"],
    # Swagger UI from the installed sidecar package: no CDN, nothing fetched at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ProgressStatusEnum": "initiatives.models.ProgressStatus",
        "ProcedureStatusEnum": "initiatives.models.OnlineProcedure.Status",
        "ReviewStateEnum": "initiatives.models.Review.State",
    },
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "supportedSubmitMethods": ["get"]},
    # The error answers (400/401/403/404/429) of every operation (reporting/api/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "reporting.api.schema.add_error_responses",
    ],
}

# --- Open data (issue 23) --------------------------------------------------------------
# The public page's files (/public/*.csv, *.json) carry the city's 全国地方公共団体コード
# and names in every row, and the licence chosen here in their metadata (the JSON's
# metadata object, the Link header, the data dictionary /public/data/ and the page):
# cc-by-4.0 (クリエイティブ・コモンズ 表示 4.0 国際) or pdl-1.0 (公共データ利用規約 第1.0版).
OPEN_DATA_LICENSE = env_str("OPEN_DATA_LICENSE", "cc-by-4.0")
if OPEN_DATA_LICENSE not in {"cc-by-4.0", "pdl-1.0"}:
    raise ImproperlyConfigured(
        f"OPEN_DATA_LICENSE={OPEN_DATA_LICENSE!r} は cc-by-4.0 か pdl-1.0 を指定してください。"
    )
try:
    LOCAL_GOV_CODE = parse_local_gov_code(env_str("LOCAL_GOV_CODE", "172090"))
except ValueError as exc:
    raise ImproperlyConfigured(f"環境変数 LOCAL_GOV_CODE: {exc}") from None
LOCAL_GOV_PREFECTURE = env_str("LOCAL_GOV_PREFECTURE", "石川県")
LOCAL_GOV_NAME = env_str("LOCAL_GOV_NAME", "かほく市")
if not LOCAL_GOV_PREFECTURE.strip() or not LOCAL_GOV_NAME.strip():
    raise ImproperlyConfigured("LOCAL_GOV_PREFECTURE と LOCAL_GOV_NAME は空にできません。")
