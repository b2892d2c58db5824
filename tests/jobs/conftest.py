"""Background jobs against the real Redis (issue 19): each test gets a queue of its own in
Redis database 9, removed afterwards; without Redis the tests are skipped, unless
KYROS_REQUIRE_REDIS=1 (CI) makes that a failure."""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from kyros_web.extensions import db
from kyros_web.jobs.queue import make_worker

from ..redis_server import require_redis
from kyros_web.jobs.services import worker_killed

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/9"
SETTINGS = ("KYROS_REDIS_URL", "KYROS_JOB_QUEUE", "KYROS_JOB_STALE_SECONDS")


def remove_queue(name: str) -> None:
    """Every key RQ made for the queue `name`: the queue, its registries, its jobs and their
    results, the workers that served it."""
    import redis

    store = redis.Redis.from_url(REDIS_URL)
    try:
        job_ids, workers = set(), set()
        for key in store.scan_iter(match="rq:*"):
            text = key.decode()
            if name in text:
                store.delete(key)
            elif text.startswith("rq:job:") and store.type(key) == b"hash":
                if store.hget(key, "origin") == name.encode():
                    job_ids.add(text.split(":", 2)[2])
            elif text.startswith("rq:worker:") and store.type(key) == b"hash":
                if name.encode() in (store.hget(key, "queues") or b""):
                    workers.add(text)
        for key in store.scan_iter(match="rq:*"):
            text = key.decode()
            if any(job_id in text for job_id in job_ids):
                store.delete(key)
        for worker in workers:
            store.delete(worker)
            store.srem("rq:workers", worker)
        store.srem("rq:queues", f"rq:queue:{name}")
    finally:
        store.close()


@pytest.fixture
def queue(app):
    """The app's jobs go to this test's own queue in Redis; the setting is put back after."""
    require_redis()
    saved = {key: app.config[key] for key in SETTINGS}
    name = f"kyros-test-{uuid.uuid4().hex[:12]}"
    app.config.update(KYROS_REDIS_URL=REDIS_URL, KYROS_JOB_QUEUE=name,
                      KYROS_JOB_STALE_SECONDS=60)
    yield name
    app.config.update(saved)
    remove_queue(name)


def work(app) -> None:
    """Run every job on the queue in this process, each in an app context of its own (the
    test's session is closed first: SQLite has one writer at a time)."""
    db.session.remove()
    make_worker(app, worker_killed, fork=False).work(burst=True, with_scheduler=False,
                                                     logging_level="WARNING")
    db.session.remove()


def post_file(browser, data: bytes, name: str, **fields):
    return browser.post("/uploads/", {**fields, "file": (io.BytesIO(data), name)},
                        content_type="multipart/form-data")


def stores(count: int, prefix: str = "Jobs store") -> bytes:
    return ("name,type\n" + "".join(f"{prefix} {n},store\n" for n in range(count))).encode()


class WorkerProcess:
    """`flask kyros worker` in a process (and process group) of its own, on the test's
    database and queue."""

    def __init__(self, database_url: str, queue_name: str, tmp_path, *, burst: bool = False,
                 **settings):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "FLASK_APP": "wsgi.py",
               "KYROS_DATABASE_URL": database_url, "KYROS_REDIS_URL": REDIS_URL,
               "KYROS_JOB_QUEUE": queue_name, "KYROS_INSTANCE_DIR": str(tmp_path),
               **{k: str(v) for k, v in settings.items()}}
        self.log = open(tmp_path / f"worker-{uuid.uuid4().hex[:6]}.log", "w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "kyros", "worker", *(["--burst"] if burst else [])],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)

    def wait(self, timeout: float = 120) -> int:
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL for the worker and its work horse (a machine or container going away)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.kill()
        self.log.close()


def wait_for(predicate, timeout: float = 60, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
