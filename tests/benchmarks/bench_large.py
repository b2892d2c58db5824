"""Large-scale benchmark (issue 19): a national chain's season (`demo-data --scale large`:
1,000 locations, 300 leaf categories, 1.71 million OTB rows, 285,000 plan rows, 200,000 POs,
about 230,000 GRNs, 1.8 million rows of actuals) built in a throwaway PostgreSQL database
through the import services, its load timed per kind; then over HTTP on gunicorn (2 workers,
loopback) p50/p95 of sequential requests to every analytics page, the season page, the OTB
pivot's first screen and the PO list, warm (the figure cache as configured) and cold
(`KYROS_FIGURE_CACHE_ENTRIES=0`), one cold season pack, and the SQL statements of each page
(counted in-process, cold). Writes the "Large scale" section of docs/PERFORMANCE.md.

Building takes many minutes; `--database URL` measures a database already built (kept, not
dropped), with `--load-log FILE` the saved output of its `flask kyros demo-data --scale large`
for the load's figures.

    .venv/bin/python -m tests.benchmarks.bench_large [--requests 30] [--database URL]
        [--load-log FILE] [--keep]
"""
from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from .bench_pages import COLD, PAGES, statement_counts
from .common import (ROOT, Client, app_env, drop_database, flask, gunicorn, machine,
                     new_database, pct, time_pages, write_section)

PACK = "season pack (all pages, fingerprint)"
# Every analytics page of the pages bench (the pack apart: it is timed cold, a few times),
# and the season's pages the issue names.
LARGE_PAGES = [("season page", "/seasons/{code}"),
               ("OTB pivot, first screen", "/planning/{code}/otb/pivot"),
               ("PO list", "/purchasing/{code}/pos")] + [
    (name, path) for name, path in PAGES if path.startswith("/analytics/") and name != PACK]
PACK_URL = dict(PAGES)[PACK]
TARGETS = {"cold": 200, "warm": 50, "pack": 5000}
LOAD_LINE = re.compile(r"^(\w+): ([\d,]+) rows in (\d+) file\(s\), ([\d.]+) s \(preview "
                       r"([\d.]+) s, commit ([\d.]+) s\), ([\d,]+) rows/s, peak ([\d,]+) MB")
FILES_LINE = re.compile(r"^files: ([\d,]+) rows generated in ([\d.]+) s, peak ([\d,]+) MB")


def build(env: dict) -> tuple[str, float, float]:
    """demo-data --scale large into the env's database: (its output, seconds, peak MB of the
    loading process)."""
    flask(env, "db", "upgrade")
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(ROOT / ".venv/bin/flask"), "kyros", "demo-data", "--scale",
                             "large"], cwd=ROOT, env={**env, "PYTHONUNBUFFERED": "1"},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in proc.stdout:
        print(line, end="", flush=True)
        lines.append(line)
    if proc.wait() != 0:
        raise SystemExit("demo-data --scale large failed")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return "".join(lines), time.perf_counter() - t0, peak


def parse_load(output: str) -> tuple[list[dict], dict | None]:
    """Each kind's figures, and the file generation's, from demo-data's output."""
    kinds, files = [], None
    for line in output.splitlines():
        if m := LOAD_LINE.match(line):
            kinds.append({"kind": m[1], "rows": int(m[2].replace(",", "")), "files": int(m[3]),
                          "total": float(m[4]), "preview": float(m[5]), "commit": float(m[6]),
                          "rate": int(m[7].replace(",", "")), "peak": int(m[8].replace(",", ""))})
        elif m := FILES_LINE.match(line):
            files = {"rows": int(m[1].replace(",", "")), "seconds": float(m[2]),
                     "peak": int(m[3].replace(",", ""))}
    return kinds, files


def season_code(client: Client) -> str:
    seasons = client.get("/seasons/?status=range_uploaded")
    return re.search(r'href="/seasons/([A-Z0-9]{4}-[A-Z0-9]{4})"', seasons).group(1)


def timings(env: dict, requests: int, pack_runs: int = 0) -> tuple[dict, dict, list]:
    """(url per page, request times per page, the pack's times) on gunicorn, 2 workers."""
    with gunicorn(env, workers=2) as (base, _):
        client = Client(base)
        client.login("viewer@kyros.example", "kyros-demo")
        code = season_code(client)
        urls = {name: path.format(code=code) for name, path in LARGE_PAGES}
        times = time_pages(client, urls, requests, each=lambda name, took: print(
            f"{name}: p50 {pct(took, 50):.0f} ms, p95 {pct(took, 95):.0f} ms", flush=True))
        pack = []
        for _ in range(pack_runs):
            t0 = time.perf_counter()
            client.get(PACK_URL.format(code=code))
            pack.append((time.perf_counter() - t0) * 1000)
        if pack:
            print(f"pack: {', '.join(f'{t:.0f}' for t in pack)} ms", flush=True)
    return urls, times, pack


def database_facts(db_url: str) -> dict:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        facts = {"size": conn.scalar(text("SELECT pg_size_pretty(pg_database_size("
                                          "current_database()))"))}
        for table in ("locations", "categories", "season_plans", "otb_plan", "purchase_orders",
                      "grn_records", "season_actuals"):
            facts[table] = conn.scalar(text(f"SELECT count(*) FROM {table}"))
    engine.dispose()
    return facts


