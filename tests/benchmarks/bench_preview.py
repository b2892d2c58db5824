"""Preview timing of the bench retailer's OTB file (about 68,000 rows) as CSV and as XLSX,
on a throwaway SQLite database: the quick check that reading files has not got slower.

    .venv/bin/python -m tests.benchmarks.bench_preview [--runs 3]
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import statistics
import tempfile
import time


def as_xlsx(data: bytes) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("OTB")
    for row in csv.reader(io.StringIO(data.decode())):
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    folder = tempfile.mkdtemp(prefix="kyros-bench-preview-")
    os.environ.setdefault("KYROS_SECRET_KEY", "bench-secret")
    os.environ["KYROS_INSTANCE_DIR"] = folder
    from flask_migrate import upgrade
    from sqlalchemy import select

    from kyros_web import create_app
    from kyros_web.auth.models import User
    from kyros_web.auth.services import create_user
    from kyros_web.demo.bench import START, END, bench_files
    from kyros_web.extensions import db
    from kyros_web.seasons.services import advance_season, assign_all_active, create_season
    from kyros_web.uploads.services import commit_upload, preview_upload

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db"})
    with app.app_context():
        upgrade()
        create_user(db.session, None, email="bench@kyros.example", role="admin",
                    password="bench-password-1")
        admin = db.session.scalar(select(User))
        files = bench_files()
        config = dict(app.config)

        def load(kind, season=None):
            upload = preview_upload(db.session, admin, kind=kind, data=files[kind],
                                    file_name=f"{kind}.csv", season=season, config=config)
            commit_upload(db.session, admin, upload.id, config=config)

        load("locations")
        load("categories")
        season = create_season(db.session, admin, name="Bench", start_date=START, end_date=END)
        assign_all_active(db.session, admin, season.id)
        advance_season(db.session, admin, season.id)
        load("plans", season)
        advance_season(db.session, admin, season.id)
        otb = files["otb"]
        for label, data in (("csv", otb), ("xlsx", as_xlsx(otb))):
            times, cpu = [], []
            for _ in range(runs):
                start, start_cpu = time.perf_counter(), time.process_time()
                upload = preview_upload(db.session, admin, kind="otb", data=data,
                                        file_name=f"otb.{label}", season=season, config=config)
                times.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
                assert upload.rows_rejected == 0, upload.summary
            # CPU time is the steadier figure on a machine shared with other work.
            print(f"otb {label}: {upload.rows_total:,} rows, {len(data) / 1e6:.1f} MB, preview "
                  f"median {statistics.median(times):.2f} s wall, "
                  f"{statistics.median(cpu):.2f} s CPU of {runs} runs "
                  f"(CPU {', '.join(f'{t:.2f}' for t in cpu)})")


if __name__ == "__main__":
    main()
