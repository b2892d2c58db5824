"""Upload pages: choose a file, see its preview, confirm it, download rejected rows and
templates; the history of every upload (SPEC §6, §7)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_login import current_user, login_required
from werkzeug.utils import secure_filename
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..auth.roles import Action, may
from ..auth.access import role_required
from ..downloads import attachment, csv_file, sheet_csv, sheet_xlsx, xlsx_file
from ..errors import ValidationFailed
from ..extensions import db
from ..htmx import redirect_after_write, refresh_whole_page, render, render_fragment
from ..jobs.models import JobKind
from ..jobs.progress import show
from ..jobs.queue import background
from ..jobs.services import STOPPED
from ..modelbase import utcnow
from ..paging import page_number, paginate_objects
from ..seasons.models import Season
from ..seasons.services import get_season
from . import parsing, services
from .forms import UploadForm
from .kinds import HANDLERS
from .models import Upload, UploadKind, UploadStatus

bp = Blueprint("uploads", __name__, url_prefix="/uploads")

# Where "See the data" goes after a commit: an endpoint, and its arguments besides the season.
STEP_PAGES = {UploadKind.PLANS: ("planning.plans", {}), UploadKind.OTB: ("planning.otb", {}),
              UploadKind.RANGE: ("planning.range_intent", {}),
              UploadKind.POS: ("purchasing.pos", {}), UploadKind.GRNS: ("purchasing.grns", {}),
              UploadKind.LOCATIONS: ("masterdata.locations", {}),
              UploadKind.CATEGORIES: ("masterdata.categories", {}),
              UploadKind.ACTUALS: ("analytics.report", {"slug": "in-season"})}


def _kinds_for_user() -> list:
    return [h for h in HANDLERS.values() if may(current_user.role, h.action)]


@bp.get("/")
@login_required
def index():
    """Every uploaded file (committed, rejected or awaiting confirmation), newest first."""
    kind = request.args.get("kind", "")
    season_code = request.args.get("season", "").strip().upper()
    stmt = (select(Upload).options(selectinload(Upload.user), selectinload(Upload.season))
            .order_by(Upload.created_at.desc()))
    if kind in {k.value for k in UploadKind}:
        stmt = stmt.where(Upload.kind == UploadKind(kind))
    else:
        kind = ""
    season = None
    if season_code:
        season = db.session.scalar(select(Season).where(Season.season_code == season_code))
        stmt = stmt.where(Upload.season_id == (season.id if season else None))
    page = paginate_objects(db.session, stmt, page_number(request.args.get("page")),
                            current_app.config["PAGE_SIZE"])
    return render("uploads/index.html", block="results", page=page, kind=kind,
                  season_code=season_code, season=season, handlers=HANDLERS,
                  can_upload=may(current_user.role, Action.UPLOAD))


def _seasons():
    return db.session.scalars(select(Season).order_by(Season.start_date.desc())).all()


def _form_context(form: UploadForm, **extra) -> dict:
    return {"form": form, "kinds": _kinds_for_user(), "seasons": _seasons(),
            "kind": request.values.get("kind", ""), "season_code": request.values.get("season", ""),
            "max_mb": current_app.config["KYROS_MAX_UPLOAD_MB"], "error": None, **extra}


@bp.get("/new")
@role_required(Action.UPLOAD)
def new():
    """The upload form, with a template to download for each kind."""
    return render("uploads/new.html", **_form_context(UploadForm()))


@bp.post("/")
@role_required(Action.UPLOAD)
def create():
    """Receive a file, check every row, and show the preview (nothing is written yet)."""
    form = UploadForm()
    if not form.validate_on_submit():
        return render("uploads/new.html", block="form", status_code=422,
                      **_form_context(form, error=form.first_error()))
    kind, file = form.kind.data, form.file.data
    code = (form.season.data or "").strip()
    season = get_season(db.session, code) if code and HANDLERS[UploadKind(kind)].area else None
    with file.stream:  # a large upload is spooled to a temporary file: close it
        data = file.read()
    # With a queue the file is stored and checked by a job; without one, checked now.
    preview = (services.queue_preview if background(current_app.config)
               else services.preview_upload)
    try:
        upload = preview(db.session, current_user, kind=kind, data=data,
                         file_name=file.filename, season=season, config=current_app.config)
    except (parsing.FileRejected, ValidationFailed) as exc:
        return render("uploads/new.html", block="form", status_code=422,
                      **_form_context(form, error=exc.message))
    return redirect_after_write(url_for("uploads.detail", upload_id=upload.id))


@bp.get("/<uuid:upload_id>")
@login_required
def detail(upload_id):
    """The preview of a file (counts, errors, warnings, OTB impact), or its result."""
    upload = db.get_or_404(Upload, upload_id)
    handler = HANDLERS[upload.kind]
    job = _job_context(upload)
    can_confirm = (upload.status is UploadStatus.PREVIEWED and may(current_user.role, handler.action)
                   and services.may_confirm(current_user, upload)
                   and not (job and job["shown"].active))
    step, args = STEP_PAGES[upload.kind]
    step_url = (url_for(step, code=upload.season.season_code, **args) if upload.season
                else url_for(step, **args))
    return render("uploads/detail.html", upload=upload, handler=handler, can_confirm=can_confirm,
                  summary=upload.summary or {}, step_url=step_url, job=job)


def _job_context(upload: Upload) -> dict | None:
    """The upload's latest job as its page shows it, for the uploader or an admin (others see
    the upload's status only)."""
    if not services.may_confirm(current_user, upload):
        return None
    job = services.latest_job(db.session, upload.id)
    if job is None:
        return None
    shown = show(job, utcnow(), current_app.config["KYROS_JOB_STALE_SECONDS"], STOPPED)
    can_cancel = shown.active and (job.kind is JobKind.PREVIEW or shown.state == "queued")
    return {"job": job, "shown": shown, "can_cancel": can_cancel}


