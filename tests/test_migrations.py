"""The migrations build the schema on an empty database and match the models (no drift)."""
import pytest
from flask_migrate import check, downgrade, upgrade
from sqlalchemy import inspect

from kyros_web import create_app
from kyros_web.extensions import db

from .conftest import PG_URL, create_throwaway_database, drop_database


@pytest.fixture
def empty_database(tmp_path):
    if PG_URL:
        url = create_throwaway_database(PG_URL)
        yield url
        drop_database(url)
    else:
        yield f"sqlite:///{tmp_path / 'empty.db'}"


def test_upgrade_then_check_reports_no_drift(empty_database, capsys):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "TESTING": True})
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "clusters", "locations", "categories", "seasons", "season_locations",
                "season_transitions", "season_plans", "otb_plan", "range_intents",
                "purchase_orders", "grn_records", "uploads", "audit_events"} <= tables
        check()  # exits non-zero on drift
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
