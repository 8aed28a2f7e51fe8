"""Django settings, read from the environment (see docs/operations.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url

from earful.config import env_bool, env_str, read_secret

EARFUL_HOME = Path(env_str("EARFUL_HOME", "var")).resolve()
BASE_DIR = Path(__file__).resolve().parent

DEBUG = env_bool("EARFUL_DEBUG", default=False)
SECRET_KEY = read_secret("EARFUL_SECRET_KEY") or "earful-insecure-development-key-change-me"
ALLOWED_HOSTS = env_str("EARFUL_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
CSRF_TRUSTED_ORIGINS = [
    origin for origin in env_str("EARFUL_CSRF_TRUSTED_ORIGINS", "").split(",") if origin
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "earful.org",
    "earful.channels",
    "earful.customers",
    "earful.conversations",
    "earful.inbox",
    "earful.feedback",
    "earful.insights",
    "earful.publishing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "earful.urls"
WSGI_APPLICATION = "earful.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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


def _database() -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL")
    if url:
        database = dict(dj_database_url.parse(url, conn_max_age=60))
    else:
        EARFUL_HOME.mkdir(parents=True, exist_ok=True)
        database = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": EARFUL_HOME / "earful.sqlite3",
        }
    # Each test run gets its own database, so concurrent runs (two developers, CI) never
    # destroy each other's; the SQLite one is a file so that subprocesses can share it.
    test_name = f"test-earful-{os.getpid()}"
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database["TEST"] = {"NAME": str(EARFUL_HOME / f"{test_name}.sqlite3")}
    else:
        database["TEST"] = {"NAME": test_name.replace("-", "_")}
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database["CONN_MAX_AGE"] = 0
        database["OPTIONS"] = {
            # WAL lets the web server read while an import writes; IMMEDIATE takes the write
            # lock at BEGIN so two writers queue instead of failing with "database is locked".
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
    return database


DATABASES = {"default": _database()}

# The triage model for organizations without their own: "best" (if its weights load,
# else "fast") when empty; "fast" labels a large backlog about 25 times faster.
EARFUL_TRIAGE_MODEL = env_str("EARFUL_TRIAGE_MODEL", "")

# Scale-out mode: with a broker URL, stored messages are processed by `earful worker`
# processes (Celery) instead of in the process that received them.
EARFUL_BROKER_URL = env_str("EARFUL_BROKER_URL", "")
CELERY_BROKER_URL = EARFUL_BROKER_URL
# Installs (or test runs) sharing one Redis keep apart by queue name.
CELERY_TASK_DEFAULT_QUEUE = env_str("EARFUL_QUEUE", "earful-pipeline")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# Acknowledge after the work is done; a task whose worker dies goes back to the queue.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web request must not hang on a broker that is down: the sweep sends the task later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5}
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
# A message still pending this long after arrival lost its task; the sweep sends it again.
EARFUL_SWEEP_AFTER_SECONDS = float(env_str("EARFUL_SWEEP_AFTER_SECONDS", "120"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Serve app static files straight from the installed packages: no collectstatic step.
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inbox:home"
LOGOUT_REDIRECT_URL = "login"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# Mail earful sends itself (SLA escalations to managers); replies to customers go through
# each email channel's own SMTP settings instead.
EMAIL_HOST = env_str("EARFUL_SMTP_HOST", "localhost")
EMAIL_PORT = int(env_str("EARFUL_SMTP_PORT", "25"))
EMAIL_HOST_USER = env_str("EARFUL_SMTP_USER", "")
EMAIL_HOST_PASSWORD = read_secret("EARFUL_SMTP_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EARFUL_SMTP_STARTTLS", default=False)
DEFAULT_FROM_EMAIL = env_str("EARFUL_FROM_EMAIL", "earful@localhost")
# Where staff reach this installation: links in the mail earful sends (alerts).
EARFUL_BASE_URL = env_str("EARFUL_BASE_URL", "http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("EARFUL_LOG_LEVEL", "WARNING")},
}
