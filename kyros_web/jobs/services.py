"""Background jobs (issue 19): every move between a job's states is one conditional UPDATE
whose row count says whether it happened, so a cancel and a worker's start that meet resolve
to exactly one winner; progress and heartbeats are written in short transactions of their
own, never inside the work's transaction, so any page sees them while the work runs; and
`execute` runs a job's work on a worker and records how it ended.

States: queued → running → succeeded | failed; queued → cancelled (and running → cancelled
where the domain allows it, e.g. a preview); failed, or running without a heartbeat, →
queued again (retry)."""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from datetime import timedelta
from typing import Callable

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ..errors import DomainError
from ..extensions import db
from ..modelbase import utcnow
from . import queue
from .models import Job, JobKind, JobStatus

log = logging.getLogger(__name__)

# Rows between two looks at the clock, and seconds between two progress writes.
PROGRESS_EVERY_ROWS = 1000
PROGRESS_EVERY_SECONDS = 0.5
# A worker writes its heartbeat this many times within the stale window.
HEARTBEATS_PER_WINDOW = 6
STOPPED = ("The worker running this job stopped before it finished (nothing was heard from it "
           "for {seconds:g} seconds); nothing was written.")
KILLED = "The worker process running this job was killed; nothing was written."


class JobStopped(Exception):
    """The job is no longer running as far as its record says (cancelled, or given up as
    stopped): its work stops, and its transaction rolls back."""


def _moved(session_or_connection, job_id: uuid.UUID, from_: tuple[JobStatus, ...],
           where=None, **values) -> bool:
    """One conditional UPDATE of the job's row: True when it moved (the row was in one of
    `from_`, and `where` held)."""
    stmt = (update(Job).where(Job.id == job_id, Job.status.in_(from_))
            .values(updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False))
    if where is not None:
        stmt = stmt.where(where)
    return session_or_connection.execute(stmt).rowcount == 1


def create(session: Session, user, kind: JobKind, **fields) -> Job:
    """A queued job in the caller's transaction (it reaches the queue once that commits)."""
    job = Job(kind=kind, status=JobStatus.QUEUED, user_id=user.id, **fields)
    session.add(job)
    session.flush()
    return job


def submit(session: Session, job_id: uuid.UUID, config) -> None:
    """Put a committed, queued job on the queue. When Redis does not answer the job is
    failed at once with a message saying so (a retry puts it on the queue again)."""
    job = session.get(Job, job_id)
    try:
        queue.enqueue(config, job)
    except Exception as exc:  # redis' errors, whatever the cause
        log.warning("job %s not queued: %s", job_id, exc)
        _moved(session, job_id, (JobStatus.QUEUED,), status=JobStatus.FAILED,
               finished_at=utcnow(),
               error="The job queue did not answer, so the job was not started; nothing was "
                     "written. Try again in a moment.")
        session.commit()
        session.expire(job)


def start(job_id: uuid.UUID) -> int | None:
    """queued → running, in a transaction of its own: the attempt's number, or None when the
    job was cancelled (or already taken) first. Later writes of this run name the attempt,
    so a worker given up as stopped whose job was retried cannot write over the retry."""
    moment = utcnow()
    with db.engine.begin() as connection:
        if not _moved(connection, job_id, (JobStatus.QUEUED,), status=JobStatus.RUNNING,
                      started_at=moment, heartbeat_at=moment, attempts=Job.attempts + 1,
                      worker=f"{socket.gethostname()}:{os.getpid()}"[:120]):
            return None
        return connection.scalar(select(Job.attempts).where(Job.id == job_id))


def cancel(session: Session, job: Job, *, while_running: bool = False) -> bool:
    """queued → cancelled (and running → cancelled when `while_running`), in the caller's
    transaction: False when a worker started it first (or it had ended)."""
    allowed = (JobStatus.QUEUED, JobStatus.RUNNING) if while_running else (JobStatus.QUEUED,)
    return _moved(session, job.id, allowed, status=JobStatus.CANCELLED, finished_at=utcnow())


def finish(session: Session, job_id: uuid.UUID, progress: "Progress | None" = None,
           **values) -> None:
    """running → succeeded inside the work's own transaction, so the work's rows and the
    job's success commit together (with the last counts of `progress`); JobStopped when the
    job was cancelled or given up."""
    where = None
    if progress is not None:
        values = {**progress.counts, **values}
        where = _this_attempt(progress.attempt)
    if not _moved(session, job_id, (JobStatus.RUNNING,), where=where,
                  status=JobStatus.SUCCEEDED, finished_at=utcnow(), **values):
        raise JobStopped(str(job_id))


def fail(job_id: uuid.UUID, message: str, *, attempt: int | None = None,
         worker: str | None = None) -> bool:
    """queued or running → failed with its message, in a transaction of its own; only the
    run of `attempt`, or the run of `worker` ("host:pid"), when given (a retry of the job
    that is running meanwhile is left alone)."""
    where = _this_attempt(attempt)
    if worker is not None:
        where = Job.worker == worker
    with db.engine.begin() as connection:
        return _moved(connection, job_id, (JobStatus.QUEUED, JobStatus.RUNNING), where=where,
                      status=JobStatus.FAILED, finished_at=utcnow(), error=message[:2000])


