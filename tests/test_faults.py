"""Faults: the database going away and coming back, and a worker killed in the middle of an
import commit (SPEC §8: nothing half-written)."""
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from kyros_web.extensions import db
from kyros_web.models import OTBPlan, Upload
from kyros_web.seasons.workflow import SeasonStatus

from .conftest import PG_URL

ROOT = Path(__file__).resolve().parents[1]


def test_a_database_error_is_a_503_page(login, monkeypatch):
    viewer = login("viewer")

    def down(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(db.session, "execute", down)
    response = viewer.get("/masterdata/clusters")
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "The database is not answering" in html and "Traceback" not in html


@pytest.mark.skipif(not PG_URL, reason="terminates PostgreSQL backends; CI runs it on PostgreSQL")
def test_recovers_by_itself_when_connections_are_killed(login, database_url):
    viewer = login("viewer")
    assert viewer.get("/seasons/").status_code == 200
    db.session.remove()  # the app's connections are idle in the pool now
    url = make_url(database_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        killed = conn.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": url.database}).scalar()
    admin.dispose()
    assert killed >= 1
    assert viewer.get("/ready").json == {"status": "ok", "database": "ok"}
    assert viewer.get("/seasons/").status_code == 200


def _otb_file(session, months=6) -> bytes:
    from kyros_web.masterdata.models import Category, Location
    codes = session.scalars(select(Location.location_code)).all()
    leaves = session.scalars(select(Category.code).where(Category.code.like("K%"))).all()
    lines = ["location_code,category_code,month,planned_sales,planned_closing_stock,"
             "opening_stock,on_order"]
    for loc in codes:
        for leaf in leaves:
            for m in range(2, 2 + months):
                lines.append(f"{loc},{leaf},2026-{m:02d},100.00,10.00,10.00,0.00")
    return "\n".join(lines).encode()


def test_a_worker_killed_mid_commit_leaves_nothing(make, session, database_url, tmp_path):
    """Start `flask kyros import` in a subprocess, kill it while it writes, check the rows."""
    leaves = [make.category(f"K{n:03d}") for n in range(40)]
    locations = [make.location() for _ in range(40)]
    season = make.season(SeasonStatus.PLAN_UPLOADED, start=date(2026, 2, 1),
                         end=date(2026, 7, 31), locations=locations, leaves=leaves[:1])
    path = tmp_path / "otb.csv"
    path.write_bytes(_otb_file(session))  # 40 × 40 × 6 = 9,600 rows
    session.commit()
    env = {**os.environ, "KYROS_DATABASE_URL": database_url, "FLASK_APP": "wsgi.py",
           "KYROS_SECRET_KEY": "test"}
    proc = subprocess.Popen([sys.executable, "-m", "flask", "kyros", "import", "otb", str(path),
                             "--season", season.season_code, "--user", make.admin.email],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    # Wait for the preview to be stored: the commit starts right after it.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        session.rollback()
        if session.scalar(select(func.count(Upload.id))):
            break
        time.sleep(0.02)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    session.rollback()
    written = session.scalar(select(func.count(OTBPlan.id)).where(OTBPlan.season_id == season.id))
    assert written in (0, 9600), written  # none, or the whole file: never a part
    if proc.returncode == -signal.SIGKILL:
        assert written == 0, "killed mid-commit, yet rows were left behind"


@pytest.mark.skipif(not PG_URL, reason="needs two real connections at once; CI runs it on PostgreSQL")
def test_concurrent_imports_are_serialised(app, make, session):
    """Two locations files naming the same new cluster, confirmed at the same moment."""
    import threading

    from kyros_web.auth.models import User
    from kyros_web.masterdata.models import Cluster, Location
    from kyros_web.uploads.services import commit_upload, preview_upload

    config = {"KYROS_MAX_UPLOAD_MB": 25}
    uploads = [preview_upload(session, make.admin, kind="locations", file_name=f"{n}.csv",
                              data=f"name,type,cluster\nStore {n},store,Region 42\n".encode(),
                              season=None, config=config).id for n in range(2)]
    admin_id = make.admin.id
    start, errors = threading.Barrier(2), []

    def confirm(upload_id):
        with app.app_context():
            try:
                start.wait()
                commit_upload(db.session, db.session.get(User, admin_id), upload_id, config=config)
            except Exception as exc:  # reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=confirm, args=(u,)) for u in uploads]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    session.expire_all()
    assert session.scalar(select(func.count(Cluster.id))) == 1
    assert session.scalar(select(func.count(Location.id))) == 2
