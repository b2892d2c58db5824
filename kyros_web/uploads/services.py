"""Upload preview and commit (SPEC §6): parse and check every row, keep the file in the
database between preview and confirm, check again inside the writing transaction, write all
rows or none, record the upload and one audit event."""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import time
import uuid
from decimal import Decimal
from typing import BinaryIO

from flask import current_app
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import audit
from ..clock import today
from ..auth.roles import Role, require
from ..errors import Forbidden, NotFound, StaleVersion, ValidationFailed, WorkflowError
from ..auth.models import ApiIdempotency
from ..extensions import db
from ..jobs import services as jobs
from ..jobs.models import Job, JobKind
from ..masterdata.models import Category, Location
from ..masterdata.tree import leaf_categories
from ..planning.models import OTBPlan
from ..purchasing.rules import GRN_DAYS_AHEAD
from ..seasons.models import Season, SeasonLocation
from ..seasons.services import lock_season, require_editable
from ..templating import safe_cell
from ..transaction import transactional
from ..values import months_between
from . import engine, limits, parsing
from .columns import NAME_COLUMNS
from .kinds import HANDLERS
from .models import Upload, UploadKind, UploadStatus


def handler_class(kind: str):
    try:
        return HANDLERS[UploadKind(kind)]
    except ValueError:
        raise NotFound(f"Unknown upload kind {kind!r}") from None


def _handler(session, kind, season, user, table, config):
    cls = handler_class(kind)
    return cls(session, season, user, file_format=table.format,
               otb_policy=config.get("KYROS_OTB_POLICY", "warn"),
               tolerance=Decimal(config.get("KYROS_OVER_RECEIPT_TOLERANCE", 0)),
               grn_days_ahead=config.get("KYROS_GRN_DAYS_AHEAD", GRN_DAYS_AHEAD))


def check_size(data: bytes, max_mb: int) -> None:
    """Refuse a file over the limit before anything is parsed or stored."""
    if len(data) > max_mb * 1024 * 1024:
        raise parsing.LimitExceeded(f"The file is larger than {max_mb} MB; nothing was stored. "
                                    "Split it into smaller files.")


def check_budget(config: dict) -> parsing.Budget:
    """The row limit and the seconds a preview may spend checking a file (SPEC §6)."""
    return parsing.Budget(max_rows=engine.MAX_ROWS,
                          seconds=config.get("KYROS_UPLOAD_CHECK_SECONDS",
                                             limits.DEFAULT_SECONDS))


def _open(kind: str, data: bytes, budget: parsing.Budget | None = None) -> parsing.Table:
    cls = handler_class(kind)
    return parsing.open_table(data, cls.column_names(), cls.required(),
                              budget or parsing.Budget(max_rows=engine.MAX_ROWS))


def _own_upload(session: Session, user, upload_id: uuid.UUID, verb: str) -> Upload:
    """The upload, for its uploader or an admin to `verb` (NotFound, Forbidden)."""
    upload = session.get(Upload, upload_id)
    if upload is None:
        raise NotFound("Upload not found")
    if not may_confirm(user, upload):
        raise Forbidden(f"Only the person who uploaded this file, or an admin, may {verb} it.")
    return upload


def may_confirm(user, upload: Upload) -> bool:
    """Only the person who uploaded a file, or an admin, confirms it (SPEC §4, §6)."""
    return user is not None and (user.role == Role.ADMIN or upload.user_id == user.id)


def _new_upload(user, cls, *, data: bytes, file_name: str, season: Season | None,
                config: dict) -> Upload:
    """The record of a file about to be checked: the checks made before anything is read (the
    role, the size, a season for a season's kind)."""
    require(user, cls.action)
    check_size(data, config.get("KYROS_MAX_UPLOAD_MB", 25))
    if cls.area is not None and season is None:
        raise ValidationFailed({"season": f"{cls.title} belong to a season; choose one"})
    return Upload(kind=cls.kind, season_id=season.id if cls.area else None,
                  file_name=(file_name or "upload")[:255],
                  sha256=hashlib.sha256(data).hexdigest(), user_id=user.id)


@transactional
def preview_upload(session: Session, user, *, kind: str, data: bytes, file_name: str,
                   season: Season | None, config: dict) -> Upload:
    """Check every row of the file and store it with what was found; nothing else is written.

    A file over the size, row or time limit raises LimitExceeded and stores nothing. A file
    with any rejected row (or refused as a whole) is stored as rejected and cannot be
    confirmed; its rejected rows are kept as a compressed CSV for download.
    """
    cls = handler_class(kind)
    upload = _new_upload(user, cls, data=data, file_name=file_name, season=season,
                         config=config)
    return _check_file(session, upload, data, season, user, config)


