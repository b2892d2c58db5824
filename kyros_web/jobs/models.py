"""The record of a background job (issue 19): what it does, where it stands, its progress and
heartbeat, and the file it built. It lives in the database, so any app host's page shows it."""
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (CheckConstraint, DateTime, ForeignKey, Index, Integer, LargeBinary, String,
                        Text, Uuid)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..extensions import db
from ..modelbase import IdMixin, fk, str_enum
from ..versions import NOT_VERSIONED


class JobKind(StrEnum):
    PREVIEW = "preview"  # check every row of a stored upload
    COMMIT = "commit"  # write a previewed upload, one transaction
    SEASON_PACK = "season_pack"  # the season pack as a workbook
    SEASON_DATA = "season_data"  # the season's data workbook

    @property
    def title(self) -> str:
        return {"preview": "Checking the file", "commit": "Writing the rows",
                "season_pack": "Season pack (XLSX)",
                "season_data": "Season data (XLSX)"}[self.value]


# What a worker runs for each kind, as RQ's dotted path: the domains own the work, and the
# job machinery never imports them.
TASKS = {JobKind.PREVIEW: "kyros_web.uploads.services.run_upload_job",
         JobKind.COMMIT: "kyros_web.uploads.services.run_upload_job",
         JobKind.SEASON_PACK: "kyros_web.exports.services.run_export_job",
         JobKind.SEASON_DATA: "kyros_web.exports.services.run_export_job"}


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        return self in (JobStatus.QUEUED, JobStatus.RUNNING)


class Job(IdMixin, db.Model):
    __tablename__ = "jobs"
    # Progress and heartbeats are no figures: they move no data version.
    __version_scope__ = NOT_VERSIONED
    __table_args__ = (
        CheckConstraint("rows_read >= 0 AND rows_checked >= 0 AND rows_written >= 0",
                        name="progress_non_negative"),
        # A finished job says when; a running one since when.
        CheckConstraint("status NOT IN ('succeeded', 'failed', 'cancelled')"
                        " OR finished_at IS NOT NULL", name="finished_has_time"),
        CheckConstraint("status <> 'running' OR started_at IS NOT NULL",
                        name="running_has_start"),
        Index("ix_jobs_upload_id_created_at", "upload_id", "created_at"),
        Index("ix_jobs_export", "season_id", "kind", "data_version"),
    )

    kind: Mapped[JobKind] = mapped_column(str_enum(JobKind, "job_kind"), nullable=False)
    status: Mapped[JobStatus] = mapped_column(str_enum(JobStatus, "job_status"), nullable=False,
                                              default=JobStatus.QUEUED, index=True)
    user_id: Mapped[uuid.UUID] = fk("users.id")
    upload_id: Mapped[uuid.UUID | None] = fk("uploads.id", nullable=True, index=False)
    # An export's season: the export is derived, so it goes with the season (a season that
    # may still be deleted has nothing else that refers to it).
    season_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("seasons.id", ondelete="CASCADE"))
    # An export is built for one version of the season's data ("season:shared" counters);
    # a request for the same version reuses it.
    data_version: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_read: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_checked: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_written: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # About how many rows the job goes through (the file's lines, or the previewed rows).
    rows_expected: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The host and process running it ("host:pid"), for an operator.
    worker: Mapped[str | None] = mapped_column(String(120))
    error: Mapped[str | None] = mapped_column(Text)
    # What an export built: the file, kept here since app hosts share only the database.
    file_name: Mapped[str | None] = mapped_column(String(255))
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))

    user = relationship("User")
    upload = relationship("Upload")
    season = relationship("Season")
