"""Two confirms of one upload at the same moment import it once (SPEC §6).

Both threads meet at a barrier and confirm the same previewed file; the claim on the upload
row is one conditional UPDATE, so the second waits for the first and then finds it imported.
"""
import threading
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from kyros_web.auth.models import User
from kyros_web.errors import ValidationFailed
from kyros_web.extensions import db
from kyros_web.models import Location
from kyros_web.uploads import services

from ..conftest import PG_URL

ROUNDS = 10
CONFIG = {"KYROS_OTB_POLICY": "warn", "KYROS_OVER_RECEIPT_TOLERANCE": D("0"),
          "KYROS_MAX_UPLOAD_MB": 25}

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="row locks are PostgreSQL's; set KYROS_TEST_DATABASE_URL (CI does)")


def test_two_confirms_of_one_upload_import_it_once(app, make, session):
    """Every round: exactly one confirm imports, the other is told it was already imported."""
    admin_id = make.admin.id
    for n in range(ROUNDS):
        upload = services.preview_upload(session, make.admin, kind="locations",
                                         data=f"name,type\nRace store {n},store\n".encode(),
                                         file_name="race.csv", season=None, config=CONFIG)
        upload_id = upload.id
        start = threading.Barrier(2)
        outcomes, errors = [], []

        def confirm():
            with app.app_context():
                try:
                    start.wait()
                    services.commit_upload(db.session, db.session.get(User, admin_id),
                                           upload_id, config=CONFIG)
                    outcomes.append("imported")
                except ValidationFailed as exc:
                    outcomes.append(exc.message)
                except Exception as exc:  # reported below
                    errors.append(exc)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=confirm) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not errors, errors
        assert sorted(outcomes) == ["This upload was already imported; nothing was written "
                                    "again", "imported"], f"round {n}: {outcomes}"
        session.expire_all()
        assert session.scalar(select(func.count(Location.id))) == n + 1
