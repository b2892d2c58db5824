"""A cancel and a worker's start that meet on one queued import resolve to exactly one winner
(issue 19): both are one conditional UPDATE of the job's row, so the second waits for the
first's row lock and then finds the job no longer queued."""
import threading
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from kyros_web.auth.models import User
from kyros_web.errors import ValidationFailed
from kyros_web.extensions import db
from kyros_web.jobs import services as jobs
from kyros_web.jobs.models import Job, JobStatus
from kyros_web.models import Location
from kyros_web.uploads import services

from ..conftest import PG_URL

ROUNDS = 10
CONFIG = {"KYROS_OTB_POLICY": "warn", "KYROS_OVER_RECEIPT_TOLERANCE": D("0"),
          "KYROS_MAX_UPLOAD_MB": 25, "KYROS_JOB_STALE_SECONDS": 60}

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="row locks are PostgreSQL's; set KYROS_TEST_DATABASE_URL (CI does)")


def test_a_cancel_and_a_start_of_one_import_have_one_winner(app, make, session):
    """Every round: either the cancel wins (the worker does nothing, nothing is written) or
    the start wins (the cancel is refused and the import writes its row)."""
    admin_id = make.admin.id
    winners = set()
    for n in range(ROUNDS):
        admin = session.get(User, admin_id)
        upload = services.preview_upload(session, admin, kind="locations",
                                         data=f"name,type\nRace store {n},store\n".encode(),
                                         file_name="race.csv", season=None, config=CONFIG)
        job, _ = services._new_commit_job(session, admin, upload.id)
        upload_id, job_id = upload.id, job.id
        session.remove()
        meet = threading.Barrier(2)
        outcomes, errors = {}, []

        def cancel():
            with app.app_context():
                try:
                    meet.wait()
                    services.cancel_upload_job(db.session, db.session.get(User, admin_id),
                                               upload_id)
                    outcomes["cancel"] = True
                except ValidationFailed:
                    outcomes["cancel"] = False
                except Exception as exc:  # reported below
                    errors.append(exc)
                finally:
                    db.session.remove()

        def start():
            with app.app_context():
                try:
                    meet.wait()
                    outcomes["start"] = jobs.start(job_id) is not None
                except Exception as exc:  # reported below
                    errors.append(exc)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=cancel), threading.Thread(target=start)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not errors, errors
        assert sorted(outcomes.values()) == [False, True], f"round {n}: {outcomes}"
        status = session.get(Job, job_id).status
        if outcomes["cancel"]:
            winners.add("cancel")
            assert status is JobStatus.CANCELLED
        else:
            winners.add("start")
            assert status is JobStatus.RUNNING
            services._upload_work(session.get(Job, job_id), jobs.Progress(job_id, 1))
            assert session.get(Job, job_id).status is JobStatus.SUCCEEDED
        session.remove()
    written = session.scalar(select(func.count(Location.id)))
    cancelled = session.scalar(select(func.count(Job.id)).where(
        Job.status == JobStatus.CANCELLED))
    assert written + cancelled == ROUNDS
