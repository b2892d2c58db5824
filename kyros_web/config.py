"""Settings read from KYROS_* environment variables (SPEC §10)."""
from __future__ import annotations

import os
from datetime import date
import secrets
from pathlib import Path

from .modelbase import Percent
from .values import Digits, NumberFormatError, read_decimal

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"

OTB_POLICIES = ("warn", "block")
PERCENT = Digits.of(Percent)


class ConfigError(RuntimeError):
    """A setting is missing or malformed; start-up stops with this message."""


def _secret_key(env: str, instance_dir: Path) -> str:
    key = os.environ.get("KYROS_SECRET_KEY")
    if key:
        return key
    if env == "production":
        raise ConfigError(
            "KYROS_SECRET_KEY is not set. In production the secret key must come "
            "from the environment: set KYROS_SECRET_KEY to a long random value, "
            "e.g. the output of: python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    # Development: generate once and keep it, so sessions survive restarts.
    path = instance_dir / "secret_key"
    if not path.exists():
        instance_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _setting(name: str, default: str, read):
    """A setting from the environment; `read(raw)` gives (value, None) or (None, why it is
    refused, e.g. "must be a whole number")."""
    raw = os.environ.get(name, default)
    value, problem = read(raw)
    if problem:
        raise ConfigError(f"{name} {problem}, got {raw!r}")
    return value


def _percent(raw: str):
    try:
        value = read_decimal(raw)
    except NumberFormatError:
        return None, "must be a number of percent"
    if value < 0 or PERCENT.problem(value):
        return None, f"must be a percentage of 0 or more (at most {PERCENT.largest}, 2 decimals)"
    return value, None


def _positive(raw: str):
    try:
        value = int(raw)
    except ValueError:
        return None, "must be a whole number"
    return (value, None) if value > 0 else (None, "must be greater than 0")


def _day(raw: str):
    """An ISO date, or empty for none."""
    if not raw.strip():
        return None, None
    try:
        return date.fromisoformat(raw.strip()), None
    except ValueError:
        return None, "must be a date written YYYY-MM-DD (or empty for the real date)"


def _seconds(raw: str):
    """A number of seconds, 0 or more (fractions allowed)."""
    try:
        value = float(raw)
    except ValueError:
        return None, "must be a number of seconds"
    return (value, None) if 0 <= value < 10**7 else (None, "must be 0 or more seconds")


def _count(raw: str):
    return (int(raw), None) if raw.isdigit() else (None, "must be a whole number of 0 or more")


def load_config() -> dict:
    """Build the Flask config mapping from the environment."""
    env = os.environ.get("KYROS_ENV", "development").strip().lower()
    if env not in ("development", "production"):
        raise ConfigError(f"KYROS_ENV must be 'development' or 'production', got {env!r}")
    instance_dir = Path(os.environ.get("KYROS_INSTANCE_DIR", INSTANCE_DIR))
    database_url = os.environ.get("KYROS_DATABASE_URL") or f"sqlite:///{instance_dir / 'kyros.db'}"
    policy = os.environ.get("KYROS_OTB_POLICY", "warn").strip().lower()
    if policy not in OTB_POLICIES:
        raise ConfigError(f"KYROS_OTB_POLICY must be 'warn' or 'block', got {policy!r}")
    production = env == "production"
    max_upload_mb = _setting("KYROS_MAX_UPLOAD_MB", "25", _positive)
    ratelimit_uri = os.environ.get("KYROS_RATELIMIT_STORAGE_URI", "memory://")
    return {
        "KYROS_ENV": env,
        "INSTANCE_DIR": str(instance_dir),
        "SECRET_KEY": _secret_key(env, instance_dir),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "KYROS_OTB_POLICY": policy,
        "KYROS_OVER_RECEIPT_TOLERANCE": _setting("KYROS_OVER_RECEIPT_TOLERANCE", "0", _percent),
        # Days after today a GRN may be dated (purchasing/rules.py check_receipt).
        "KYROS_GRN_DAYS_AHEAD": _setting("KYROS_GRN_DAYS_AHEAD", "7", _count),
        # The app's one clock (kyros_web/clock.py): a fixed day for demos and tests, else today.
        "KYROS_TODAY": _setting("KYROS_TODAY", "", _day),
        "KYROS_MAX_UPLOAD_MB": max_upload_mb,
        # Seconds a preview may spend checking one file before refusing it as too slow.
        "KYROS_UPLOAD_CHECK_SECONDS": _setting("KYROS_UPLOAD_CHECK_SECONDS", "40", _positive),
        # Room for multipart overhead above the file itself.
        "MAX_CONTENT_LENGTH": max_upload_mb * 1024 * 1024 + 64 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "WTF_CSRF_TIME_LIMIT": None,
        "PAGE_SIZE": 25,
        # Login throttling (Flask-Limiter); counts live in this store.
        "RATELIMIT_STORAGE_URI": ratelimit_uri,
        # When that store does not answer, logins go on with per-process counts (logged as a
        # warning) and the store is tried again later; an error there is logged, never a 500.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        # A store that does not answer costs a login at most about a second, not a hang.
        "RATELIMIT_STORAGE_OPTIONS": ({"socket_connect_timeout": 1, "socket_timeout": 1}
                                      if ratelimit_uri.startswith("redis") else {}),
        "RATELIMIT_HEADERS_ENABLED": False,
        "KYROS_LOGIN_LIMIT_PER_ACCOUNT": os.environ.get("KYROS_LOGIN_LIMIT_PER_ACCOUNT",
                                                        "5 per minute"),
        "KYROS_LOGIN_LIMIT_PER_ADDRESS": os.environ.get("KYROS_LOGIN_LIMIT_PER_ADDRESS",
                                                        "30 per minute"),
        # Proxies in front of the app whose X-Forwarded-For to trust (for client addresses).
        "KYROS_TRUSTED_PROXIES": _setting("KYROS_TRUSTED_PROXIES", "0", _count),
        # Derived figures (analytics, gates, grid totals) kept per worker, keyed on the
        # season's data version; 0 turns the cache off.
        "KYROS_FIGURE_CACHE_ENTRIES": _setting("KYROS_FIGURE_CACHE_ENTRIES", "256", _count),
        # Mail (kyros_web/mail.py): none without an SMTP server; the links in a message are
        # absolute with a base URL.
        "KYROS_SMTP_URL": _setting("KYROS_SMTP_URL", "", _smtp_url),
        "KYROS_SMTP_FROM": os.environ.get("KYROS_SMTP_FROM", "Kyros <kyros@localhost>"),
        "KYROS_SMTP_CA_FILE": os.environ.get("KYROS_SMTP_CA_FILE", ""),
        "KYROS_BASE_URL": os.environ.get("KYROS_BASE_URL", ""),
        # The JSON API (issue 18): calls per token, counted in the rate-limit store above.
        "KYROS_API_RATE_LIMIT": os.environ.get("KYROS_API_RATE_LIMIT", "600 per minute"),
        # Background jobs (issue 19): with a Redis URL, imports and heavy exports run on the
        # RQ queue `KYROS_JOB_QUEUE` (`flask kyros worker`); empty runs them in the request.
        "KYROS_REDIS_URL": os.environ.get("KYROS_REDIS_URL", "").strip(),
        "KYROS_JOB_QUEUE": os.environ.get("KYROS_JOB_QUEUE", "kyros").strip() or "kyros",
        # Longest a job may run before RQ stops it (it is then shown failed).
        "KYROS_JOB_TIMEOUT": _setting("KYROS_JOB_TIMEOUT", "3600", _positive),
        # A running job whose worker has not been heard from for this long is shown failed
        # ("the worker stopped"); its worker writes a heartbeat six times as often.
        "KYROS_JOB_STALE_SECONDS": _setting("KYROS_JOB_STALE_SECONDS", "60", _seconds),
        # Tests only: seconds a commit job holds its written rows before committing, so a
        # test can kill the worker mid-commit. 0 (the default) never waits.
        "KYROS_JOB_TEST_HOLD_SECONDS": _setting("KYROS_JOB_TEST_HOLD_SECONDS", "0", _seconds),
        "API_TITLE": "Kyros",
        "API_VERSION": "1",
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
    }


def _smtp_url(raw: str):
    """An SMTP server's URL (mail.parse_url), or empty for none."""
    from .mail import MailConfigError, parse_url

    if not raw.strip():
        return "", None
    try:
        parse_url(raw)
    except MailConfigError as exc:
        return None, f"cannot be read ({exc})"
    return raw.strip(), None
