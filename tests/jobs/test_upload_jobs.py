"""Uploads as background jobs on the real Redis (issue 19): a file is stored, checked by one
job and written by another; the page shows their progress and polls it; a job is cancelled
before its commit starts, fails with its message, and is retried; only the uploader or an
admin sees and steers it."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select, update

from kyros_web.extensions import db
from kyros_web.jobs.models import Job, JobKind, JobStatus
from kyros_web.modelbase import utcnow
from kyros_web.models import Location, SeasonPlan, Upload, UploadStatus
from kyros_web.planning.services import upsert_plan
from kyros_web.seasons.services import assign_locations
from kyros_web.seasons.workflow import SeasonStatus

from .conftest import post_file, stores, work

HX = {"HX-Request": "true"}


def only_upload() -> Upload:
    return db.session.scalar(select(Upload))


def jobs_of(upload_id) -> list[Job]:
    return db.session.scalars(select(Job).where(Job.upload_id == upload_id)
                              .order_by(Job.created_at)).all()


def locations() -> int:
    return db.session.scalar(select(func.count(Location.id)))


def test_a_file_is_checked_then_written_by_jobs(app, queue, login):
    """queued → checked (progress recorded) → previewed → confirmed → queued → written."""
    b = login("planner")
    response = post_file(b, stores(3), "stores.csv", kind="locations")
    assert response.status_code == 303
    page = b.get(response.headers["Location"]).get_data(as_text=True)
    assert "Checking the file: nothing is written until you confirm." in page
    assert "Checking the file: <span class=\"job-state\">waiting for a worker</span>" in page
    assert 'hx-trigger="every 1s"' in page and '<meta http-equiv="refresh"' in page
    assert ">Cancel</button>" in page and "Confirm import" not in page
    upload = only_upload()
    upload_id = upload.id
    assert upload.status is UploadStatus.PENDING and upload.content == stores(3)
    [check] = jobs_of(upload_id)
    assert (check.kind, check.status, check.rows_expected) == (JobKind.PREVIEW,
                                                               JobStatus.QUEUED, 3)
    polled = b.get(f"/uploads/{upload_id}/progress", headers=HX)
    assert polled.status_code == 200 and "HX-Refresh" not in polled.headers
    assert polled.get_data(as_text=True).lstrip().startswith('<section id="job-progress"')

    work(app)
    [check] = jobs_of(upload_id)
    assert check.status is JobStatus.SUCCEEDED and check.attempts == 1
    assert (check.rows_read, check.rows_checked, check.rows_written) == (3, 3, 0)
    assert check.started_at and check.finished_at and check.heartbeat_at and check.worker
    polled = b.get(f"/uploads/{upload_id}/progress", headers=HX)
    assert polled.headers["HX-Refresh"] == "true"  # ended: the page loads whole again
    page = b.get(f"/uploads/{upload_id}").get_data(as_text=True)
    assert "Preview: nothing is written until you confirm." in page
    assert "Checking the file: <span class=\"job-state\">done</span>" in page
    assert ">Confirm import</button>" in page and 'hx-trigger="every 1s"' not in page

    done = b.post(f"/uploads/{upload_id}/confirm")
    assert done.status_code == 303
    page = b.get(done.headers["Location"]).get_data(as_text=True)
    assert "Writing the rows: <span class=\"job-state\">waiting for a worker</span>" in page
    assert ">Confirm import</button>" not in page and ">Cancel</button>" in page
    assert b.post(f"/uploads/{upload_id}/confirm").status_code == 303  # twice: one job
    assert len(jobs_of(upload_id)) == 2 and locations() == 0

    work(app)
    commit = jobs_of(upload_id)[-1]
    assert (commit.kind, commit.status) == (JobKind.COMMIT, JobStatus.SUCCEEDED)
    assert (commit.rows_read, commit.rows_checked, commit.rows_written) == (3, 3, 3)
    assert only_upload().status is UploadStatus.COMMITTED and locations() == 3
    page = b.get(f"/uploads/{upload_id}").get_data(as_text=True)
    assert "Committed: every row was written." in page
    assert "Writing the rows: <span class=\"job-state\">done</span>" in page


def test_a_queued_check_is_cancelled(app, queue, login):
    """Cancelled while it waits: the upload is cancelled, its file dropped, and the worker
    that takes the job later does nothing."""
    b = login("planner")
    post_file(b, stores(2), "stores.csv", kind="locations")
    upload = only_upload()
    upload_id = upload.id
    response = b.post(f"/uploads/{upload_id}/cancel")
    assert response.status_code == 303
    page = b.get(f"/uploads/{upload_id}").get_data(as_text=True)
    assert "The check was cancelled; the file was dropped." in page
    assert "Cancelled: nothing was written, and the file was dropped." in page
    work(app)
    upload = only_upload()
    upload_id = upload.id
    assert upload.status is UploadStatus.CANCELLED and upload.content is None
    [job] = jobs_of(upload_id)
    assert job.status is JobStatus.CANCELLED and job.attempts == 0 and job.started_at is None
    assert b.post(f"/uploads/{upload_id}/cancel").status_code == 422  # nothing left to cancel


def test_a_queued_import_is_cancelled_and_confirmed_again(app, queue, login):
    """Cancelled before its commit starts: nothing is written and the file may be confirmed
    again later."""
    b = login("planner")
    post_file(b, stores(2), "stores.csv", kind="locations")
    work(app)
    upload = only_upload()
    upload_id = upload.id
    b.post(f"/uploads/{upload_id}/confirm")
    assert b.post(f"/uploads/{upload_id}/cancel").status_code == 303
    page = b.get(f"/uploads/{upload_id}").get_data(as_text=True)
    assert "The import was cancelled; nothing was written." in page
    assert ">Confirm import</button>" in page
    work(app)
    assert locations() == 0 and only_upload().status is UploadStatus.PREVIEWED
    b.post(f"/uploads/{upload_id}/confirm")
    work(app)
    assert locations() == 2 and only_upload().status is UploadStatus.COMMITTED


def test_an_import_that_started_cannot_be_cancelled(app, queue, login):
    """Once a worker took the import, cancel is refused: it writes every row or none."""
    b = login("planner")
    post_file(b, stores(1), "stores.csv", kind="locations")
    work(app)
    upload = only_upload()
    upload_id = upload.id
    b.post(f"/uploads/{upload_id}/confirm")
    commit = jobs_of(upload_id)[-1]
    db.session.execute(update(Job).where(Job.id == commit.id)
                       .values(status=JobStatus.RUNNING, started_at=func.now()))
    db.session.commit()
    page = b.get(f"/uploads/{upload_id}").get_data(as_text=True)
    assert ">Cancel</button>" not in page
    refused = b.post(f"/uploads/{upload_id}/cancel")
    assert refused.status_code == 422
    assert "can no longer be cancelled" in refused.get_data(as_text=True)


def test_a_commit_refused_at_the_worker_is_shown_failed_with_its_message(app, queue, login,
                                                                       make):
    """The row changed between preview and commit: the job fails with the rule's message,
    nothing of the file is written, and the page offers a retry."""
    season = make.season(SeasonStatus.LOCATIONS_DEFINED)
    location, leaf = make.location(), make.category()
    assign_locations(db.session, make.admin, season.id, [location.id])
    code, place, leaf_id, leaf_code = (season.season_code, location.id, leaf.id, leaf.code)
    place_code, season_id = location.location_code, season.id
    b = login("planner")
    post_file(b, (f"location_code,category_code,planned_sales,planned_margin\n"
                  f"{place_code},{leaf_code},1000,40\n").encode(), "plans.csv", kind="plans",
              season=code)
    work(app)
    upload = only_upload()
    upload_id = upload.id
    assert upload.status is UploadStatus.PREVIEWED
    b.post(f"/uploads/{upload_id}/confirm")
    upsert_plan(db.session, make.user("planner"), season_id, location_id=place,
                category_id=leaf_id, planned_sales="5", planned_margin="5")
    work(app)
    commit = jobs_of(upload_id)[-1]
    assert commit.status is JobStatus.FAILED
    assert "changed since its preview" in commit.error and "Nothing was written" in commit.error
    assert only_upload().status is UploadStatus.PREVIEWED
    assert db.session.scalar(select(SeasonPlan.planned_sales)) == Decimal("5.00")
    page = b.get(f"/uploads/{upload_id}").get_data(as_text=True)
    assert "Writing the rows: <span class=\"job-state\">failed</span>" in page
    assert "changed since its preview" in page
    assert ">Retry</button>" in page and 'hx-trigger="every 1s"' not in page


def test_a_job_the_queue_did_not_take_fails_and_is_retried(app, queue, login):
    """Redis not answering when the file is stored: the check is shown failed with a retry;
    once Redis answers, the retry runs the same check."""
    b = login("planner")
    app.config["KYROS_REDIS_URL"] = "redis://127.0.0.1:1/0"
    try:
        post_file(b, stores(2), "stores.csv", kind="locations")
    finally:
        app.config["KYROS_REDIS_URL"] = "redis://127.0.0.1:6379/9"
    upload = only_upload()
    upload_id = upload.id
    [job] = jobs_of(upload_id)
    assert job.status is JobStatus.FAILED and "job queue did not answer" in job.error
    page = b.get(f"/uploads/{upload_id}").get_data(as_text=True)
    assert "job queue did not answer" in page and ">Retry</button>" in page
    assert b.post(f"/uploads/{upload_id}/retry").status_code == 303
    work(app)
    [job] = jobs_of(upload_id)
    assert job.status is JobStatus.SUCCEEDED and job.error is None
    assert only_upload().status is UploadStatus.PREVIEWED
    assert b.post(f"/uploads/{upload_id}/retry").status_code == 422  # not failed any more


def test_only_the_uploader_or_an_admin_sees_and_steers_the_job(app, queue, login):
    """Another planner sees the upload's status but not its job, and may not poll, cancel or
    retry it; a viewer may not post at all; an admin may cancel."""
    owner = login("planner")
    post_file(owner, stores(1), "stores.csv", kind="locations")
    upload = only_upload()
    upload_id = upload.id
    other = login("planner")
    page = other.get(f"/uploads/{upload_id}").get_data(as_text=True)
    assert "Checking the file: nothing is written" in page and "job-progress" not in page
    assert other.get(f"/uploads/{upload_id}/progress").status_code == 403
    assert other.post(f"/uploads/{upload_id}/cancel").status_code == 403
    assert other.post(f"/uploads/{upload_id}/retry").status_code == 403
    assert login("viewer").post(f"/uploads/{upload_id}/cancel").status_code == 403
    assert owner.post(f"/uploads/{upload_id}/cancel", csrf=False).status_code == 400
    assert login("admin").post(f"/uploads/{upload_id}/cancel").status_code == 303
    assert only_upload().status is UploadStatus.CANCELLED


def test_a_preview_cancelled_while_running_stops_and_writes_nothing(app, queue, login):
    """A check cancelled after its worker took it: the worker's next progress report sees
    it, and its transaction rolls back (the upload stays cancelled)."""
    from kyros_web.jobs import services as jobs

    b = login("planner")
    post_file(b, stores(1), "stores.csv", kind="locations")
    upload = only_upload()
    upload_id = upload.id
    [job] = jobs_of(upload_id)
    db.session.remove()
    assert jobs.start(job.id) == 1
    assert b.post(f"/uploads/{upload_id}/cancel").status_code == 303
    db.session.remove()
    progress = jobs.Progress(job.id, 1)
    try:
        progress(1, 1, 0, final=True)
        raise AssertionError("a cancelled job's progress must stop it")
    except jobs.JobStopped:
        pass
    db.session.remove()
    assert only_upload().status is UploadStatus.CANCELLED
    assert jobs_of(upload_id)[0].status is JobStatus.CANCELLED


def test_a_worker_given_up_and_retried_cannot_write_over_the_retry(app, queue, login):
    """The first attempt's worker was given up as stopped and the job retried: that worker's
    late reports name its attempt and stop it, whatever the second attempt is doing."""
    from kyros_web.jobs import services as jobs

    b = login("planner")
    post_file(b, stores(1), "stores.csv", kind="locations")
    upload_id = only_upload().id
    [job] = jobs_of(upload_id)
    job_id = job.id
    db.session.remove()
    assert jobs.start(job_id) == 1
    db.session.execute(update(Job).where(Job.id == job_id).values(
        heartbeat_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    assert b.post(f"/uploads/{upload_id}/retry").status_code == 303
    db.session.remove()
    assert jobs.start(job_id) == 2
    late = jobs.Progress(job_id, 1)
    try:
        late(1, 1, 0, final=True)
        raise AssertionError("the first attempt's report must stop it")
    except jobs.JobStopped:
        pass
    jobs.Progress(job_id, 2)(1, 1, 0, final=True)  # the retry's own reports go on
