"""The record of every uploaded file, committed or rejected (SPEC §2, §6)."""
from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..extensions import db
from ..modelbase import IdMixin, fk, str_enum
from ..versions import SEASON_DATA


class UploadKind(StrEnum):
    LOCATIONS = "locations"
    CATEGORIES = "categories"
    PLANS = "plans"
    OTB = "otb"
    RANGE = "range"
    POS = "pos"
    GRNS = "grns"
    ACTUALS = "actuals"


class UploadStatus(StrEnum):
    # Stored, its rows being checked by a background job (issue 19); no counts yet.
    PENDING = "pending"
    PREVIEWED = "previewed"
    COMMITTED = "committed"
    REJECTED = "rejected"
    # Its check was cancelled before it finished: nothing was written, the file is dropped.
    CANCELLED = "cancelled"



class Upload(IdMixin, db.Model):
    __tablename__ = "uploads"
    __version_scope__ = SEASON_DATA
    __table_args__ = (
        CheckConstraint(
            "rows_total >= 0 AND rows_new >= 0 AND rows_updated >= 0"
            " AND rows_unchanged >= 0 AND rows_rejected >= 0",
            name="counts_non_negative",
        ),
    )

    kind: Mapped[UploadKind] = mapped_column(str_enum(UploadKind, "upload_kind"), nullable=False,
                                             index=True)
    season_id: Mapped[uuid.UUID | None] = fk("seasons.id", nullable=True)
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    rows_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_new: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_updated: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_unchanged: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    status: Mapped[UploadStatus] = mapped_column(str_enum(UploadStatus, "upload_status"),
                                                 nullable=False, index=True)
    user_id: Mapped[uuid.UUID] = fk("users.id")
    # "file" from the upload page or the CLI, "api" for a bulk write of the JSON API.
    source: Mapped[str] = mapped_column(String(10), nullable=False, default="file",
                                        server_default="file")
    # The file waits here between preview and confirm: app hosts share nothing else.
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    # What the preview found: the first errors, warnings, unknown columns, OTB impact.
    summary: Mapped[dict | None] = mapped_column(JSON)
    # Every rejected row as it was in the file plus its errors: a gzip-compressed CSV made
    # once at preview, so downloading it never reads the file again.
    rejected_csv: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))

    user = relationship("User")
    season = relationship("Season")
