"""Shared pieces of the benchmark scripts: throwaway databases, a gunicorn server on
loopback, a cookie-keeping client, and docs/PERFORMANCE.md written section by section."""
from __future__ import annotations

import http.cookiejar
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable

from sqlalchemy.engine import make_url

from ..dbutil import create_throwaway_database, drop_database  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
SERVER = os.environ.get("KYROS_BENCH_DATABASE_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PERFORMANCE = ROOT / "docs" / "PERFORMANCE.md"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_database() -> str:
    return create_throwaway_database(SERVER, prefix="kyros_bench")


def bench_today() -> date:
    """The app's clock for a benchmark: the real date, or the bench clock where the bench
    season (with its actuals and GRNs) would still lie in the future."""
    from kyros_web.demo.bench import CLOCK

    return max(date.today(), CLOCK)


def app_env(db_url: str) -> dict:
    return {**os.environ, "KYROS_DATABASE_URL": db_url, "KYROS_SECRET_KEY": "bench-secret",
            "KYROS_ENV": "development", "FLASK_APP": "wsgi.py",
            "KYROS_INSTANCE_DIR": tempfile.mkdtemp(prefix="kyros-bench-"),
            "KYROS_TODAY": bench_today().isoformat(),
            # Benchmarks log in many times from one address on purpose.
            "KYROS_LOGIN_LIMIT_PER_ADDRESS": "100000 per minute",
            "KYROS_LOGIN_LIMIT_PER_ACCOUNT": "100000 per minute"}


def flask(env: dict, *args, check=True) -> str:
    out = subprocess.run([str(ROOT / ".venv/bin/flask"), *args], cwd=ROOT, env=env, check=check,
                         capture_output=True, text=True)
    return out.stdout.strip()


@contextmanager
def gunicorn(env: dict, workers: int = 1):
    """gunicorn on a free loopback port; yields (base URL, master pid)."""
    port = free_port()
    proc = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "-w", str(workers), "-b",
                             f"127.0.0.1:{port}", "--timeout", "600", "wsgi:app"], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


class Client:
    """A browser-like client: cookies, CSRF tokens from the forms, multipart uploads."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=600) as r:
            return r.read().decode(errors="replace")  # downloads (XLSX) are timed, not read

    @staticmethod
    def token(html: str) -> str:
        return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)

    def post(self, path: str, fields, file: tuple | None = None,
             headers: dict | None = None) -> tuple[str, str]:
        """POST a form (a dict, or (name, value) pairs for repeated names); with `file`, as
        multipart. Returns (the final URL, the body)."""
        if file is None:
            body = urllib.parse.urlencode(fields).encode()
            ctype = "application/x-www-form-urlencoded"
        else:
            boundary = uuid.uuid4().hex
            parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                     for k, v in fields.items()]
            name, data = file
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                         f'filename="{name}"\r\nContent-Type: text/csv\r\n\r\n'.encode() + data + b"\r\n")
            parts.append(f"--{boundary}--\r\n".encode())
            body = b"".join(parts)
            ctype = f"multipart/form-data; boundary={boundary}"
        request = urllib.request.Request(self.base + path, data=body, method="POST",
                                         headers={"Content-Type": ctype, **(headers or {})})
        with self.opener.open(request, timeout=600) as r:
            return r.geturl(), r.read().decode()

    def login(self, email: str, password: str) -> None:
        html = self.get("/login")
        self.post("/login", {"email": email, "password": password, "csrf_token": self.token(html)})

    def upload(self, kind: str, season: str | None, name: str, data: bytes) -> str:
        """Upload, check the preview and confirm; returns the result page."""
        token = self.token(self.get("/uploads/new"))
        url, _ = self.post("/uploads/", {"kind": kind, "season": season or "", "csrf_token": token},
                           (name, data))
        path = urllib.parse.urlparse(url).path
        page = self.get(path)
        if "Confirm import" not in page:
            raise RuntimeError(f"{kind} refused: " + re.sub(r"<[^>]+>", " ", page)[:500])
        _, result = self.post(path + "/confirm", {"csrf_token": self.token(page)})
        return result


def time_pages(client: Client, urls: dict, requests: int, each=None) -> dict:
    """Milliseconds of `requests` sequential GETs per page, after one to each of 2 workers
    (what a user meets after the first view); `each(name, times)` is told each page's."""
    times = {}
    for name, url in urls.items():
        for _ in range(2):
            client.get(url)
        times[name] = []
        for _ in range(requests):
            t0 = time.perf_counter()
            client.get(url)
            times[name].append((time.perf_counter() - t0) * 1000)
        if each is not None:
            each(name, times[name])
    return times


def concurrent_gets(base: str, url: str, seconds: float, clients: int,
                    started: Callable[[float], None] | None = None) -> dict:
    """`clients` logged-in viewers asking for `url` over and over, without pausing, for
    `seconds` from when all have logged in (`started(stop)` is told the moment the clock
    stops): requests, requests/s, p50, p99 and errors."""
    latencies, errors, lock, clock = [], [0], threading.Lock(), {}

    def start_clock():  # every client has logged in: the clock starts now
        clock["started"] = time.monotonic()
        clock["stop"] = clock["started"] + seconds

    ready = threading.Barrier(clients + 1, action=start_clock)

    def run():
        client = Client(base)
        client.login("viewer@kyros.example", "kyros-demo")
        ready.wait()
        while time.monotonic() < clock["stop"]:
            t0 = time.perf_counter()
            try:
                client.get(url)
                with lock:
                    latencies.append((time.perf_counter() - t0) * 1000)
            except OSError:
                with lock:
                    errors[0] += 1

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for t in threads:
        t.start()
    ready.wait(timeout=120)
    if started is not None:
        started(clock["stop"])
    for t in threads:
        t.join(timeout=seconds + 120)
    elapsed = time.monotonic() - clock["started"]
    return {"requests": len(latencies), "rps": len(latencies) / elapsed,
            "p50": pct(latencies, 50) if latencies else float("nan"),
            "p99": pct(latencies, 99) if latencies else float("nan"), "errors": errors[0]}


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def in_process_app(db_url: str, **settings):
    """The app in this process on `db_url` (with extra environment `settings`), for counting
    statements; the environment is restored so later servers do not inherit them."""
    sys.path.insert(0, str(ROOT))
    from kyros_web import create_app

    saved = dict(os.environ)
    os.environ.update(app_env(db_url), **settings)
    try:
        return create_app()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def count_statements(app, call) -> int:
    """The SQL statements `call()` issues through the app's engine."""
    from sqlalchemy import event

    from kyros_web.extensions import db

    with app.app_context():
        engine = db.engine
    seen = []
    listener = lambda *a: seen.append(1)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    return (f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
            f"PostgreSQL at `{make_url(SERVER).host}`, "
            f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")


def write_section(title: str, body: str) -> None:
    """Replace (or add) one `## title` section of docs/PERFORMANCE.md."""
    current = PERFORMANCE.read_text() if PERFORMANCE.exists() else "# Performance\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    section = f"## {title}\n\n{body.strip()}\n\n"
    current = pattern.sub(section, current) if pattern.search(current) else current.rstrip() + "\n\n" + section
    PERFORMANCE.write_text(current.rstrip() + "\n")