def _check_file(session: Session, upload: Upload, data: bytes, season: Season | None, user,
                config: dict, progress=None) -> Upload:
    """Check every row of the upload's file and record what was found on it (counts, summary,
    status, the rejected rows); LimitExceeded propagates. `progress` is told the rows as the
    engine goes (a background job)."""
    kind = upload.kind.value
    summary: dict = {"errors": [], "warnings": [], "unknown_columns": []}
    try:
        if handler_class(kind).area is not None:
            require_editable(season, handler_class(kind).area)
        budget = check_budget(config)
        table = _open(kind, data, budget)
        summary["format"] = table.format
        summary["unknown_columns"] = table.unknown
        handler = _handler(session, kind, season, user, table, config)
        kept = RejectedRows(table.headers)
        table.on_rejected = kept.add
        result = engine.analyse(handler, table, progress=progress)
        if result.rejected_rows:
            # Rows refused by checks on the whole file, after the last row was read.
            _add_rows_again(kept, upload.kind, data, result.rejected_rows, budget)
        if result.rejected:
            upload.rejected_csv = kept.packed()
    except parsing.LimitExceeded:
        raise  # nothing stored
    except parsing.FileRejected as exc:
        return _store_rejected(session, upload, summary, exc.message)
    except WorkflowError as exc:
        return _store_rejected(session, upload, summary, exc.message)
    summary.update(handler.summary())
    summary["errors"] = [e.as_dict() for e in result.errors]
    summary["row_versions"] = handler.row_versions()
    upload.rows_total = result.total
    upload.rows_new = result.counts["new"]
    upload.rows_updated = result.counts["updated"]
    upload.rows_unchanged = result.counts["unchanged"]
    upload.rows_rejected = result.rejected
    if result.total == 0:
        summary["message"] = "The file has a header row but no data rows."
    upload.status = (UploadStatus.REJECTED if result.rejected or result.total == 0
                     else UploadStatus.PREVIEWED)
    upload.content = data
    upload.summary = summary
    session.add(upload)
    session.flush()
    return upload


def _store_rejected(session, upload: Upload, summary: dict, message: str) -> Upload:
    summary["message"] = message
    upload.status = UploadStatus.REJECTED
    upload.summary = summary
    session.add(upload)
    session.flush()
    return upload


@transactional
def commit_upload(session: Session, user, upload_id: uuid.UUID, *, config: dict,
                  progress=None, before_commit=None) -> Upload:
    """Write a previewed file: checked again inside this transaction (season row locked),
    all rows or none. Raises ValidationFailed when rows are refused now. A background job
    passes `progress` (told the rows as they go) and `before_commit` (run last in the
    transaction: the job's success commits with the rows)."""
    upload = session.get(Upload, upload_id)
    if upload is None:
        raise NotFound("Upload not found")
    cls = handler_class(upload.kind)
    require(user, cls.action)
    if not may_confirm(user, upload):
        raise Forbidden("Only the person who uploaded this file, or an admin, may confirm it.")
    # Claim the upload in one statement: a second confirm of the same file waits on the row
    # lock, then finds it no longer previewed (the claim rolls back if this import fails).
    claimed = session.execute(
        update(Upload).where(Upload.id == upload.id, Upload.status == UploadStatus.PREVIEWED)
        .values(status=UploadStatus.COMMITTED)
        # The claim changes no figure; the rows written below move the season's version.
        .execution_options(synchronize_session=False, version_scope=None))
    if claimed.rowcount != 1:
        session.refresh(upload)
        if upload.status is UploadStatus.COMMITTED:
            raise ValidationFailed("This upload was already imported; nothing was written "
                                   "again")
        raise ValidationFailed(f"This upload is {upload.status.value}; only a previewed file "
                               "without rejected rows can be confirmed")
    season = None
    if cls.area is not None:
        season = lock_season(session, upload.season_id)
        require_editable(season, cls.area)
    else:
        lock_masterdata_imports(session)
    table = _open(upload.kind, upload.content)
    handler = _handler(session, upload.kind, season, user, table, config)
    result = engine.analyse(handler, table, write=True, progress=progress)
    if result.rejected:
        first = result.errors[0] if result.errors else None
        raise ValidationFailed(
            f"{result.rejected} row(s) are refused now (the data changed since the preview"
            + (f"; row {first.row}: {first.message}" if first else "")
            + "). Nothing was written; upload the file again to see the errors.")
    require_rows_unchanged(session, upload, handler)
    _record_import(session, user, upload, result, cls)
    if before_commit is not None:
        before_commit()
    return upload


