"""Import benchmark at bench scale: every kind through the real upload path (HTTP upload →
preview → confirm on gunicorn, loopback only) and through `flask kyros import`, on a
throwaway PostgreSQL database. Prints the figures and writes docs/PERFORMANCE.md.

    python -m tests.benchmarks.bench_imports [--runs 3] [--scale 1.0]
"""
from __future__ import annotations

import argparse
import http.cookiejar
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
SERVER = os.environ.get("KYROS_BENCH_DATABASE_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
ORDER = ["locations", "categories", "plans", "otb", "range", "pos", "grns"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_database() -> str:
    url = make_url(SERVER)
    name = f"kyros_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(db_url: str) -> None:
    url = make_url(db_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                     {"n": url.database})
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}"'))
    admin.dispose()


class Client:
    """A browser-like client: cookies, CSRF tokens from the forms, multipart uploads."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=600) as r:
            return r.read().decode()

    def token(self, html: str) -> str:
        return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)

    def post(self, path: str, fields: dict, file: tuple | None = None) -> tuple[str, str]:
        if file is None:
            body = urllib.parse.urlencode(fields).encode()
            ctype = "application/x-www-form-urlencoded"
        else:
            boundary = uuid.uuid4().hex
            parts = []
            for k, v in fields.items():
                parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
            name, data = file
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                         f"Content-Type: text/csv\r\n\r\n".encode() + data + b"\r\n")
            parts.append(f"--{boundary}--\r\n".encode())
            body = b"".join(parts)
            ctype = f"multipart/form-data; boundary={boundary}"
        request = urllib.request.Request(self.base + path, data=body, method="POST",
                                         headers={"Content-Type": ctype})
        with self.opener.open(request, timeout=600) as r:
            return r.geturl(), r.read().decode()


def peak_rss_mb(pid: int) -> float:
    """The high-water mark of a process's resident memory (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0])


def run_once(scale: float) -> dict:
    sys.path.insert(0, str(ROOT))
    from kyros_web.demo.bench import END, START, bench_files

    files = bench_files(scale=scale)
    db_url = new_database()
    env = {**os.environ, "KYROS_DATABASE_URL": db_url, "KYROS_SECRET_KEY": "bench-secret",
           "KYROS_ENV": "development", "FLASK_APP": "wsgi.py",
           "KYROS_INSTANCE_DIR": tempfile.mkdtemp(prefix="kyros-bench-")}
    flask = [str(ROOT / ".venv/bin/flask")]
    results: dict = {}
    server = None
    try:
        subprocess.run(flask + ["db", "upgrade"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        subprocess.run(flask + ["kyros", "create-user", "bench@kyros.example", "--role", "admin",
                                "--password", "bench-password"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        port = free_port()
        server = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}", "--timeout",
             "600", "wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        client = Client(f"http://127.0.0.1:{port}")
        for _ in range(100):
            try:
                client.get("/health")
                break
            except OSError:
                time.sleep(0.1)
        html = client.get("/login")
        client.post("/login", {"email": "bench@kyros.example", "password": "bench-password",
                               "csrf_token": client.token(html)})
        worker = worker_pid(server.pid)

        def season_cmd(*args):
            out = subprocess.run(flask + ["kyros", "season", *args], cwd=ROOT, env=env,
                                 check=True, capture_output=True, text=True)
            return out.stdout.strip()

        def upload(kind: str, season: str | None, label: str | None = None):
            token = client.token(client.get("/uploads/new"))
            t0 = time.perf_counter()
            url, _ = client.post("/uploads/", {"kind": kind, "season": season or "",
                                               "csrf_token": token}, (f"{kind}.csv", files[kind]))
            t1 = time.perf_counter()
            page = client.get(urllib.parse.urlparse(url).path)
            if "Confirm import" not in page:
                raise SystemExit(f"{kind} was not accepted: " + re.sub(r"<[^>]+>", " ", page)[:2000])
            confirm = urllib.parse.urlparse(url).path + "/confirm"
            client.post(confirm, {"csrf_token": client.token(page)})
            t2 = time.perf_counter()
            rows = files[kind].count(b"\n") - 1
            results[label or kind] = {"rows": rows, "preview": t1 - t0, "confirm": t2 - t1,
                                      "total": t2 - t0, "peak_mb": peak_rss_mb(worker)}

        upload("locations", None)
        upload("categories", None)
        code = season_cmd("create", "--name", "Bench", "--start", START.isoformat(),
                          "--end", END.isoformat(), "--user", "bench@kyros.example")
        season_cmd("assign", code, "--all")
        season_cmd("advance", code)
        upload("plans", code)
        season_cmd("advance", code)
        upload("otb", code)
        upload("otb", code, "otb again (all unchanged)")
        with tempfile.NamedTemporaryFile(suffix=".csv") as fh:
            fh.write(files["otb"])
            fh.flush()
            t0 = time.perf_counter()
            subprocess.run(flask + ["kyros", "import", "otb", fh.name, "--season", code,
                                    "--user", "bench@kyros.example"],
                           cwd=ROOT, env=env, check=True, capture_output=True)
            results["otb via flask kyros import (unchanged)"] = {
                "rows": files["otb"].count(b"\n") - 1, "preview": float("nan"),
                "confirm": float("nan"), "total": time.perf_counter() - t0,
                "peak_mb": float("nan")}
        season_cmd("advance", code)
        upload("range", code)
        season_cmd("advance", code)
        upload("pos", code)
        upload("grns", code)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        drop_database(db_url)
    return results


def report(runs: list[dict], scale: float) -> str:
    def pct(values, p):
        values = sorted(values)
        return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]

    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    lines = [
        "# Performance",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores "
        f"({cpu}), Python {platform.python_version()}, PostgreSQL at `{make_url(SERVER).host}`; "
        f"{len(runs)} run(s) at scale {scale} by `python -m tests.benchmarks.bench_imports`.",
        "",
        "## Imports (HTTP upload → preview → confirm on gunicorn, 1 worker, loopback)",
        "",
        "| file | rows | preview s (median) | confirm s (median) | total s (median) | total s (p95) | rows/s | server peak MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in runs[0]:
        totals = [r[name]["total"] for r in runs]
        med = statistics.median(totals)
        rows = runs[0][name]["rows"]
        pre = statistics.median(r[name]["preview"] for r in runs)
        con = statistics.median(r[name]["confirm"] for r in runs)
        peak = max(r[name]["peak_mb"] for r in runs)
        fmt = lambda x: "–" if x != x else f"{x:.2f}"  # noqa: E731
        lines.append(f"| {name} | {rows:,} | {fmt(pre)} | {fmt(con)} | {med:.2f} | "
                     f"{pct(totals, 95):.2f} | {rows / med:,.0f} | {fmt(peak)} |")
    lines += ["", "Server peak MB is the gunicorn worker's resident high-water mark (VmHWM) after "
              "that file, so it only grows down the table. The CLI row includes starting Python "
              "and the app."]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--out", default=str(ROOT / "docs" / "PERFORMANCE.md"))
    args = parser.parse_args()
    runs = []
    for n in range(args.runs):
        runs.append(run_once(args.scale))
        print(f"run {n + 1}: " + ", ".join(f"{k} {v['total']:.2f}s" for k, v in runs[-1].items()),
              flush=True)
    text_ = report(runs, args.scale)
    Path(args.out).write_text(text_)
    print(text_)


if __name__ == "__main__":
    main()
