"""How a background job is shown (issue 19): elapsed, the estimate from the rows done, a
running job whose heartbeat went stale shown stopped; the engine's progress reports."""
from datetime import datetime, timedelta, timezone

from kyros_web.jobs.models import Job, JobKind, JobStatus
from kyros_web.jobs.progress import clock, show
from kyros_web.uploads import engine, parsing
from kyros_web.uploads.services import expected_rows

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
STOPPED = "stopped after {seconds:g} s"


def job(**fields) -> Job:
    values = {"kind": JobKind.PREVIEW, "status": JobStatus.RUNNING, "rows_read": 0,
              "rows_checked": 0, "rows_written": 0, "rows_expected": None,
              "started_at": NOW - timedelta(seconds=30), "heartbeat_at": NOW,
              "finished_at": None, "error": None, **fields}
    return Job(**values)


def test_the_estimate_is_the_time_so_far_times_the_rows_left_over_the_rows_done():
    shown = show(job(rows_checked=25_000, rows_expected=100_000), NOW, 60, STOPPED)
    assert shown.state == "running" and shown.active and not shown.can_retry
    assert shown.elapsed == timedelta(seconds=30) and shown.remaining == timedelta(seconds=90)
    assert shown.percent == 25 and clock(shown.remaining) == "1:30"


def test_no_estimate_before_the_first_rows_or_without_a_size():
    assert show(job(rows_expected=100), NOW, 60, STOPPED).remaining is None
    assert show(job(rows_checked=10), NOW, 60, STOPPED).remaining is None
    queued = show(job(status=JobStatus.QUEUED, started_at=None), NOW, 60, STOPPED)
    assert queued.elapsed is None and queued.active


def test_a_running_job_without_a_heartbeat_for_the_window_is_stopped():
    late = job(heartbeat_at=NOW - timedelta(seconds=61))
    shown = show(late, NOW, 60, STOPPED)
    assert (shown.state, shown.active, shown.can_retry) == ("stopped", False, True)
    assert shown.message == "stopped after 60 s"
    assert show(job(heartbeat_at=NOW - timedelta(seconds=59)), NOW, 60, STOPPED).active


def test_ended_jobs():
    failed = show(job(status=JobStatus.FAILED, finished_at=NOW, error="No."), NOW, 60, STOPPED)
    assert (failed.state, failed.active, failed.can_retry, failed.message) == (
        "failed", False, True, "No.")
    done = show(job(status=JobStatus.SUCCEEDED, finished_at=NOW - timedelta(seconds=10),
                    heartbeat_at=NOW - timedelta(hours=1)), NOW, 60, STOPPED)
    assert done.state == "succeeded" and done.elapsed == timedelta(seconds=20)
    assert clock(timedelta(hours=1, minutes=2, seconds=3)) == "1:02:03" and clock(None) == ""


class Handler:
    """The least an engine handler needs: one required column, every row new."""

    columns = [engine.Column("name", lambda v: v or None, required=True)]
    checks_whole_file = False
    blame = key_label = "name"

    def key_of(self, values):
        return (values["name"],)

    def check(self, values):
        return values

    def classify(self, record):
        return "new"

    def write(self, outcome, records):
        pass

    def finish_checks(self):
        return []

    def after_write(self):
        pass


def test_the_engine_reports_rows_read_checked_and_written():
    rows = 1200
    data = ("name\n" + "".join(f"row {n}\n" for n in range(rows))).encode()
    table = parsing.open_table(data, ["name"], ["name"], parsing.Budget())
    reports = []
    engine.analyse(Handler(), table, write=True,
                   progress=lambda *counts, final=False: reports.append((counts, final)))
    assert reports == [((500, 499, 0), False), ((1000, 999, 0), False),
                       ((1200, 1200, 1200), True)]
    assert expected_rows(data) == rows and expected_rows(data.rstrip(b"\n")) == rows
    assert expected_rows(parsing.XLSX_MAGIC + b"...") is None