def _record_import(session: Session, user, upload: Upload, result, cls) -> None:
    """An import written: its counts on the upload record, one audit event, fresh planner
    statistics after a large one."""
    upload.rows_total = result.total
    upload.rows_new = result.counts["new"]
    upload.rows_updated = result.counts["updated"]
    upload.rows_unchanged = result.counts["unchanged"]
    upload.rows_rejected = 0
    upload.status = UploadStatus.COMMITTED
    upload.content = None  # written: the rows are the record now
    counts = {"file": upload.file_name, "sha256": upload.sha256, "rows": result.total,
              "new": upload.rows_new, "updated": upload.rows_updated,
              "unchanged": upload.rows_unchanged, "source": upload.source}
    session.add(upload)
    session.flush()
    audit.record(session, user=user, action="import", entity=f"upload_{upload.kind.value}",
                 entity_id=upload.id, season_id=upload.season_id, after=counts)
    if upload.rows_new + upload.rows_updated >= ANALYZE_AFTER:
        refresh_statistics(session, cls.model.__tablename__)


# Rejected rows a bulk write lists (each with its index, field and message); the count of
# all of them is given beside.
BULK_ERRORS_LISTED = 1000


class BulkRejected(ValidationFailed):
    """Rows of a bulk write break rules: nothing was written. `rows` lists them (index,
    field, value, message); `rejected` counts every refused row."""

    def __init__(self, rows: list[dict], rejected: int, total: int, message: str | None = None):
        super().__init__(message or f"{rejected} of {total} row(s) are refused; nothing was "
                                    "saved")
        self.rows, self.rejected, self.total = rows, rejected, total


def replayed(session: Session, user, key: str, body_sha256: str) -> ApiIdempotency | None:
    """The stored answer for this user's key; ValidationFailed when it came with another
    body (the client reused a key for a different write)."""
    stored = session.scalar(select(ApiIdempotency).where(ApiIdempotency.user_id == user.id,
                                                         ApiIdempotency.key == key))
    if stored is not None and stored.request_sha256 != body_sha256:
        raise IdempotencyMismatch(
            {"Idempotency-Key": f"The key {key!r} was already used with another body; "
                                "send a new key for a different write"})
    return stored


class IdempotencyMismatch(ValidationFailed):
    """The same Idempotency-Key with another body (422)."""


@transactional
def bulk_write(session: Session, user, *, kind: str, rows: list, body_sha256: str,
               season: Season | None, config: dict, idempotency_key: str | None = None,
               answer=None) -> tuple[Upload | None, dict]:
    """Write rows of one kind as an upload would (issue 18, item 2): the same handler, rules
    and limits, in one transaction, all rows or none; recorded as an import of source "api"
    whose digest is the body's (`body_sha256`).

    Raises BulkRejected listing the refused rows (nothing written). With `idempotency_key`,
    a key already answered returns (None, that answer) without writing; the key is claimed
    first in this transaction, so a second request with the key waits for the first and then
    gets its answer. `answer(upload)` makes the response stored with the key.
    """
    cls = handler_class(kind)
    require(user, cls.action)
    if idempotency_key is not None:
        stored = replayed(session, user, idempotency_key, body_sha256)
        if stored is not None:
            return None, stored.response
        claim = ApiIdempotency(user_id=user.id, key=idempotency_key,
                               request_sha256=body_sha256, status_code=0, response={})
        session.add(claim)
        try:
            session.flush()  # a concurrent request with the key waits here for the first
        except IntegrityError:
            session.rollback()  # the first committed: its answer is the answer
            stored = replayed(session, user, idempotency_key, body_sha256)
            if stored is None:
                raise
            return None, stored.response
    if not isinstance(rows, list):
        raise ValidationFailed({"rows": "rows must be a list of objects"})
    if len(rows) > engine.MAX_ROWS:
        raise parsing.LimitExceeded(f"More than {engine.MAX_ROWS:,} rows; nothing was stored. "
                                    "Send them in smaller parts.")
    if not rows:
        raise ValidationFailed({"rows": "Send at least one row"})
    known = cls.column_names()
    shape = parsing.bulk_shape_problems(rows, known, BULK_ERRORS_LISTED)
    if shape:
        raise BulkRejected(shape, len({p["index"] for p in shape}), len(rows),
                           f"{len({p['index'] for p in shape})} row(s) cannot be read; nothing "
                           "was saved")
    if cls.area is not None:
        if season is None:
            raise ValidationFailed({"season": f"{cls.title} belong to a season"})
        season = lock_season(session, season.id)
        require_editable(season, cls.area)
    else:
        lock_masterdata_imports(session)
    table = parsing.rows_table(rows, known, check_budget(config))
    handler = _handler(session, kind, season, user, table, config)
    result = engine.analyse(handler, table, write=True, keep_errors=BULK_ERRORS_LISTED)
    if result.rejected:
        raise BulkRejected([{"index": e.row, "field": e.column, "value": e.value,
                             "message": e.message} for e in result.errors],
                           result.rejected, result.total)
    upload = Upload(kind=cls.kind, season_id=season.id if season is not None else None,
                    file_name=f"API bulk write ({audit.acting_via() or 'api'})"[:255],
                    sha256=body_sha256, user_id=user.id, source="api",
                    summary={"warnings": handler.warnings, "format": "json"})
    _record_import(session, user, upload, result, cls)
    response = answer(upload) if answer is not None else {}
    if idempotency_key is not None:
        claim.status_code, claim.response = 200, response
    return upload, response



