"""More than one app host (issue 19, item 6): two gunicorn on two ports share one PostgreSQL
database and one Redis, with a worker started apart, and one browser whose requests a load
balancer would spread over both. An upload previewed through one host is confirmed through
the other, a write through one is on the other's next page, failed logins count across both,
and a job queued by a host waits until the worker runs it.

Each host runs one gunicorn worker and has an instance folder of its own, so anything a host
kept in its process or on its disk would show as a difference between the two."""
from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from ..conftest import CSRF_RE, PG_URL
from ..jobs.conftest import REDIS_URL, WorkerProcess, remove_queue, wait_for
from ..redis_server import require_redis
from .serving import gunicorn, prepared

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="two hosts share one PostgreSQL database; set KYROS_TEST_DATABASE_URL "
                       "(CI runs this on PostgreSQL)")

PASSWORD = "two-hosts-password"
PLANNER = "planner@two-hosts.example"
# Failed logins per account and minute: the default of KYROS_LOGIN_LIMIT_PER_ACCOUNT, set
# here so the test does not depend on the environment it runs in. The limit per address
# (all of them come from 127.0.0.1) is raised, so runs one after the other never meet it.
ACCOUNT_LIMIT = 5
# Seconds a queued job is watched with no worker running: none of the hosts may run it.
NO_WORKER_SECONDS = 3
TIMEOUT = 30


