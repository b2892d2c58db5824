"""Page benchmark: every listed page over HTTP on gunicorn (PostgreSQL), p50/p95 of 50
sequential requests at the sample scale and at bench scale, with the figure cache as
configured (warm: the data did not change between requests) and turned off (cold: every
request computes, as the first one after a write does), the SQL statements each page
issues with the cache off (counted in-process), and the dashboard's throughput with 16
concurrent clients and 2 workers, warm and cold. Writes the "Pages" and "Throughput"
sections of docs/PERFORMANCE.md.

    .venv/bin/python -m tests.benchmarks.bench_pages [--requests 50] [--seconds 15]
"""
from __future__ import annotations

import argparse
import re

from .common import (PERFORMANCE, Client, app_env, concurrent_gets, count_statements,
                     drop_database, flask, gunicorn, in_process_app, machine, new_database, pct,
                     time_pages, write_section)

PAGES = [
    ("season page", "/seasons/{code}"),
    ("plans grid", "/planning/{code}/plans"),
    ("plans grid, filtered", "/planning/{code}/plans?approved=no&sort=sales&dir=desc"),
    ("OTB grid", "/planning/{code}/otb"),
    ("OTB by month", "/planning/{code}/otb/pivot"),
    ("OTB by month, a cluster opened", "/planning/{code}/otb/pivot?open={group}"),
    ("PO list", "/purchasing/{code}/pos"),
    ("PO list, sorted by received", "/purchasing/{code}/pos?sort=received&dir=desc"),
    ("PO list, sorted by OTB flag", "/purchasing/{code}/pos?sort=otb&dir=desc"),
    ("GRN list", "/purchasing/{code}/grns"),
    ("GRN list, sorted by location", "/purchasing/{code}/grns?sort=location&page=40"),
    ("OTB cell page", "/planning/{code}/otb/cell/{location}/{leaf}/{month}"),
    ("dashboard", "/analytics/{code}/"),
    ("read-only view", "/analytics/{code}/view"),
    ("budget vs actual", "/analytics/{code}/budget"),
    ("category breakdown", "/analytics/{code}/categories?level=2"),
    ("cluster summary", "/analytics/{code}/clusters"),
    ("location performance", "/analytics/{code}/locations?top=10"),
    ("PO status", "/analytics/{code}/pos"),
    ("price bands", "/analytics/{code}/price-bands"),
    ("in season", "/analytics/{code}/in-season"),
    ("in season by location", "/analytics/{code}/in-season?by=location"),
    # February 2026 has actuals in both in-season seasons (the sample's and the bench's).
    ("in season, a month", "/analytics/{code}/in-season?period=2026-02"),
    ("workflow status", "/analytics/workflow"),
    ("export page", "/analytics/{code}/export"),
    ("budget vs actual as XLSX", "/analytics/{code}/budget?format=xlsx"),
    ("season pack (all pages, fingerprint)", "/analytics/{code}/pack"),
]


COLD = {"KYROS_FIGURE_CACHE_ENTRIES": "0"}


def statement_counts(db_url: str, urls: dict) -> dict:
    """SQL statements per page with the cache off, counted in-process with the same app."""
    app = in_process_app(db_url, **COLD)
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = Client.token(html)
    client.post("/login", data={"email": "viewer@kyros.example", "password": "kyros-demo",
                                "csrf_token": token})
    counts = {}
    for name, url in urls.items():
        client.get(url)
        counts[name] = count_statements(app, lambda: client.get(url))
    return counts


def timings(env: dict, requests: int) -> tuple[dict, dict]:
    """(url per page, request times per page) against gunicorn with 2 workers."""
    with gunicorn(env, workers=2) as (base, _):
        client = Client(base)
        client.login("viewer@kyros.example", "kyros-demo")
        seasons = client.get("/seasons/?status=range_uploaded")
        code = re.search(r'href="/seasons/([A-Z0-9]{4}-[A-Z0-9]{4})"', seasons).group(1)
        pos = client.get(f"/purchasing/{code}/pos")
        cell = re.search(r"/otb/cell/([A-Z0-9]+)/([A-Z0-9_-]+)/(\d{4}-\d{2})", pos)
        group = re.search(r'data-key="(c\.[0-9a-z]+)"', client.get(f"/planning/{code}/otb/pivot"))
        urls = {name: path.format(code=code, location=cell.group(1), leaf=cell.group(2),
                                  month=cell.group(3), group=group.group(1))
                for name, path in PAGES}
        times = time_pages(client, urls, requests)
    return urls, times