def require_rows_unchanged(session: Session, upload: Upload, handler) -> None:
    """Refuse to confirm a file whose rows were changed by someone after its preview.

    The preview showed what the file would change against the rows as they were then; a
    row edited since would be overwritten without anyone having seen that edit. Checked in
    the writing transaction with the season locked, so nothing can change in between.
    Raises StaleVersion naming who made the latest change.
    """
    seen = (upload.summary or {}).get("row_versions")
    if seen is None or seen == handler.row_versions():
        return
    who = audit.last_change_since(session, upload.season_id, upload.created_at,
                                  exclude_entity_id=str(upload.id))
    by = f" (latest by {who[0]} at {who[1]:%Y-%m-%d %H:%M} UTC)" if who else ""
    raise StaleVersion(f"Rows this file changes were changed since its preview{by}. Nothing "
                       "was written; upload the file again to preview it against the current "
                       "data.")


# A bulk write can change a table more than autovacuum notices for a minute; planning the
# next page on stale row counts can turn a hash join into nested loops over 68,000 rows.
ANALYZE_AFTER = 1000


def refresh_statistics(session: Session, table: str) -> None:
    """Let PostgreSQL's planner see the rows just written (ANALYZE runs in the transaction)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f'ANALYZE "{table}"'))


def lock_masterdata_imports(session: Session) -> None:
    """Master data files commit one at a time (two could both create the same new cluster);
    the next one waits, then checks its rows against what the first wrote."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('kyros-masterdata-import'))"))
    else:
        # SQLite: any write takes the database write lock until the transaction ends.
        session.execute(text("UPDATE uploads SET status = status WHERE 1 = 0"))


class RejectedRows:
    """The rejected rows as they were in the file plus an `error` column (formulas defused),
    written to a gzip-compressed CSV as they are found: made once, at preview."""

    def __init__(self, headers: list[str]):
        self._out = io.BytesIO()
        self._packed = gzip.GzipFile(fileobj=self._out, mode="wb", mtime=0)
        self._text = io.TextIOWrapper(self._packed, encoding="utf-8", newline="")
        self._writer = csv.writer(self._text)
        self._writer.writerow([safe_cell(h) for h in headers] + ["error"])

    def add(self, number: int, cells: list, messages: str) -> None:
        self._writer.writerow([safe_cell("" if c is None else str(c)) for c in cells]
                              + [safe_cell(messages)])

    def packed(self) -> bytes:
        self._text.close()  # closes the gzip stream too, writing its trailer
        return self._out.getvalue()


def _add_rows_again(kept: "RejectedRows", kind: UploadKind, data: bytes,
                    rejected: dict[int, str], budget: parsing.Budget) -> None:
    """Read the file again for rows refused only once it had all been read (e.g. a cycle of
    parent categories) and add them, after the rows refused while reading."""
    table = _open(kind, data, budget)
    for number, cells in table.raw_rows():
        if number in rejected:
            kept.add(number, cells, rejected[number])


