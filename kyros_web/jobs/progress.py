"""How a job is shown (issue 19): its state in words, the time it has taken and an estimate of
the time left, from the job's record and the clock. Pure: plain values in and out."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..modelbase import as_utc
from .models import Job, JobKind, JobStatus


@dataclass(frozen=True)
class Shown:
    state: str  # queued, running, succeeded, failed, cancelled, stopped
    active: bool  # the page keeps polling
    elapsed: timedelta | None
    remaining: timedelta | None  # None: no estimate yet
    percent: int | None
    done: int  # rows gone through so far (checked)
    expected: int | None
    can_retry: bool
    message: str | None


def stopped(job: Job, now: datetime, stale_seconds: float) -> bool:
    """A running job whose worker has not been heard from for `stale_seconds`."""
    return (job.status is JobStatus.RUNNING and job.heartbeat_at is not None
            and now - as_utc(job.heartbeat_at) > timedelta(seconds=stale_seconds))


def show(job: Job, now: datetime, stale_seconds: float, stopped_message: str) -> Shown:
    """The job as its page shows it. The estimate is the time taken so far times the rows left
    over the rows done (the file's lines, or the previewed rows, are the rows expected)."""
    is_stopped = stopped(job, now, stale_seconds)
    state = "stopped" if is_stopped else job.status.value
    end = as_utc(job.finished_at) if job.finished_at else now
    elapsed = end - as_utc(job.started_at) if job.started_at else None
    done, expected = job.rows_checked, job.rows_expected
    remaining = percent = None
    if expected and done:
        percent = min(100, done * 100 // expected)
        if (job.status is JobStatus.RUNNING and not is_stopped and elapsed is not None
                and done < expected):
            remaining = elapsed * max(expected - done, 0) / done
    message = stopped_message.format(seconds=stale_seconds) if is_stopped else job.error
    return Shown(state=state, active=job.status.active and not is_stopped, elapsed=elapsed,
                 remaining=remaining, percent=percent, done=done, expected=expected,
                 can_retry=is_stopped or job.status is JobStatus.FAILED, message=message)


def clock(span: timedelta | None) -> str:
    """A span as m:ss (h:mm:ss past an hour)."""
    if span is None:
        return ""
    seconds = max(int(span.total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def is_export(kind: JobKind) -> bool:
    return kind in (JobKind.SEASON_PACK, JobKind.SEASON_DATA)
