"""A property-based run of the whole OpenAPI document (issue 18, evidence): schemathesis
generates requests for every operation from the document; no answer may be a 5xx, and every
answer must match its documented schema and content type."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from kyros_web.auth.tokens import create_token
from kyros_web.extensions import db
from kyros_web.seasons.workflow import SeasonStatus



def _loaded():
    """The document as the app serves it, read at collection from an app of its own (the
    document needs no data); the tests then call the suite's app (see below)."""
    from kyros_web import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


schema = _loaded()


@pytest.fixture
def admin_token(make):
    """An admin's token, and a season in progress so paths by code can hit data."""
    admin = make.user("admin")
    make.season(status=SeasonStatus.RANGE_UPLOADED)
    return create_token(db.session, None, admin, name="fuzz").secret


@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_within_its_document(case, app, admin_token):
    # Sent to the suite's app (its test database), in process.
    case.call_and_validate(
        session=app.test_client(), headers={"Authorization": f"Bearer {admin_token}"},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance])