@dataclass
class Hosts:
    a: str
    b: str
    database_url: str
    engine: Engine
    queue: str
    viewer: str

    def jobs(self, upload_id: str) -> list[tuple[str, str, str]]:
        """(job id, kind, status) of the upload's jobs, oldest first, from the database."""
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, kind, status FROM jobs WHERE upload_id = :u "
                                     "ORDER BY created_at"), {"u": uuid.UUID(upload_id)})
            return [(str(job_id), kind, status) for job_id, kind, status in rows]

    def scalar(self, sql: str, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar_one()

    def worker(self, tmp_path: Path) -> WorkerProcess:
        """`flask kyros worker`, started apart from both hosts, on their database and queue."""
        return WorkerProcess(self.database_url, self.queue, tmp_path)


class Browser:
    """One browser behind a load balancer: one cookie jar, each request sent to the host
    named; a form is posted with the CSRF token of the last page read, from either host."""

    def __init__(self):
        self.http = requests.Session()
        self.token = None

    def get(self, host: str, path: str) -> requests.Response:
        return self._seen(self.http.get(host + path, timeout=TIMEOUT))

    def post(self, host: str, path: str, fields: dict | None = None,
             files: dict | None = None) -> requests.Response:
        data = {"csrf_token": self.token, **(fields or {})}
        return self._seen(self.http.post(host + path, data=data, files=files, timeout=TIMEOUT))

    def _seen(self, response: requests.Response) -> requests.Response:
        match = CSRF_RE.search(response.text) if "html" in response.headers.get(
            "Content-Type", "") else None
        if match:
            self.token = match.group(1)
        return response

    def login(self, host: str, email: str, password: str = PASSWORD) -> requests.Response:
        self.get(host, "/login")
        response = self.post(host, "/login", {"email": email, "password": password})
        self.token = None  # a new session on login: a new token
        return response

    def page_saying(self, host: str, path: str, words: str) -> str:
        """The page at `path` once it says `words` (read again every 0.1 s, for at most a
        minute)."""

        def read():
            page = self.get(host, path).text
            return page if words in page else None

        return wait_for(read, what=f"{words!r} on {host}{path}")

    def upload(self, host: str, name: str, data: bytes) -> str:
        """Upload a file of locations through `host`; the upload's id."""
        self.get(host, "/uploads/new?kind=locations")
        response = self.post(host, "/uploads/", {"kind": "locations", "season": ""},
                             files={"file": (name, data, "text/csv")})
        assert response.status_code == 200, response.text[:2000]
        found = re.fullmatch(re.escape(host) + r"/uploads/([0-9a-f-]{36})", response.url)
        assert found, response.url
        return found.group(1)


def stores(prefix: str, count: int) -> bytes:
    return ("name,type\n" + "".join(f"{prefix} {n},store\n" for n in range(1, count + 1))).encode()


def job_state(page: str) -> str:
    """'Checking the file: done' and the like, as the upload page says it."""
    found = re.search(r'<h2 id="job-heading">([^<]*)<span class="job-state">([^<]*)</span>', page)
    return (found.group(1) + found.group(2)) if found else ""


def forget_logins(email: str) -> None:
    """The throttle's counts for `email`, so that a second run within the minute starts
    afresh."""
    import redis

    store = redis.Redis.from_url(REDIS_URL)
    try:
        for key in store.scan_iter(match=f"*{email}*"):
            store.delete(key)
    finally:
        store.close()


@pytest.fixture(scope="module")
def hosts():
    """Host A and host B: one database (migrated, with a planner and a viewer made by `flask`
    commands), one Redis for the queue and the login throttle; no worker yet."""
    require_redis()
    queue = f"kyros-test-{uuid.uuid4().hex[:12]}"
    viewer = f"viewer-{uuid.uuid4().hex[:12]}@two-hosts.example"
    users = [["kyros", "create-user", email, "--role", role, "--password", PASSWORD]
             for email, role in ((PLANNER, "planner"), (viewer, "viewer"))]
    settings = {"KYROS_REDIS_URL": REDIS_URL, "KYROS_JOB_QUEUE": queue,
                "KYROS_RATELIMIT_STORAGE_URI": REDIS_URL,
                "KYROS_LOGIN_LIMIT_PER_ACCOUNT": f"{ACCOUNT_LIMIT} per minute",
                "KYROS_LOGIN_LIMIT_PER_ADDRESS": "10000 per minute"}
    try:
        with prepared("kyros-two-hosts-", *users, **settings) as (env, workdir):
            (workdir / "host-a").mkdir()
            (workdir / "host-b").mkdir()
            engine = create_engine(env["KYROS_DATABASE_URL"])
            try:
                with gunicorn({**env, "KYROS_INSTANCE_DIR": str(workdir / "host-a")},
                              workers=1) as a, \
                        gunicorn({**env, "KYROS_INSTANCE_DIR": str(workdir / "host-b")},
                                 workers=1) as b:
                    yield Hosts(a=a, b=b, database_url=env["KYROS_DATABASE_URL"],
                                engine=engine, queue=queue, viewer=viewer)
            finally:
                engine.dispose()
    finally:
        remove_queue(queue)
        forget_logins(viewer)


def test_a_job_queued_through_one_host_waits_for_the_worker_started_apart(hosts, tmp_path):
    """With no worker running, the check of a file uploaded through A stays queued, as both
    hosts show; the worker started afterwards runs it, and B shows it done."""
    browser = Browser()
    browser.login(hosts.a, PLANNER)
    upload = browser.upload(hosts.a, "queued.csv", stores("Queued store", 3))

    deadline = time.monotonic() + NO_WORKER_SECONDS
    while time.monotonic() < deadline:
        assert [status for _, _, status in hosts.jobs(upload)] == ["queued"]
        time.sleep(0.2)
    for host in (hosts.a, hosts.b):
        page = browser.get(host, f"/uploads/{upload}").text
        assert job_state(page) == "Checking the file: waiting for a worker"
        assert "Confirm import" not in page

    worker = hosts.worker(tmp_path)
    try:
        wait_for(lambda: hosts.jobs(upload)[0][2] == "succeeded", what="the worker's check")
        (job_id, kind, _), = hosts.jobs(upload)
        assert kind == "preview"
        assert job_id in worker.output()  # RQ logs each job it takes, by its description
    finally:
        worker.close()
    page = browser.get(hosts.b, f"/uploads/{upload}").text
    assert job_state(page) == "Checking the file: done"
    assert "Confirm import" in page


def test_an_upload_previewed_through_one_host_is_confirmed_through_the_other(hosts, tmp_path):
    """The file is stored and checked through A, confirmed through B with the form of A's
    page, and its rows are then on B's pages and in the database."""
    worker = hosts.worker(tmp_path)
    try:
        browser = Browser()
        browser.login(hosts.a, PLANNER)
        upload = browser.upload(hosts.a, "two-hosts.csv", stores("Two hosts store", 3))
        preview = browser.page_saying(hosts.a, f"/uploads/{upload}", "Confirm import")
        assert "Writes 3 new and 0 updated rows in one transaction." in preview

        confirmed = browser.post(hosts.b, f"/uploads/{upload}/confirm")
        assert confirmed.status_code == 200, confirmed.text[:2000]
        assert confirmed.url == f"{hosts.b}/uploads/{upload}"
        result = browser.page_saying(hosts.b, f"/uploads/{upload}",
                                     "Committed: every row was written.")
        assert job_state(result) == "Writing the rows: done"
    finally:
        worker.close()

    listed = browser.get(hosts.b, "/masterdata/locations?q=Two+hosts+store").text
    assert all(f"Two hosts store {n}" in listed for n in (1, 2, 3))
    assert hosts.scalar("SELECT count(*) FROM locations WHERE name LIKE 'Two hosts store %'") == 3
    assert hosts.scalar("SELECT status FROM uploads WHERE id = :u",
                        u=uuid.UUID(upload)) == "committed"
    assert [(kind, status) for _, kind, status in hosts.jobs(upload)] == [
        ("preview", "succeeded"), ("commit", "succeeded")]


def test_a_write_through_one_host_is_on_the_next_page_of_the_other(hosts):
    """A season and a location made through A are on B's next pages; B's season page, read
    (and its gate checklist cached) before A assigns the location, shows the assignment."""
    browser = Browser()
    browser.login(hosts.a, PLANNER)
    browser.get(hosts.a, "/seasons/new")
    created = browser.post(hosts.a, "/seasons/", {"name": "Two hosts season",
                                                   "start_date": "2031-02-01",
                                                   "end_date": "2031-07-31"})
    assert created.status_code == 200, created.text[:2000]
    found = re.fullmatch(re.escape(hosts.a) + r"/seasons/([A-Z0-9-]+)", created.url)
    assert found, created.url
    code = found.group(1)
    assert "Two hosts season" in browser.get(hosts.b, "/seasons/").text

    browser.get(hosts.a, "/masterdata/locations/new")
    made = browser.post(hosts.a, "/masterdata/locations", {
        "name": "Written on A", "type": "store", "cluster_id": "", "location_code": ""})
    assert made.status_code == 200, made.text[:2000]
    assert "Written on A" in browser.get(hosts.b, "/masterdata/locations?q=Written+on+A").text

    before = browser.get(hosts.b, f"/seasons/{code}").text
    assert "Assign at least one active location" in before
    browser.get(hosts.a, f"/seasons/{code}/locations")
    assigned = browser.post(hosts.a, f"/seasons/{code}/locations", {"all": "yes"})
    assert assigned.status_code == 200, assigned.text[:2000]
    after = browser.get(hosts.b, f"/seasons/{code}").text
    assert "At least one active location is assigned" in after
    assert "Written on A" in browser.get(hosts.b, f"/seasons/{code}/locations").text


def test_failed_logins_through_both_hosts_count_together(hosts):
    """The account's limit of failed logins is reached by attempts spread over A and B, fewer
    than either host alone would allow: then even the right password is refused, on both."""
    browser = Browser()
    browser.get(hosts.a, "/login")
    spread = [hosts.a if n % 2 == 0 else hosts.b for n in range(ACCOUNT_LIMIT)]
    codes = [browser.post(host, "/login", {"email": hosts.viewer, "password": "wrong"}
                          ).status_code for host in spread]
    assert codes == [422] * ACCOUNT_LIMIT
    assert spread.count(hosts.b) < ACCOUNT_LIMIT and spread.count(hosts.a) < ACCOUNT_LIMIT

    refused = browser.post(hosts.b, "/login", {"email": hosts.viewer, "password": PASSWORD})
    assert refused.status_code == 429
    assert "Too many login attempts" in refused.text
    assert browser.post(hosts.a, "/login", {"email": hosts.viewer, "password": PASSWORD}
                        ).status_code == 429