def retry(session: Session, job: Job, stale_seconds: float) -> bool:
    """failed, or running with no heartbeat for `stale_seconds` (its worker stopped), →
    queued again with its progress cleared, in the caller's transaction; False otherwise."""
    cutoff = utcnow() - timedelta(seconds=stale_seconds)
    stopped = or_(Job.status == JobStatus.FAILED, Job.heartbeat_at < cutoff)
    return _moved(session, job.id, (JobStatus.FAILED, JobStatus.RUNNING), where=stopped,
                  status=JobStatus.QUEUED, error=None, rows_read=0, rows_checked=0,
                  rows_written=0, started_at=None, heartbeat_at=None, finished_at=None,
                  worker=None, content=None)


def worker_killed(job_id: str, pid: int | None) -> None:
    """RQ saw the work horse `pid` of this host die: the job it was running failed (its
    transaction never committed)."""
    worker = f"{socket.gethostname()}:{pid}"[:120] if pid else None
    fail(uuid.UUID(job_id), KILLED, worker=worker)


def _this_attempt(attempt: int | None):
    return None if attempt is None else Job.attempts == attempt


def _write_running(job_id: uuid.UUID, attempt: int | None, **values) -> bool | None:
    """Update a running job's row in a short transaction of its own: True when written,
    False when the job is no longer running, None when the database was busy (SQLite has
    one writer at a time: progress is skipped rather than waited for)."""
    with db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _busy_timeout(connection, 100)
        try:
            moved = _moved(connection, job_id, (JobStatus.RUNNING,),
                           where=_this_attempt(attempt), **values)
            connection.commit()
            return moved
        except OperationalError:
            connection.rollback()
            if not sqlite:
                raise
            return None
        finally:
            if sqlite:
                _busy_timeout(connection, 10000)


def _busy_timeout(connection, milliseconds: int) -> None:
    """How long SQLite waits for another writer, set on the driver's connection (outside any
    transaction)."""
    connection.connection.dbapi_connection.execute(f"PRAGMA busy_timeout = {int(milliseconds)}")


class Progress:
    """Told the rows read, checked and written as the engine goes; writes them with the
    heartbeat at most every PROGRESS_EVERY_SECONDS (and always at the end), and raises
    JobStopped when the job was cancelled or given up meanwhile."""

    def __init__(self, job_id: uuid.UUID, attempt: int | None = None,
                 every: float = PROGRESS_EVERY_SECONDS):
        self.job_id, self.attempt, self.every = job_id, attempt, every
        self.last = time.monotonic()
        # The latest counts, written by `finish` with the job's end whatever was skipped.
        self.counts: dict[str, int] = {}

    def __call__(self, read: int, checked: int, written: int, *, final: bool = False) -> None:
        self.counts = {"rows_read": read, "rows_checked": checked, "rows_written": written}
        moment = time.monotonic()
        if not final and moment - self.last < self.every:
            return
        self.last = moment
        if _write_running(self.job_id, self.attempt, heartbeat_at=utcnow(),
                          **self.counts) is False:
            raise JobStopped(str(self.job_id))


class Heartbeat(threading.Thread):
    """Writes the job's heartbeat every `every` seconds while its work runs, so that a worker
    killed outright (no chance to say so) shows as stopped once the heartbeat goes stale."""

    def __init__(self, app, job_id: uuid.UUID, attempt: int, every: float):
        super().__init__(name=f"heartbeat-{job_id}", daemon=True)
        self.app, self.job_id, self.attempt, self.every = app, job_id, attempt, every
        self.stopping = threading.Event()

    def run(self) -> None:
        with self.app.app_context():
            while not self.stopping.wait(self.every):
                try:
                    _write_running(self.job_id, self.attempt, heartbeat_at=utcnow())
                except Exception:  # a missed beat is retried at the next one
                    log.exception("heartbeat of job %s not written", self.job_id)
            db.session.remove()

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)


def execute(job_id: str, work: Callable[[Job, Progress], None]) -> str:
    """Run a queued job on this worker: take it (queued → running; nothing to do when it was
    cancelled first), run `work(job, progress)` with a heartbeat beside it, and record a
    refusal (a domain error: its message) or a crash as failed. `work` ends its own
    transaction with `finish`. Returns what happened, for RQ's log."""
    app = current_app._get_current_object()
    job_uuid = uuid.UUID(job_id)
    attempt = start(job_uuid)
    if attempt is None:
        return "not started: cancelled or taken"
    stale = app.config["KYROS_JOB_STALE_SECONDS"]
    heartbeat = Heartbeat(app, job_uuid, attempt, max(stale / HEARTBEATS_PER_WINDOW, 0.1))
    heartbeat.start()
    try:
        work(db.session.get(Job, job_uuid), Progress(job_uuid, attempt))
        return "succeeded"
    except JobStopped:
        db.session.rollback()
        return "stopped: cancelled or given up"
    except DomainError as exc:
        db.session.rollback()
        fail(job_uuid, exc.message, attempt=attempt)
        return f"refused: {exc.message}"
    except Exception as exc:
        db.session.rollback()
        timeout = type(exc).__name__ == "JobTimeoutException"
        limit = app.config["KYROS_JOB_TIMEOUT"]
        fail(job_uuid, attempt=attempt, message=(
            f"The job ran longer than {limit} seconds and was stopped; nothing was written."
            if timeout else "The job failed unexpectedly; nothing was written. The error is "
                            "in the worker's log."))
        raise  # RQ records it among its failed jobs, with the traceback
    finally:
        heartbeat.stop()
