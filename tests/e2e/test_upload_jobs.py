"""An import as background jobs in a browser (issue 19): gunicorn with a queue in Redis and
`flask kyros worker` beside it; the planner uploads a file, watches the check and then the
commit progress (polled by htmx, or reloaded by the page itself without JavaScript), and
sees the rows written."""
from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from ..jobs.conftest import REDIS_URL, WorkerProcess, remove_queue
from ..redis_server import require_redis
from .serving import logged_in_page, require_browser, served

PASSWORD = "jobs-password"
SAMPLES = Path(__file__).resolve().parents[1] / "data"
SHOTS = Path(__file__).resolve().parents[2] / "test-results"


@pytest.fixture
def server(monkeypatch, tmp_path):
    """The app on a queue of its own, and a worker whose commits wait 3 s before they
    commit (so the page shows an import in progress)."""
    require_browser("the background import journey")
    require_redis()
    queue = f"kyros-e2e-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("KYROS_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("KYROS_JOB_QUEUE", queue)
    try:
        with served("kyros-e2e-jobs-", ["kyros", "create-user", "planner@e2e.example", "--role",
                                        "planner", "--password", PASSWORD]) as (base, db_url):
            worker = WorkerProcess(db_url, queue, tmp_path, KYROS_JOB_TEST_HOLD_SECONDS=3)
            try:
                yield base
            finally:
                worker.close()
    finally:
        remove_queue(queue)


@pytest.mark.parametrize("js", [True, False], ids=["javascript", "no-javascript"])
def test_an_import_runs_as_jobs_and_the_page_follows_it(server, js):
    from playwright.sync_api import sync_playwright

    base = server
    with sync_playwright() as p:
        browser, page = logged_in_page(p, base, "planner@e2e.example", PASSWORD, js=js,
                                       timeout_ms=30000)

        page.goto(base + "/uploads/new?kind=locations")
        page.get_by_label("File", exact=True).set_input_files(str(SAMPLES / "locations.csv"))
        page.get_by_role("button", name="Upload").click()
        page.wait_for_url(re.compile(r".*/uploads/[0-9a-f-]{36}$"))
        # The worker checks the file; the page follows without a click.
        page.get_by_role("button", name="Confirm import").wait_for()
        assert page.get_by_text("Checking the file: done").count() == 1
        assert page.get_by_text("New clusters will be created: Region 01, Region 02").count()

        page.get_by_role("button", name="Confirm import").click()
        page.get_by_text(re.compile(r"Writing the rows: (waiting for a worker|running)")
                         ).wait_for()
        assert page.get_by_role("button", name="Confirm import").count() == 0
        page.get_by_text("Writing the rows: running").wait_for()
        assert page.get_by_text("Elapsed").count() == 1
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"upload-job-progress-{'js' if js else 'nojs'}.png"),
                        full_page=True)
        page.get_by_text("Committed: every row was written.").wait_for()
        assert page.get_by_text("Writing the rows: done").count() == 1
        assert page.locator("#job-progress dd").nth(2).inner_text() == "7"  # written

        page.goto(base + "/masterdata/locations")
        assert page.get_by_text("Region 01").count() >= 1
        browser.close()
