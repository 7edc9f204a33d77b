"""Accord settings, read from the environment (Healthchecks' hc/settings.py style).

Every secret can also be read from a file named by ``<NAME>_FILE``. The mode decides the
defaults:

* ``production`` — secrets must be set; refuses to start otherwise, naming the variable.
* ``demo`` — the embedded default of ``accord run``: SQLite under ``./var/``, secrets
  generated once and kept in ``./var/``, the demo county, one-time codes shown on sign-in.
* ``test`` — fixed throw-away secrets for the test suite.
"""

from __future__ import annotations

import base64
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent

MODES = ("production", "demo", "test")
DEFAULT_SECRET_KEY = "change-me"  # noqa: S105 - the value production refuses


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def envbool(name: str, default: str = "False") -> bool:
    return (env(name, default) or "").strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = env(name)
    if value in (None, ""):
        return default
    try:
        return int(str(value))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from exc


def envsecret(name: str) -> str | None:
    """A secret from ``NAME`` or from the file named by ``NAME_FILE``."""
    path = env(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path} cannot be read: {exc}") from exc
    return env(name)


def _default_mode() -> str:
    # The embedded SQLite default is the demo; a configured database means a deployment.
    return "production" if env("ACCORD_DATABASE_URL") else "demo"


MODE = (env("ACCORD_MODE") or _default_mode()).strip().lower()
if MODE not in MODES:
    raise ImproperlyConfigured(f"ACCORD_MODE must be one of {', '.join(MODES)}, not {MODE!r}.")
PRODUCTION = MODE == "production"
DEMO = MODE == "demo"
TESTING = MODE == "test"

VAR_DIR = Path(env("ACCORD_VAR_DIR") or (Path.cwd() / "var")).resolve()