def measure(scale: str, requests: int, seconds: float, clients: int) -> dict:
    db_url = new_database()
    env = app_env(db_url)
    try:
        flask(env, "db", "upgrade")
        flask(env, "kyros", "demo-data", "--scale", scale)
        urls, warm = timings(env, requests)
        _, cold = timings({**env, **COLD}, requests)
        result = {"warm": warm, "cold": cold, "statements": statement_counts(db_url, urls)}
        if scale == "bench":
            result["throughput"] = {"warm": throughput(env, urls["dashboard"], seconds, clients),
                                    "cold": throughput({**env, **COLD}, urls["dashboard"],
                                                       seconds, clients)}
        return result
    finally:
        drop_database(db_url)


def throughput(env: dict, url: str, seconds: float, clients: int) -> dict:
    with gunicorn(env, workers=2) as (base, _):
        return concurrent_gets(base, url, seconds, clients)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    sample = measure("sample", args.requests, args.seconds, args.clients)
    bench = measure("bench", args.requests, args.seconds, args.clients)
    lines = [f"{machine()}; `python -m tests.benchmarks.bench_pages`: {args.requests} sequential "
             "requests per page over HTTP to gunicorn (2 workers, loopback), after one request "
             "to each worker, on the demo data (sample) and `demo-data --scale bench`. *Warm*: "
             "the figure cache as configured (the data did not change between requests); "
             "*cold*: `KYROS_FIGURE_CACHE_ENTRIES=0`, every request computes its figures, as "
             "the first request after a write does. Statements counted in-process, cold.", "",
             "| page | sample p95 ms | sample cold p95 ms | bench p50 ms | bench p95 ms "
             "| bench cold p50 ms | bench cold p95 ms | statements sample / bench |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, _ in PAGES:
        lines.append(
            f"| {name} | {pct(sample['warm'][name], 95):.0f} | {pct(sample['cold'][name], 95):.0f} "
            f"| {pct(bench['warm'][name], 50):.0f} | {pct(bench['warm'][name], 95):.0f} "
            f"| {pct(bench['cold'][name], 50):.0f} | {pct(bench['cold'][name], 95):.0f} "
            f"| {sample['statements'][name]} / {bench['statements'][name]} |")
    lines += ["", "Target (issue 8): p95 ≤ 150 ms at bench scale, statements not growing with "
              "the data; the In season pages (issue 16) p95 ≤ 150 ms cold at bench scale. The "
              "bench season carries a full season of actuals (every location × leaf × month), "
              "the sample's in-season season its elapsed months'."]
    write_section("Pages", "\n".join(lines))
    warm, cold = bench["throughput"]["warm"], bench["throughput"]["cold"]
    rows = "".join(f"| {label} | {warm[k]:{fmt}} | {cold[k]:{fmt}} |\n" for label, k, fmt in (
        ("requests", "requests", ","), ("requests/s", "rps", ".1f"), ("p50 ms", "p50", ".0f"),
        ("p99 ms", "p99", ".0f"), ("errors", "errors", "")))
    body = (f"{machine()}; the bench-scale dashboard with {args.clients} concurrent clients "
            f"(threads of one Python process on the same machine, logged in before the clock "
            f"starts) for {args.seconds:.0f} s against gunicorn with 2 workers on loopback; warm "
            f"and cold as above.\n\n| figure | warm | cold |\n|---|---:|---:|\n{rows}\n"
            "Target (issue 8): ≥ 120 requests/s with p99 < 500 ms.")
    write_section("Throughput", body)
    print(PERFORMANCE.read_text())


if __name__ == "__main__":
    main()
