"""`flask kyros worker` as a process apart from the app that queued the job (issue 19): it
runs the job; killed in the middle of a commit, nothing is written, the page shows the job
failed once its heartbeat is stale and its retry succeeds; a work horse killed under a live
worker is recorded failed by RQ's own handling at once."""
from __future__ import annotations

import os
import signal
import time

from sqlalchemy import func, select

from kyros_web.extensions import db
from kyros_web.jobs.models import Job, JobKind, JobStatus
from kyros_web.jobs.services import KILLED
from kyros_web.models import Location, Upload, UploadStatus

from .conftest import WorkerProcess, post_file, stores, wait_for


def job_of(upload_id, kind: JobKind) -> Job | None:
    """A fresh look at the upload's latest job of a kind (no SQLite read lock kept)."""
    db.session.remove()
    job = db.session.scalar(select(Job).where(Job.upload_id == upload_id, Job.kind == kind)
                            .order_by(Job.created_at.desc()).limit(1))
    db.session.remove()
    return job


def locations() -> int:
    count = db.session.scalar(select(func.count(Location.id)))
    db.session.remove()
    return count


def previewed_upload(browser, database_url, queue, tmp_path):
    """A file checked by a burst worker in a process of its own."""
    post_file(browser, stores(3), "stores.csv", kind="locations")
    upload_id = db.session.scalar(select(Upload.id))
    db.session.remove()
    worker = WorkerProcess(database_url, queue, tmp_path, burst=True)
    try:
        assert worker.wait() == 0, worker.output()
    finally:
        worker.close()
    assert job_of(upload_id, JobKind.PREVIEW).status is JobStatus.SUCCEEDED
    return upload_id


def horse_pid(job: Job) -> int:
    return int(job.worker.rsplit(":", 1)[1])


def test_a_worker_killed_mid_commit_writes_nothing_and_its_retry_succeeds(
        app, queue, login, database_url, tmp_path):
    app.config["KYROS_JOB_STALE_SECONDS"] = 3
    b = login("planner")
    upload_id = previewed_upload(b, database_url, queue, tmp_path)
    assert b.post(f"/uploads/{upload_id}/confirm").status_code == 303
    db.session.remove()
    worker = WorkerProcess(database_url, queue, tmp_path, KYROS_JOB_TEST_HOLD_SECONDS=120,
                           KYROS_JOB_STALE_SECONDS=3)
    try:
        if db.engine.dialect.name == "postgresql":
            # Progress is written in its own transaction: seen while the rows are not.
            running = wait_for(lambda: (job := job_of(upload_id, JobKind.COMMIT))
                               and job.rows_written == 3 and job, what="rows written")
        else:
            # SQLite has one writer: the commit's progress shows only at its end.
            running = wait_for(lambda: (job := job_of(upload_id, JobKind.COMMIT))
                               and job.status is JobStatus.RUNNING and job, what="running")
            time.sleep(1.5)
        assert running.status is JobStatus.RUNNING and locations() == 0
        worker.kill()  # the worker first, so that nothing is left to record the death
        os.kill(horse_pid(running), signal.SIGKILL)
    finally:
        worker.close()
    assert locations() == 0
    assert db.session.get(Upload, upload_id).status is UploadStatus.PREVIEWED
    db.session.remove()

    def shown_stopped():
        page = b.get(f"/uploads/{upload_id}").get_data(as_text=True)
        db.session.remove()
        return "failed (the worker stopped)" in page and page
    page = wait_for(shown_stopped, timeout=30, what="the job shown stopped")
    assert "The worker running this job stopped before it finished" in page
    assert ">Retry</button>" in page and 'hx-trigger="every 1s"' not in page
    assert job_of(upload_id, JobKind.COMMIT).status is JobStatus.RUNNING  # as it was left

    assert b.post(f"/uploads/{upload_id}/retry").status_code == 303
    db.session.remove()
    assert job_of(upload_id, JobKind.COMMIT).status is JobStatus.QUEUED
    again = WorkerProcess(database_url, queue, tmp_path, burst=True)
    try:
        assert again.wait() == 0, again.output()
    finally:
        again.close()
    commit = job_of(upload_id, JobKind.COMMIT)
    assert (commit.status, commit.attempts, commit.rows_written) == (JobStatus.SUCCEEDED, 2, 3)
    assert locations() == 3
    assert db.session.get(Upload, upload_id).status is UploadStatus.COMMITTED
    page = b.get(f"/uploads/{upload_id}").get_data(as_text=True)
    assert "Committed: every row was written." in page


def test_a_work_horse_killed_under_a_live_worker_is_failed_at_once(
        app, queue, login, database_url, tmp_path):
    """RQ's worker sees its work horse die and the job is failed without waiting for the
    heartbeat to go stale."""
    app.config["KYROS_JOB_STALE_SECONDS"] = 600
    b = login("planner")
    upload_id = previewed_upload(b, database_url, queue, tmp_path)
    b.post(f"/uploads/{upload_id}/confirm")
    db.session.remove()
    worker = WorkerProcess(database_url, queue, tmp_path, KYROS_JOB_TEST_HOLD_SECONDS=120)
    try:
        running = wait_for(lambda: (job := job_of(upload_id, JobKind.COMMIT))
                           and job.status is JobStatus.RUNNING and job, what="running")
        time.sleep(1)
        os.kill(horse_pid(running), signal.SIGKILL)
        failed = wait_for(lambda: (job := job_of(upload_id, JobKind.COMMIT))
                          and job.status is JobStatus.FAILED and job, what="failed")
    finally:
        worker.close()
    assert failed.error == KILLED and locations() == 0
    page = b.get(f"/uploads/{upload_id}").get_data(as_text=True)
    assert KILLED in page and ">Retry</button>" in page
