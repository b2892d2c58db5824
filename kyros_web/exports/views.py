"""Export pages (issue 19): ask for the season pack or the data workbook to be built by a
background job, watch it ("building… / download"), download it, retry it."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, url_for
from flask_login import current_user, login_required

from ..auth.access import role_required
from ..auth.roles import Action
from ..downloads import xlsx_file
from ..extensions import db
from ..htmx import redirect_after_write, refresh_whole_page, render, render_fragment
from ..jobs.models import JobStatus
from ..jobs.progress import show
from ..jobs.queue import background
from ..jobs.services import STOPPED
from ..modelbase import utcnow
from ..seasons.services import get_season
from . import services

bp = Blueprint("exports", __name__, url_prefix="/exports")

# Where the same file is built in the request when there is no queue.
IN_REQUEST = {"pack": "analytics.pack_workbook", "data": "analytics.data_workbook"}


@bp.post("/season/<code>/<what>")
@role_required(Action.READ)  # exporting is reading (SPEC §4): every role
def create(code: str, what: str):
    """Start building the season's pack or data workbook (or reuse the one built for the same
    data), then show it; without a queue, build it in this request as before."""
    if what not in services.KINDS:
        abort(404)
    season = get_season(db.session, code)
    if not background(current_app.config):
        return redirect_after_write(url_for(IN_REQUEST[what], code=season.season_code))
    job = services.request_export(db.session, current_user, season, what,
                                  config=current_app.config)
    return redirect_after_write(url_for("exports.detail", job_id=job.id))


def _context(job_id) -> dict:
    job = services.get_export(db.session, job_id)
    shown = show(job, utcnow(), current_app.config["KYROS_JOB_STALE_SECONDS"], STOPPED)
    return {"job": job, "shown": shown, "season": job.season}


@bp.get("/<uuid:job_id>")
@login_required
def detail(job_id):
    """An export being built (its progress, polled), ready to download, or failed."""
    return render("exports/detail.html", block="progress", **_context(job_id))


@bp.get("/<uuid:job_id>/progress")
@login_required
def progress(job_id):
    """The export's progress region; once the job has ended the whole page loads again."""
    context = _context(job_id)
    body, status = render_fragment("exports/detail.html", "progress", **context)
    return body, status, {} if context["shown"].active else refresh_whole_page()


@bp.get("/<uuid:job_id>/download")
@login_required
def download(job_id):
    """The built file."""
    job = services.get_export(db.session, job_id)
    if job.status is not JobStatus.SUCCEEDED or job.file_name is None:
        abort(404)
    return xlsx_file(job.content, job.file_name)


@bp.post("/<uuid:job_id>/retry")
@role_required(Action.READ)
def retry(job_id):
    """Build a failed export again."""
    services.retry_export(db.session, job_id, config=current_app.config)
    return redirect_after_write(url_for("exports.detail", job_id=job_id))