def _kept_secret(filename: str, make: Any) -> str:
    """A secret generated once for the demo and kept in ./var so restarts keep sessions."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / filename
    if not path.exists():
        path.write_text(make(), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def _new_field_key() -> str:
    return "k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


# --- secrets -------------------------------------------------------------------------------

_secret_key = envsecret("ACCORD_SECRET_KEY")
_field_keys = envsecret("ACCORD_FIELD_KEYS")
_audit_key = envsecret("ACCORD_AUDIT_SIGNING_KEY")

if PRODUCTION:
    if not _secret_key or _secret_key == DEFAULT_SECRET_KEY or len(_secret_key) < 50:
        raise ImproperlyConfigured(
            "Production mode needs ACCORD_SECRET_KEY (or ACCORD_SECRET_KEY_FILE): at least 50 "
            "random characters, e.g. python -c 'import secrets; print(secrets.token_urlsafe(64))'."
        )
    if not _field_keys:
        raise ImproperlyConfigured(
            "Production mode needs ACCORD_FIELD_KEYS (or ACCORD_FIELD_KEYS_FILE): comma-separated "
            "id:key pairs of 32-byte url-safe base64 keys, the first one current; "
            "`accord keys new` prints one."
        )
elif TESTING:
    _secret_key = _secret_key or "test-secret-key-" + "x" * 50
    _field_keys = _field_keys or "t1:" + base64.urlsafe_b64encode(b"\x01" * 32).decode()
    _audit_key = _audit_key or base64.urlsafe_b64encode(b"\x02" * 32).decode()
else:
    _secret_key = _secret_key or _kept_secret("secret_key", lambda: secrets.token_urlsafe(64))
    _field_keys = _field_keys or _kept_secret("field_keys", _new_field_key)
    _audit_key = _audit_key or _kept_secret(
        "audit_signing_key", lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    )

SECRET_KEY = _secret_key
FIELD_KEYS = _field_keys
# Ed25519 private key (32 raw bytes, url-safe base64) that signs audit checkpoints; optional
# in production (checkpoints are then not signed and `accord audit checkpoint` refuses).
AUDIT_SIGNING_KEY = _audit_key

DEBUG = envbool("ACCORD_DEBUG") and not PRODUCTION
ALLOWED_HOSTS = [
    h.strip()
    for h in (env("ACCORD_ALLOWED_HOSTS") or ("" if PRODUCTION else "127.0.0.1,localhost")).split(
        ","
    )
    if h.strip()
]
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "Production mode needs ACCORD_ALLOWED_HOSTS: the host names Accord answers to, "
        "comma-separated (e.g. accord.county.example)."
    )
if TESTING:
    ALLOWED_HOSTS = ["*"]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in (env("ACCORD_CSRF_TRUSTED_ORIGINS") or "").split(",") if o.strip()
]

# --- applications ---------------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_tasks",
    "django_tasks_db",
    "csp",
    "ninja",
    "accord.core",
    "accord.audit",
    "accord.directory",
    "accord.accounts",
    "accord.policy",
    "accord.consent",
    "accord.agreements",
    "accord.people",
    "accord.cases",
    "accord.exchange",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "accord.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accord.accounts.middleware.SessionPolicyMiddleware",
    "accord.accounts.middleware.SignInGateMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "accord.urls"
WSGI_APPLICATION = "accord.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:sign-in"
LOGIN_REDIRECT_URL = "core:home"

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
                "accord.core.context_processors.accord",
            ],
        },
    }
]

# --- database -------------------------------------------------------------------------------

_database_url = env("ACCORD_DATABASE_URL") or f"sqlite:///{VAR_DIR / 'accord.sqlite3'}"
_db: dict[str, Any] = dict(dj_database_url.parse(_database_url, conn_max_age=0))
if _db["ENGINE"] == "django.db.backends.sqlite3":
    if not str(_db["NAME"]).startswith(":memory:"):
        Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    _db["OPTIONS"] = {
        # Writers take the lock at BEGIN, so a read-then-write (the audit chain head) cannot
        # be overtaken by another writer between the read and the write.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        # A 64 MB page cache (the default is 2 MB) and reads through a memory map, for a
        # county's gigabytes of person keys: worth a few per cent on bulk loads, nothing
        # measurable on conflict checks (docs/benchmarks.md).
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            f"PRAGMA cache_size=-{envint('ACCORD_SQLITE_CACHE_KB', 65536)}; "
            f"PRAGMA mmap_size={envint('ACCORD_SQLITE_MMAP_MB', 2048) * 1024 * 1024};"
        ),
    }
    # Kept open between requests and tasks: closing the last connection to a WAL database
    # checkpoints it, and the worker spent a third of its time closing (bench/exchange_*).
    _db["CONN_MAX_AGE"] = envint("ACCORD_DB_CONN_MAX_AGE", 60)
    # A file (not :memory:) so live-server and worker-process tests share it; one per process
    # so concurrent test runs never share a database.
    _db["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / f"accord-test-{os.getpid()}.sqlite3")}
else:
    _db["CONN_MAX_AGE"] = envint("ACCORD_DB_CONN_MAX_AGE", 60)
    _db["CONN_HEALTH_CHECKS"] = True
    _db["TEST"] = {"NAME": "test_accord"}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- background work ------------------------------------------------------------------------

TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend"
        if envbool("ACCORD_TASKS_IMMEDIATE")
        else "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

# --- authentication -------------------------------------------------------------------------

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 at production cost makes a suite of hundreds of sign-ins slow; tests that check
    # the hasher itself ask for Argon2 explicitly.
    PASSWORD_HASHERS = [
        "accord.accounts.hashers.FastArgon2PasswordHasher",
        *PASSWORD_HASHERS,
    ]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "accord.accounts.passwords.LengthValidator"},
    {"NAME": "accord.accounts.passwords.PrintableValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
]

# CJIS Security Policy 5.5.3 (lockout) and 5.5.5 (session lock): 5 tries in 15 minutes,
# 30 minutes idle, 12 hours at most.
LOCKOUT_THRESHOLD = 5
LOCKOUT_WINDOW_SECONDS = 15 * 60
SESSION_IDLE_SECONDS = 30 * 60
SESSION_ABSOLUTE_SECONDS = 12 * 60 * 60
REAUTH_SECONDS = 10 * 60
SESSION_COOKIE_AGE = SESSION_IDLE_SECONDS
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
OTP_TOTP_ISSUER = "Accord"
# Demo mode only: the sign-in page lists demo accounts with their current one-time codes.
# Production can never turn this on (accounts.views checks PRODUCTION as well).
DEMO_SHOW_CODES = DEMO and envbool("ACCORD_DEMO_SHOW_CODES", "True")

# --- security headers -----------------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_SSL_REDIRECT = envbool("ACCORD_SSL_REDIRECT", "True")
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = envint("ACCORD_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# --- static files, email, i18n --------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if not PRODUCTION
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
MEDIA_ROOT = VAR_DIR / "media"
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise serves from finders here

EMAIL_BACKEND = env("ACCORD_EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = env("ACCORD_EMAIL_HOST") or "localhost"
EMAIL_PORT = envint("ACCORD_EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env("ACCORD_FROM_EMAIL") or "accord@localhost"
# Text messages (accord.exchange.sms): a backend class by dotted path. Unset in production
# means no text messages; the demo prints them, the tests keep them in memory.
ACCORD_SMS_BACKEND = env("ACCORD_SMS_BACKEND") or (
    ""
    if PRODUCTION
    else "accord.exchange.sms.LocmemBackend"
    if TESTING
    else "accord.exchange.sms.ConsoleBackend"
)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("ACCORD_TIME_ZONE") or "America/Chicago"
USE_I18N = False
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "accord": {"level": env("ACCORD_LOG_LEVEL") or "INFO"},
        "django_tasks_db": {"level": "WARNING"},
    },
}

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 500