def memory_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return float("nan")


def met(value: float, target: float) -> str:
    return "yes" if value <= target else "**no**"


def section(args, load, files, load_seconds, load_peak, facts, urls, warm, cold, pack,
            statements) -> str:
    lines = [f"{machine()}, {memory_gb():.0f} GB of memory; the machine was shared with other "
             "engineers' benchmarks while this ran, so single figures may carry their noise. "
             f"`python -m tests.benchmarks.bench_large`: `flask kyros demo-data --scale large` "
             "into PostgreSQL, then over HTTP to gunicorn (2 workers, loopback) "
             f"{args.requests} sequential requests per page after one request to each worker. "
             "*Warm*: the figure cache as configured (the data did not change between "
             "requests); *cold*: `KYROS_FIGURE_CACHE_ENTRIES=0`, every request computes its "
             "figures, as the first request after a write does. Statements counted "
             "in-process, cold.", "",
             "The season: " + ", ".join(f"{facts[t]:,} {label}" for t, label in (
                 ("locations", "locations"), ("categories", "categories"),
                 ("season_plans", "plan rows"), ("otb_plan", "OTB rows"),
                 ("purchase_orders", "POs"), ("grn_records", "GRNs"),
                 ("season_actuals", "rows of actuals"))) + f"; the database {facts['size']}.", ""]
    if load:
        lines += ["### Load", "",
                  "Each kind's files through the import services (`preview_upload` then "
                  "`commit_upload`, as `load_bench` and the upload page do); OTB and actuals "
                  "in files of three whole months, under the import's 1,000,000-row limit. "
                  "Peak MB is the loading process's resident high-water mark after the kind "
                  "(it only grows down the table).", "",
                  "| kind | rows | files | preview s | commit s | total s | rows/s | peak MB |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for k in load:
            lines.append(f"| {k['kind']} | {k['rows']:,} | {k['files']} | {k['preview']:.1f} "
                         f"| {k['commit']:.1f} | {k['total']:.1f} | {k['rate']:,} "
                         f"| {k['peak']:,} |")
        total = sum(k["total"] for k in load)
        lines += ["", f"Imports together {total:,.0f} s ({total / 60:.1f} min)"
                  + (f"; the whole command {load_seconds:,.0f} s, its peak {load_peak:,.0f} MB"
                     if load_seconds else "")
                  + (f"; generating the files first took {files['seconds']:.0f} s "
                     f"({files['rows']:,} rows, generator peak {files['peak']:,} MB)"
                     if files else "") + ".", ""]
    else:
        lines += ["The load was not measured in this run (a database built before, no "
                  "`--load-log`).", ""]
    lines += ["### Pages", "",
              f"| page | warm p50 ms | warm p95 ms | cold p50 ms | cold p95 ms | statements "
              f"| warm ≤ {TARGETS['warm']} ms p95 | cold ≤ {TARGETS['cold']} ms p95 |",
              "|---|---:|---:|---:|---:|---:|---|---|"]
    for name in urls:
        w95, c95 = pct(warm[name], 95), pct(cold[name], 95)
        lines.append(f"| {name} | {pct(warm[name], 50):.0f} | {w95:.0f} "
                     f"| {pct(cold[name], 50):.0f} | {c95:.0f} | {statements[name]} "
                     f"| {met(w95, TARGETS['warm'])} | {met(c95, TARGETS['cold'])} |")
    if pack:
        worst = max(pack)
        lines += ["", f"Season pack (every analytics page and its fingerprint), cold, "
                  f"{len(pack)} request(s): {', '.join(f'{t / 1000:.1f}' for t in pack)} s; "
                  f"target ≤ {TARGETS['pack'] / 1000:.0f} s: {met(worst, TARGETS['pack'])}."]
    lines += ["", "Targets (issue 19): cold p95 ≤ 200 ms for every analytics page, the season "
              "page, the OTB pivot's first screen and the PO list; warm p95 ≤ 50 ms; a cold "
              "season pack ≤ 5 s; imports per kind in rows/s (above). The large season carries "
              "a full season of actuals (every location × leaf × month), as the bench's does."]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--pack-runs", type=int, default=3)
    parser.add_argument("--database", help="a database already built with demo-data --scale "
                                           "large (kept)")
    parser.add_argument("--load-log", type=Path, help="its demo-data output, for the load's "
                                                      "figures")
    parser.add_argument("--keep", action="store_true", help="keep the database this run builds")
    args = parser.parse_args()
    db_url = args.database or new_database()
    env = app_env(db_url)
    load_seconds = load_peak = 0.0
    try:
        if args.database:
            output = args.load_log.read_text() if args.load_log else ""
        else:
            output, load_seconds, load_peak = build(env)
        load, files = parse_load(output)
        facts = database_facts(db_url)
        urls, warm, _ = timings(env, args.requests)
        _, cold, pack = timings({**env, **COLD}, args.requests, pack_runs=args.pack_runs)
        statements = statement_counts(db_url, urls)
    finally:
        if not args.database and not args.keep:
            drop_database(db_url)
        elif not args.database:
            print(f"kept {db_url}", file=sys.stderr)
    write_section("Large scale", section(args, load, files, load_seconds, load_peak, facts,
                                         urls, warm, cold, pack, statements))
    print("Large scale section written to docs/PERFORMANCE.md")


if __name__ == "__main__":
    main()
