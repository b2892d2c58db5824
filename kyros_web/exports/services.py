"""Heavy exports as background jobs (issue 19): the season pack and the season's data
workbook are built by a worker and kept in the database until downloaded; a request for the
same version of the season's data reuses the file already built (or being built)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from .. import versions
from ..analytics import export, reports
from ..analytics.data import cached_fingerprint, season_tables
from ..errors import NotFound
from ..extensions import db
from ..jobs import services as jobs
from ..jobs.models import Job, JobKind, JobStatus
from ..jobs.progress import stopped
from ..modelbase import utcnow
from ..seasons.models import Season
from ..transaction import transactional

KINDS = {"pack": JobKind.SEASON_PACK, "data": JobKind.SEASON_DATA}


def data_version(session: Session, season: Season) -> str:
    """The season's data version as one string ("season counter:shared counter")."""
    season_version, shared_version = versions.current(session, season.id)
    return f"{season_version}:{shared_version}"


@transactional
def _find_or_create(session: Session, user, season: Season, kind: JobKind,
                    stale_seconds: float) -> tuple[Job, bool]:
    version = data_version(session, season)
    found = session.scalars(
        select(Job).where(Job.season_id == season.id, Job.kind == kind,
                          Job.data_version == version,
                          Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING,
                                          JobStatus.SUCCEEDED)))
        .order_by(Job.created_at.desc())).first()
    if found is not None and not stopped(found, utcnow(), stale_seconds):
        return found, False
    # The files built from older data are dropped: the database keeps one per season and kind.
    session.execute(update(Job).where(Job.season_id == season.id, Job.kind == kind,
                                      Job.status == JobStatus.SUCCEEDED,
                                      Job.file_name.is_not(None))
                    .values(content=None, file_name=None)
                    .execution_options(synchronize_session=False))
    return jobs.create(session, user, kind, season_id=season.id, data_version=version,
                       rows_expected=len(reports.PAGES) + 1 if kind is JobKind.SEASON_PACK
                       else None), True


def request_export(session: Session, user, season: Season, what: str, *, config) -> Job:
    """The job that builds `what` ("pack" or "data") for the season's data as it is now: one
    already built or being built for this version, or a new one on the queue. Every role
    may export (SPEC §4)."""
    if what not in KINDS:
        raise NotFound(f"Unknown export {what!r}")
    job, new = _find_or_create(session, user, season, KINDS[what],
                               config["KYROS_JOB_STALE_SECONDS"])
    if new:
        jobs.submit(session, job.id, config)
    return job


def get_export(session: Session, job_id: uuid.UUID) -> Job:
    """An export's job; NotFound for any other job (an upload's is shown on its upload)."""
    job = session.get(Job, job_id)
    if job is None or job.kind not in KINDS.values():
        raise NotFound("Export not found")
    return job


@transactional
def _retry(session: Session, job: Job, stale_seconds: float) -> bool:
    return jobs.retry(session, job, stale_seconds)


def retry_export(session: Session, job_id: uuid.UUID, *, config) -> Job:
    """Build a failed export (or one whose worker stopped) again; NotFound otherwise."""
    job = get_export(session, job_id)
    if not _retry(session, job, config["KYROS_JOB_STALE_SECONDS"]):
        raise NotFound("Only an export that failed, or whose worker stopped, is built again")
    jobs.submit(session, job.id, config)
    session.expire(job)
    return job


def build_data(session: Session, season: Season) -> tuple[str, bytes]:
    """(file name, body) of the season's data workbook: a sheet per table."""
    body = export.workbook(season_tables(session, season),
                           [f"Season {season.season_code} {season.name} "
                            f"({season.status.title})",
                            f"Fingerprint {cached_fingerprint(session, season)}"])
    return f"kyros-{season.season_code}-data.xlsx", body


def build_pack(session: Session, season: Season, progress=None) -> tuple[str, bytes]:
    """(file name, body) of the season pack as a workbook: every table of every analytics
    page, then the workflow status of every season; `progress` is told the pages built."""
    built = []
    for number, page in enumerate(reports.PAGES, start=1):
        built.append(reports.cached_report(session, page, season, MultiDict()))
        if progress is not None:
            progress(number, number, 0)
    built.append(reports.workflow_status(session, per_page=None))
    print_ = cached_fingerprint(session, season)
    tables = [(f"{r.title[:14]} {t.title}", t) for r in built for t in r.exported]
    body = export.workbook(tables, [f"Season pack {season.season_code} {season.name} "
                                    f"({season.status.title})", f"Fingerprint {print_}",
                                    f"Printed {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"])
    return f"kyros-{season.season_code}-pack.xlsx", body


def run_export_job(job_id: str) -> str:
    """What a worker runs for an export's job (jobs.models.TASKS)."""
    return jobs.execute(job_id, _export_work)


def _export_work(job: Job, progress) -> None:
    session = db.session
    season = session.get(Season, job.season_id)
    # The version the file is built from, read in the same transaction as its rows.
    version = data_version(session, season)
    if job.kind is JobKind.SEASON_PACK:
        name, body = build_pack(session, season, progress)
    else:
        name, body = build_data(session, season)
    progress(job.rows_expected or 1, job.rows_expected or 1, 0, final=True)
    jobs.finish(session, job.id, progress, data_version=version, file_name=name, content=body)
    session.commit()
    current_app.logger.info("export %s built: %s, %d bytes", job.id, name, len(body))