def rejected_rows_csv(upload: Upload) -> BinaryIO:
    """The rejected rows kept at preview, as a CSV file unpacked as it is read; NotFound when
    the preview kept none (a file refused as a whole, or one previewed before they were
    kept)."""
    if upload.rejected_csv is None:
        raise NotFound("The rejected rows of this upload were not kept; upload the file again "
                       "to get them")
    return gzip.GzipFile(fileobj=io.BytesIO(upload.rejected_csv), mode="rb")


def template_rows(session: Session, kind: str, season: Season | None) -> tuple[list, list]:
    """(headers, rows) of the template a user fills in, names beside codes."""
    cls = handler_class(kind)
    headers = cls.column_names()
    rows: list[list] = []
    if season is None or cls.kind in (UploadKind.POS, UploadKind.GRNS):
        return headers, rows
    leaves = leaf_categories(session)
    locations = session.execute(
        select(Location.location_code, Location.name)
        .join(SeasonLocation, SeasonLocation.location_id == Location.id)
        .where(SeasonLocation.season_id == season.id).order_by(Location.name)).all()
    if cls.kind is UploadKind.PLANS:
        headers = headers + list(NAME_COLUMNS)
        rows = [[loc.location_code, leaf.code, "", "", "", loc.name, leaf.name]
                for loc in locations for leaf in leaves]
    elif cls.kind in (UploadKind.OTB, UploadKind.ACTUALS):
        months = months_between(season.start_date, season.end_date)
        if cls.kind is UploadKind.ACTUALS:
            # The months that have started: later months take no actuals yet.
            months = [m for m in months if m <= today().replace(day=1)]
        blanks = [""] * (len(headers) - 3)
        headers = headers + list(NAME_COLUMNS)
        rows = [[loc.location_code, leaf.code, m.strftime("%Y-%m"), *blanks, loc.name, leaf.name]
                for loc in locations for leaf in leaves for m in months]
    elif cls.kind is UploadKind.RANGE:
        with_otb = select(OTBPlan.category_id).where(OTBPlan.season_id == season.id)
        leaves = session.execute(select(Category.code, Category.name)
                                 .where(Category.id.in_(with_otb)).order_by(Category.code)).all()
        headers = headers + ["category_name"]
        rows = [[leaf.code, "", "", "", "", "", leaf.name] for leaf in leaves]
    return headers, rows



# Background jobs (issue 19) ----------------------------------------------------------------
# With a queue (KYROS_REDIS_URL), a file is stored first, then checked by one job and written
# by another; the page shows their progress. Without one, the pages call preview_upload and
# commit_upload in the request, as before.

def expected_rows(data: bytes) -> int | None:
    """About how many data rows a file holds, for the estimate of a check: a CSV's lines less
    the header (a quoted cell across lines counts twice); none for a workbook."""
    if data.startswith(parsing.XLSX_MAGIC):
        return None
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    return max(lines - 1, 0)


def latest_job(session: Session, upload_id: uuid.UUID) -> Job | None:
    """The upload's most recent job (its check, or its commit), if any."""
    return session.scalar(select(Job).where(Job.upload_id == upload_id)
                          .order_by(Job.created_at.desc()).limit(1))


@transactional
def store_upload(session: Session, user, *, kind: str, data: bytes, file_name: str,
                 season: Season | None, config: dict) -> Job:
    """Store a file for a background check (the role, size and season are checked now, every
    row by the job): the upload waits as pending with a queued job to check it."""
    cls = handler_class(kind)
    upload = _new_upload(user, cls, data=data, file_name=file_name, season=season,
                         config=config)
    upload.status = UploadStatus.PENDING
    upload.content = data
    session.add(upload)
    session.flush()
    return jobs.create(session, user, JobKind.PREVIEW, upload_id=upload.id,
                       rows_expected=expected_rows(data))


def queue_preview(session: Session, user, *, kind: str, data: bytes, file_name: str,
                  season: Season | None, config: dict) -> Upload:
    """Store the file and put its check on the queue; the upload's page shows the progress."""
    job = store_upload(session, user, kind=kind, data=data, file_name=file_name,
                       season=season, config=config)
    jobs.submit(session, job.id, config)
    return session.get(Upload, job.upload_id)


