"""The season pack and the data workbook built by a background job when a queue is set
(issue 19): "building… / download", reused for the same version of the season's data, built
again after a write; without a queue they are built in the request as before."""
from __future__ import annotations

import io
import uuid

from openpyxl import load_workbook
from sqlalchemy import select, update

from kyros_web.extensions import db
from kyros_web.jobs.models import Job, JobKind, JobStatus
from kyros_web.seasons.workflow import SeasonStatus

from .conftest import post_file, stores, work

HX = {"HX-Request": "true"}


def test_the_pack_is_built_by_a_job_then_downloaded(app, queue, login, make):
    season = make.season(SeasonStatus.PLAN_UPLOADED)
    code = season.season_code
    v = login("viewer")
    page = v.get(f"/analytics/{code}/export").get_data(as_text=True)
    assert f'action="/exports/season/{code}/pack"' in page
    assert f'action="/exports/season/{code}/data"' in page
    asked = v.post(f"/exports/season/{code}/pack")
    assert asked.status_code == 303
    where = asked.headers["Location"]
    page = v.get(where).get_data(as_text=True)
    assert "Waiting for a worker…" in page and 'hx-trigger="every 1s"' in page
    job_id = where.rsplit("/", 1)[1]
    assert v.get(f"/exports/{job_id}/download").status_code == 404  # not built yet
    assert v.post(f"/exports/season/{code}/pack").headers["Location"] == where  # one build at once

    work(app)
    job = db.session.get(Job, uuid.UUID(job_id))
    assert (job.kind, job.status, job.rows_checked) == (JobKind.SEASON_PACK,
                                                        JobStatus.SUCCEEDED, job.rows_expected)
    assert v.get(f"/exports/{job_id}/progress", headers=HX).headers["HX-Refresh"] == "true"
    page = v.get(where).get_data(as_text=True)
    assert "Ready: built from the season" in page and f"kyros-{code}-pack.xlsx" in page
    download = v.get(f"/exports/{job_id}/download")
    assert download.status_code == 200
    assert f"kyros-{code}-pack.xlsx" in download.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(download.data))
    assert book["About"]["A2"].value.startswith("Fingerprint ") and len(book.sheetnames) > 10
    assert v.post(f"/exports/season/{code}/pack").headers["Location"] == where  # same data: reused

    db.session.add(make.admin)  # the factory's admin, in this session again
    make.location()  # a write: the next request builds again
    again = v.post(f"/exports/season/{code}/pack").headers["Location"]
    assert again != where
    assert v.get(f"/exports/{job_id}/download").status_code == 404  # one file kept
    assert "Replaced: the season's data changed" in v.get(where).get_data(as_text=True)
    work(app)
    data = v.post(f"/exports/season/{code}/data").headers["Location"]
    work(app)
    download = v.get(data + "/download")
    assert "Plans" in load_workbook(io.BytesIO(download.data)).sheetnames


def test_a_failed_export_is_shown_and_built_again(app, queue, login, make):
    code = make.season().season_code
    v = login("viewer")
    where = v.post(f"/exports/season/{code}/data").headers["Location"]
    job_id = uuid.UUID(where.rsplit("/", 1)[1])
    db.session.execute(update(Job).where(Job.id == job_id).values(
        status=JobStatus.FAILED, finished_at=db.func.now(), error="Disk on fire."))
    db.session.commit()
    page = v.get(where).get_data(as_text=True)
    assert "Failed: Disk on fire." in page and ">Retry</button>" in page
    assert v.post(f"/exports/{job_id}/retry").status_code == 303
    work(app)
    assert db.session.get(Job, job_id).status is JobStatus.SUCCEEDED
    assert v.post(f"/exports/{job_id}/retry").status_code == 404  # nothing failed now


def test_an_upload_job_is_no_export(app, queue, login, make):
    b = login("planner")
    post_file(b, stores(1), "stores.csv", kind="locations")
    job_id = db.session.scalar(select(Job.id))
    assert b.get(f"/exports/{job_id}").status_code == 404
    assert b.get(f"/exports/{job_id}/download").status_code == 404
    assert b.post(f"/exports/season/{make.season().season_code}/nope").status_code == 404


def test_without_a_queue_the_exports_are_built_in_the_request(login, make):
    code = make.season().season_code
    v = login("viewer")
    page = v.get(f"/analytics/{code}/export").get_data(as_text=True)
    assert f'href="/analytics/{code}/data.xlsx"' in page and "/exports/" not in page
    asked = v.post(f"/exports/season/{code}/data")
    assert asked.status_code == 303
    assert asked.headers["Location"].endswith(f"/analytics/{code}/data.xlsx")
    assert db.session.scalar(select(Job.id)) is None