@bp.get("/<uuid:upload_id>/progress")
@login_required
def progress(upload_id):
    """The progress of the upload's job, polled by its page every second; once the job has
    ended, htmx is told to load the whole page again (to show the result)."""
    upload = db.get_or_404(Upload, upload_id)
    if not services.may_confirm(current_user, upload):
        abort(403)
    job = _job_context(upload)
    body, status = render_fragment("uploads/detail.html", "progress", upload=upload, job=job)
    ended = job is None or not job["shown"].active
    return body, status, refresh_whole_page() if ended else {}


@bp.post("/<uuid:upload_id>/cancel")
@role_required(Action.UPLOAD)
def cancel(upload_id):
    """Cancel the upload's check, or its import while it waits to start."""
    job = services.cancel_upload_job(db.session, current_user, upload_id)
    flash("The import was cancelled; nothing was written." if job.kind is JobKind.COMMIT
          else "The check was cancelled; the file was dropped.", "success")
    return redirect_after_write(url_for("uploads.detail", upload_id=upload_id))


@bp.post("/<uuid:upload_id>/retry")
@role_required(Action.UPLOAD)
def retry(upload_id):
    """Run the upload's failed job again (the same check, or the same import)."""
    services.retry_upload_job(db.session, current_user, upload_id, config=current_app.config)
    return redirect_after_write(url_for("uploads.detail", upload_id=upload_id))


@bp.post("/<uuid:upload_id>/confirm")
@role_required(Action.UPLOAD)
def confirm(upload_id):
    """Write the previewed file: checked again, all rows or none."""
    upload = db.get_or_404(Upload, upload_id)
    if background(current_app.config):
        services.queue_commit(db.session, current_user, upload.id, config=current_app.config)
        return redirect_after_write(url_for("uploads.detail", upload_id=upload.id))
    services.commit_upload(db.session, current_user, upload.id, config=current_app.config)
    flash(f"{upload.file_name} imported: {upload.rows_new} new, {upload.rows_updated} updated, "
          f"{upload.rows_unchanged} unchanged.", "success")
    return redirect_after_write(url_for("uploads.detail", upload_id=upload.id))


@bp.get("/<uuid:upload_id>/rejected.csv")
@login_required
def rejected(upload_id):
    """The rejected rows as they were in the file, with an `error` column."""
    upload = db.get_or_404(Upload, upload_id)
    # The name comes from the uploader's computer: only safe characters reach the header.
    name = secure_filename(upload.file_name.rsplit(".", 1)[0] + "-rejected.csv")
    return attachment(services.rejected_rows_csv(upload), name or "rejected.csv", "text/csv")


@bp.get("/template/<kind>.<fmt>")
@login_required
def template(kind: str, fmt: str):
    """A template to fill in, prefilled with the rows the season expects."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    code = request.args.get("season", "").strip()
    season = get_season(db.session, code) if code else None
    headers, rows = services.template_rows(db.session, kind, season)
    name = f"kyros-{kind}-template" + (f"-{season.season_code}" if season else "")
    if fmt == "csv":
        return csv_file(sheet_csv(headers, rows), f"{name}.csv")
    return xlsx_file(sheet_xlsx(headers, rows), f"{name}.xlsx")
