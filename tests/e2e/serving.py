"""What the browser tests share: whether a browser can run here, and the app served by
gunicorn on a loopback port over a fresh database (SQLite, or a throwaway PostgreSQL database
when KYROS_TEST_DATABASE_URL is set), prepared by `flask` commands."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from ..conftest import PG_URL, create_throwaway_database, drop_database

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("KYROS_CHROMIUM", "/usr/bin/chromium")


def require_browser(what: str, *, pdf: bool = False) -> None:
    """Skip (or, with KYROS_REQUIRE_E2E=1 as .ci/run sets, fail) when Playwright, chromium
    or (for `pdf`) pdftotext is missing."""
    reason = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "Playwright for Python is not installed (pip install -r requirements.txt)"
    if reason is None and not Path(CHROMIUM).exists():
        reason = f"no chromium at {CHROMIUM} (apt-get install -y chromium)"
    if reason is None and pdf and not shutil.which("pdftotext"):
        reason = "pdftotext is missing (apt-get install -y poppler-utils)"
    if reason:
        if os.environ.get("KYROS_REQUIRE_E2E") == "1":
            pytest.fail(f"{what} cannot run: {reason}")
        pytest.skip(f"{what} needs a browser: {reason}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def prepared(prefix: str, *setup: list[str], **settings: str):
    """A fresh, migrated database (SQLite in a folder of its own, or a throwaway PostgreSQL
    database when KYROS_TEST_DATABASE_URL is set) after the `flask` commands of `setup`, run
    with the extra environment `settings`; yields (the app's environment, the folder) and
    removes both afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    db_url = create_throwaway_database(PG_URL) if PG_URL else f"sqlite:///{workdir / 'e2e.db'}"
    env = {**os.environ, "KYROS_DATABASE_URL": db_url, "KYROS_SECRET_KEY": "e2e-secret",
           "KYROS_INSTANCE_DIR": str(workdir), "FLASK_APP": "wsgi.py", "KYROS_ENV": "development",
           **settings}
    try:
        for command in (["db", "upgrade"], *setup):
            subprocess.run([sys.executable, "-m", "flask", *command], cwd=ROOT, env=env,
                           check=True, capture_output=True)
        yield env, workdir
    finally:
        if PG_URL:
            drop_database(db_url)
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def gunicorn(env: dict, *, workers: int = 2, timeout: float = 30):
    """gunicorn on a free loopback port with the environment `env`; yields its base URL once
    /health answers (within `timeout` seconds) and stops it afterwards."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(workers), "-b",
                             f"127.0.0.1:{port}", "--timeout", "120", "wsgi:app"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(base + "/health", timeout=1)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn on {base} did not answer /health "
                                       f"(exit status {proc.poll()})") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


@contextmanager
def served(prefix: str, *setup: list[str]):
    """gunicorn (2 workers) on a fresh, migrated database after the `flask` commands of
    `setup`; yields (base URL, database URL) and removes everything afterwards."""
    with prepared(prefix, *setup) as (env, _), gunicorn(env) as base:
        yield base, env["KYROS_DATABASE_URL"]


def logged_in_page(playwright, base: str, email: str, password: str, *, js: bool = True,
                   timeout_ms: int = 20000):
    """(browser, page): chromium with a page logged in as `email` on the season list;
    confirmation dialogs accepted. The caller closes the browser."""
    import re

    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=["--no-sandbox", "--disable-gpu"])
    context = browser.new_context(java_script_enabled=js)
    context.set_default_timeout(timeout_ms)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(base + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/seasons/$"))
    return browser, page
