"""Page benchmark: every listed page over HTTP on gunicorn (PostgreSQL), p50/p95 of 50
sequential requests at the sample scale and at bench scale, the SQL statements each page
issues (counted in-process), and the dashboard's throughput with 16 concurrent clients and
2 workers. Writes the "Pages" and "Throughput" sections of docs/PERFORMANCE.md.

    .venv/bin/python -m tests.benchmarks.bench_pages [--requests 50] [--seconds 15]
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import threading
import time

from .common import (ROOT, Client, app_env, drop_database, flask, gunicorn, machine,
                     new_database, write_section)

PAGES = [
    ("season page", "/seasons/{code}"),
    ("plans grid", "/planning/{code}/plans"),
    ("plans grid, filtered", "/planning/{code}/plans?approved=no&sort=sales&dir=desc"),
    ("OTB grid", "/planning/{code}/otb"),
    ("PO list", "/purchasing/{code}/pos"),
    ("OTB cell page", "/planning/{code}/otb/cell/{location}/{leaf}/{month}"),
    ("dashboard", "/analytics/{code}/"),
    ("read-only view", "/analytics/{code}/view"),
    ("budget vs actual", "/analytics/{code}/budget"),
    ("category breakdown", "/analytics/{code}/categories?level=2"),
    ("cluster summary", "/analytics/{code}/clusters"),
    ("location performance", "/analytics/{code}/locations?top=10"),
    ("PO status", "/analytics/{code}/pos"),
    ("price bands", "/analytics/{code}/price-bands"),
    ("workflow status", "/analytics/workflow"),
]


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def statement_counts(db_url: str, urls: dict) -> dict:
    """SQL statements per page, counted in-process with the same app."""
    os.environ.update(app_env(db_url))
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import event

    from kyros_web import create_app
    from kyros_web.extensions import db

    app = create_app()
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = Client.token(html)
    client.post("/login", data={"email": "viewer@kyros.example", "password": "kyros-demo",
                                "csrf_token": token})
    counts = {}
    with app.app_context():
        engine = db.engine
    for name, url in urls.items():
        client.get(url)
        seen = []
        listener = lambda *a: seen.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        client.get(url)
        event.remove(engine, "before_cursor_execute", listener)
        counts[name] = len(seen)
    return counts


def measure(scale: str, requests: int) -> tuple[dict, dict]:
    db_url = new_database()
    env = app_env(db_url)
    try:
        flask(env, "db", "upgrade")
        flask(env, "kyros", "demo-data", "--scale", scale)
        with gunicorn(env, workers=2) as (base, _):
            client = Client(base)
            client.login("viewer@kyros.example", "kyros-demo")
            seasons = client.get("/seasons/?status=range_uploaded")
            code = re.search(r'href="/seasons/([A-Z0-9]{4}-[A-Z0-9]{4})"', seasons).group(1)
            pos = client.get(f"/purchasing/{code}/pos")
            cell = re.search(r"/otb/cell/([A-Z0-9]+)/([A-Z0-9_-]+)/(\d{4}-\d{2})", pos)
            urls = {name: path.format(code=code, location=cell.group(1), leaf=cell.group(2),
                                      month=cell.group(3)) for name, path in PAGES}
            timings = {}
            for name, url in urls.items():
                client.get(url)
                times = []
                for _ in range(requests):
                    t0 = time.perf_counter()
                    client.get(url)
                    times.append((time.perf_counter() - t0) * 1000)
                timings[name] = times
        counts = statement_counts(db_url, urls)
        return timings, counts
    finally:
        drop_database(db_url)


def throughput(seconds: float, clients: int) -> dict:
    db_url = new_database()
    env = app_env(db_url)
    try:
        flask(env, "db", "upgrade")
        flask(env, "kyros", "demo-data", "--scale", "bench")
        with gunicorn(env, workers=2) as (base, _):
            setup = Client(base)
            setup.login("viewer@kyros.example", "kyros-demo")
            code = re.search(r'href="/seasons/([A-Z0-9]{4}-[A-Z0-9]{4})"',
                             setup.get("/seasons/?status=range_uploaded")).group(1)
            url = f"/analytics/{code}/"
            latencies, errors, lock = [], [0], threading.Lock()
            stop = time.monotonic() + seconds

            def run():
                client = Client(base)
                client.login("viewer@kyros.example", "kyros-demo")
                while time.monotonic() < stop:
                    t0 = time.perf_counter()
                    try:
                        client.get(url)
                        with lock:
                            latencies.append((time.perf_counter() - t0) * 1000)
                    except OSError:
                        with lock:
                            errors[0] += 1

            threads = [threading.Thread(target=run) for _ in range(clients)]
            started = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=seconds + 120)
            elapsed = time.monotonic() - started
        return {"requests": len(latencies), "rps": len(latencies) / elapsed,
                "p50": pct(latencies, 50), "p99": pct(latencies, 99), "errors": errors[0]}
    finally:
        drop_database(db_url)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    sample_t, sample_c = measure("sample", args.requests)
    bench_t, bench_c = measure("bench", args.requests)
    lines = [f"{machine()}; `python -m tests.benchmarks.bench_pages`: {args.requests} sequential "
             "requests per page over HTTP to gunicorn (2 workers, loopback), the demo data "
             "(sample) and `demo-data --scale bench`; statements counted in-process.", "",
             "| page | sample p50 ms | sample p95 ms | bench p50 ms | bench p95 ms | statements sample / bench |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, _ in PAGES:
        lines.append(f"| {name} | {pct(sample_t[name], 50):.0f} | {pct(sample_t[name], 95):.0f} | "
                     f"{pct(bench_t[name], 50):.0f} | {pct(bench_t[name], 95):.0f} | "
                     f"{sample_c[name]} / {bench_c[name]} |")
    lines += ["", "Target (issue 8): p95 ≤ 150 ms at bench scale, statements not growing with the data."]
    write_section("Pages", "\n".join(lines))
    t = throughput(args.seconds, args.clients)
    body = (f"{machine()}; the bench-scale dashboard with {args.clients} concurrent clients for "
            f"{args.seconds:.0f} s against gunicorn with 2 workers on loopback.\n\n"
            "| figure | value |\n|---|---:|\n"
            f"| requests | {t['requests']:,} |\n| requests/s | {t['rps']:.1f} |\n"
            f"| p50 ms | {t['p50']:.0f} |\n| p99 ms | {t['p99']:.0f} |\n| errors | {t['errors']} |\n\n"
            "Target (issue 8): ≥ 120 requests/s with p99 < 500 ms.")
    write_section("Throughput", body)
    print(open(ROOT / "docs" / "PERFORMANCE.md").read())


if __name__ == "__main__":
    main()