@transactional
def _new_commit_job(session: Session, user, upload_id: uuid.UUID) -> tuple[Job, bool]:
    upload = session.get(Upload, upload_id)
    if upload is None:
        raise NotFound("Upload not found")
    require(user, handler_class(upload.kind).action)
    if not may_confirm(user, upload):
        raise Forbidden("Only the person who uploaded this file, or an admin, may confirm it.")
    job = latest_job(session, upload.id)
    if job is not None and job.kind is JobKind.COMMIT and job.status.active:
        return job, False  # confirmed twice: the one import goes on
    if upload.status is not UploadStatus.PREVIEWED:
        raise ValidationFailed(f"This upload is {upload.status.value}; only a previewed file "
                               "without rejected rows can be confirmed")
    return jobs.create(session, user, JobKind.COMMIT, upload_id=upload.id,
                       rows_expected=upload.rows_total), True


def queue_commit(session: Session, user, upload_id: uuid.UUID, *, config: dict) -> Job:
    """Put the import of a previewed file on the queue (the same checks as commit_upload
    first; they are made again when it runs). Confirming twice queues it once."""
    job, new = _new_commit_job(session, user, upload_id)
    if new:
        jobs.submit(session, job.id, config)
    return job


@transactional
def cancel_upload_job(session: Session, user, upload_id: uuid.UUID) -> Job:
    """Cancel the upload's job before its commit starts: a check while queued or running
    (the upload is then cancelled and its file dropped), an import while queued (the upload
    stays previewed). Only the uploader or an admin; ValidationFailed when it is too late."""
    upload = _own_upload(session, user, upload_id, "cancel")
    job = latest_job(session, upload.id)
    if job is None or not job.status.active:
        raise ValidationFailed("Nothing is waiting or running for this upload.")
    if job.kind is JobKind.PREVIEW:
        # The upload row first, then the job's: the check's last transaction takes them in
        # the same order, so the two never wait on each other.
        session.execute(update(Upload).where(Upload.id == upload.id,
                                             Upload.status == UploadStatus.PENDING)
                        .values(status=UploadStatus.CANCELLED, content=None)
                        .execution_options(synchronize_session=False, version_scope=None))
        if not jobs.cancel(session, job, while_running=True):
            raise ValidationFailed("The check had already finished; see its result below.")
    elif not jobs.cancel(session, job):
        raise ValidationFailed("The import has started writing and can no longer be "
                               "cancelled; it writes every row or none.")
    session.expire_all()
    return job


@transactional
def _retry(session: Session, user, upload_id: uuid.UUID, stale_seconds: float) -> Job:
    upload = _own_upload(session, user, upload_id, "retry")
    job = latest_job(session, upload.id)
    if job is None or not jobs.retry(session, job, stale_seconds):
        raise ValidationFailed("Only a job that failed, or whose worker stopped, can be "
                               "retried.")
    session.expire_all()
    return job


def retry_upload_job(session: Session, user, upload_id: uuid.UUID, *, config: dict) -> Job:
    """Queue the upload's failed job (or one whose worker stopped) again, the same work: its
    check, or its import. Only the uploader or an admin."""
    job = _retry(session, user, upload_id, config["KYROS_JOB_STALE_SECONDS"])
    jobs.submit(session, job.id, config)
    return job


def run_upload_job(job_id: str) -> str:
    """What a worker runs for an upload's job (jobs.models.TASKS): its check or its import."""
    return jobs.execute(job_id, _upload_work)


def _upload_work(job: Job, progress) -> None:
    session = db.session
    config = current_app.config
    upload = session.get(Upload, job.upload_id)
    if job.kind is JobKind.PREVIEW:
        season = session.get(Season, upload.season_id) if upload.season_id else None
        try:
            _check_file(session, upload, upload.content, season, upload.user, config,
                        progress=progress)
        except parsing.LimitExceeded as exc:
            _store_rejected(session, upload, {"errors": [], "warnings": [],
                                              "unknown_columns": []}, exc.message)
        if upload.status is UploadStatus.REJECTED:
            upload.content = None  # it can never be confirmed
        session.flush()
        jobs.finish(session, job.id, progress)
        session.commit()
        return

    def finish():
        hold = config.get("KYROS_JOB_TEST_HOLD_SECONDS") or 0
        if hold:
            time.sleep(hold)  # tests kill the worker here, the rows written, not committed
        jobs.finish(session, job.id, progress)

    commit_upload(session, job.user, upload.id, config=config, progress=progress,
                  before_commit=finish)
