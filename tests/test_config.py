"""Configuration from the environment (SPEC §10)."""
import pytest

from kyros_web import create_app
from kyros_web.config import ConfigError, load_config


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("KYROS_INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("KYROS_SECRET_KEY", raising=False)
    monkeypatch.delenv("KYROS_ENV", raising=False)
    return monkeypatch


def test_production_without_secret_key_stops(env):
    env.setenv("KYROS_ENV", "production")
    with pytest.raises(ConfigError, match="KYROS_SECRET_KEY is not set"):
        create_app()


def test_production_with_secret_key_sets_secure_cookies(env):
    env.setenv("KYROS_ENV", "production")
    env.setenv("KYROS_SECRET_KEY", "x" * 64)
    config = load_config()
    assert config["SECRET_KEY"] == "x" * 64 and config["SESSION_COOKIE_SECURE"] is True


def test_development_key_is_generated_once(env, tmp_path):
    first = load_config()["SECRET_KEY"]
    assert (tmp_path / "secret_key").read_text() == first and len(first) == 64
    assert load_config()["SECRET_KEY"] == first


def test_default_database_is_sqlite_in_instance(env, tmp_path):
    env.delenv("KYROS_DATABASE_URL", raising=False)
    assert load_config()["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'kyros.db'}"


@pytest.mark.parametrize("name,value,message", [
    ("KYROS_OTB_POLICY", "maybe", "warn' or 'block"),
    ("KYROS_OVER_RECEIPT_TOLERANCE", "-1", "0 or more"),
    ("KYROS_OVER_RECEIPT_TOLERANCE", "lots", "number"),
    ("KYROS_MAX_UPLOAD_MB", "0", "greater than 0"),
    ("KYROS_UPLOAD_CHECK_SECONDS", "soon", "KYROS_UPLOAD_CHECK_SECONDS must be a whole number"),
    ("KYROS_ENV", "staging", "development' or 'production"),
    ("KYROS_GRN_DAYS_AHEAD", "-1", "KYROS_GRN_DAYS_AHEAD must be a whole number of 0 or more"),
    ("KYROS_TODAY", "30/11/2026", "KYROS_TODAY must be a date written YYYY-MM-DD"),
    ("KYROS_JOB_TIMEOUT", "0", "KYROS_JOB_TIMEOUT must be greater than 0"),
    ("KYROS_JOB_STALE_SECONDS", "nan", "KYROS_JOB_STALE_SECONDS must be 0 or more seconds"),
    ("KYROS_JOB_STALE_SECONDS", "a minute", "must be a number of seconds"),
])
def test_bad_settings_are_named(env, name, value, message):
    env.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load_config()


def test_settings_are_read(env):
    env.setenv("KYROS_OTB_POLICY", "BLOCK")
    env.setenv("KYROS_OVER_RECEIPT_TOLERANCE", "2.5")
    env.setenv("KYROS_MAX_UPLOAD_MB", "10")
    config = load_config()
    assert config["KYROS_OTB_POLICY"] == "block"
    assert str(config["KYROS_OVER_RECEIPT_TOLERANCE"]) == "2.5"
    assert config["MAX_CONTENT_LENGTH"] > 10 * 1024 * 1024
    assert load_config()["KYROS_UPLOAD_CHECK_SECONDS"] == 40
    env.setenv("KYROS_UPLOAD_CHECK_SECONDS", "15")
    assert load_config()["KYROS_UPLOAD_CHECK_SECONDS"] == 15
    assert config["KYROS_GRN_DAYS_AHEAD"] == 7
    env.setenv("KYROS_GRN_DAYS_AHEAD", "0")
    assert load_config()["KYROS_GRN_DAYS_AHEAD"] == 0


def test_job_settings_are_read(env):
    """No queue unless a Redis URL is given (jobs then run in the request)."""
    env.delenv("KYROS_REDIS_URL", raising=False)
    config = load_config()
    assert (config["KYROS_REDIS_URL"], config["KYROS_JOB_QUEUE"], config["KYROS_JOB_TIMEOUT"],
            config["KYROS_JOB_STALE_SECONDS"], config["KYROS_JOB_TEST_HOLD_SECONDS"]) == (
        "", "kyros", 3600, 60, 0)
    env.setenv("KYROS_REDIS_URL", " redis://queue:6379/1 ")
    env.setenv("KYROS_JOB_STALE_SECONDS", "2.5")
    config = load_config()
    assert config["KYROS_REDIS_URL"] == "redis://queue:6379/1"
    assert config["KYROS_JOB_STALE_SECONDS"] == 2.5


@pytest.mark.parametrize("uri,options", [
    ("memory://", {}),
    ("redis://cache:6379/0", {"socket_connect_timeout": 1, "socket_timeout": 1}),
])
def test_rate_limit_store_falls_back_and_times_out(env, uri, options):
    """A silent Redis costs a login about a second, then counts go on in memory."""
    env.setenv("KYROS_RATELIMIT_STORAGE_URI", uri)
    config = load_config()
    assert config["RATELIMIT_STORAGE_URI"] == uri
    assert config["RATELIMIT_STORAGE_OPTIONS"] == options
    assert config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] is True
    assert config["RATELIMIT_SWALLOW_ERRORS"] is True


def test_one_clock_for_the_app(env, app, session, make):
    """KYROS_TODAY fixes "today" for every rule that asks: here a GRN's "too far ahead"."""
    from datetime import date

    from kyros_web import clock
    from kyros_web.errors import ValidationFailed
    from kyros_web.purchasing.services import create_grn, create_po
    from kyros_web.seasons.workflow import SeasonStatus

    env.setenv("KYROS_TODAY", "2026-02-10")
    assert load_config()["KYROS_TODAY"] == date(2026, 2, 10)
    env.delenv("KYROS_TODAY")
    assert load_config()["KYROS_TODAY"] is None
    assert clock.today() == date.today()
    season = make.season(SeasonStatus.RANGE_UPLOADED)
    po = create_po(session, make.admin, season.id, po_number="CLOCK-1",
                   location_id=season.test_locations[0].id,
                   category_id=season.test_leaves[0].id, po_value="100",
                   order_date=date(2026, 2, 1), delivery_date=date(2026, 2, 20)).po
    app.config["KYROS_TODAY"] = date(2026, 2, 10)
    try:
        assert clock.today() == date(2026, 2, 10)
        with pytest.raises(ValidationFailed, match="grn_date|ahead|future|after"):
            create_grn(session, make.admin, po_id=po.id, grn_number="CLOCK-G1",
                       grn_date=date(2026, 2, 20), received_value="10")
        create_grn(session, make.admin, po_id=po.id, grn_number="CLOCK-G2",
                   grn_date=date(2026, 2, 17), received_value="10")
    finally:
        app.config["KYROS_TODAY"] = None
