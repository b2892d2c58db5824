"""Bounded load test: 20 users browsing and 2 importing at once against gunicorn (2 workers)
on a throwaway PostgreSQL database with the demo data, for 60 s on loopback; it stops by
itself. Writes the "Load" section of docs/PERFORMANCE.md.

    .venv/bin/python -m tests.benchmarks.bench_load [--seconds 60] [--browsers 20]
"""
from __future__ import annotations

import argparse
import random
import re
import statistics
import threading
import time
import urllib.error

from .common import Client, app_env, drop_database, flask, gunicorn, machine, new_database, write_section


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--browsers", type=int, default=20)
    parser.add_argument("--importers", type=int, default=2)
    args = parser.parse_args()
    db_url = new_database()
    env = app_env(db_url)
    try:
        flask(env, "db", "upgrade")
        flask(env, "kyros", "demo-data")
        with gunicorn(env, workers=2) as (base, _):
            setup = Client(base)
            setup.login("planner@kyros.example", "kyros-demo")
            codes = dict((m.group(2), m.group(1)) for m in re.finditer(
                r'href="/seasons/([A-Z0-9]{4}-[A-Z0-9]{4})">[^<]+</a></td>\s*<td>([^<]+)</td>',
                setup.get("/seasons/")))
            buying, planning = codes["Spring Summer 2026"], codes["Holiday 2026"]
            pages = ["/seasons/"] + [p.format(c) for c in codes.values() for p in (
                "/seasons/{}", "/planning/{}/plans", "/planning/{}/otb", "/purchasing/{}/pos",
                "/analytics/{}/", "/analytics/{}/categories?level=2", "/analytics/{}/locations")]
            stop = time.monotonic() + args.seconds
            latencies, errors, imports, failed_imports = [], [], [0], []
            lock = threading.Lock()

            def browse(n):
                client = Client(base)
                client.login("viewer@kyros.example", "kyros-demo")
                rng = random.Random(n)
                while time.monotonic() < stop:
                    path = rng.choice(pages)
                    t0 = time.perf_counter()
                    try:
                        client.get(path)
                        with lock:
                            latencies.append(time.perf_counter() - t0)
                    except (urllib.error.URLError, OSError) as exc:
                        with lock:
                            errors.append(f"{path}: {exc}")

            def importer(n):
                client = Client(base)
                client.login("admin@kyros.example", "kyros-demo")
                count = 0
                while time.monotonic() < stop:
                    count += 1
                    try:
                        if n % 2 == 0:
                            rows = "\n".join(
                                f"LOAD-{n}-{count}-{i},K4F81VEAQ6LNWWJZ,D01-P01-C01,10.00,"
                                f"2026-02-01,2026-02-15,Load,csv" for i in range(20))
                            client.upload("pos", buying, "load-pos.csv",
                                          ("po_number,location_code,category_code,po_value,"
                                           "order_date,delivery_date,supplier,source\n" + rows).encode())
                        else:
                            value = 1000 + count
                            client.upload("plans", planning, "load-plans.csv", (
                                "location_code,category_code,planned_sales,planned_margin\n"
                                f"K4F81VEAQ6LNWWJZ,D01-P01-C01,{value}.00,40\n").encode())
                        with lock:
                            imports[0] += 1
                    except Exception as exc:  # reported in the figures
                        with lock:
                            failed_imports.append(str(exc)[:200])

            threads = ([threading.Thread(target=browse, args=(n,)) for n in range(args.browsers)]
                       + [threading.Thread(target=importer, args=(n,)) for n in range(args.importers)])
            started = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=args.seconds + 120)
            elapsed = time.monotonic() - started
    finally:
        drop_database(db_url)
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000 if latencies else float("nan")

    body = "\n".join([
        f"{machine()}; `python -m tests.benchmarks.bench_load`: {args.browsers} users browsing "
        f"(season, plans, OTB, PO and analytics pages of the demo seasons) and {args.importers} "
        f"importing (PO files of 20 new rows, and a changed plans file) at once for "
        f"{args.seconds:.0f} s against gunicorn with 2 workers on loopback.", "",
        "| figure | value |", "|---|---:|",
        f"| page requests | {len(latencies):,} |",
        f"| requests/s | {len(latencies) / elapsed:,.1f} |",
        f"| p50 ms | {pct(50):,.0f} |", f"| p95 ms | {pct(95):,.0f} |", f"| p99 ms | {pct(99):,.0f} |",
        f"| mean ms | {statistics.mean(latencies) * 1000 if latencies else float('nan'):,.0f} |",
        f"| error responses | {len(errors)} |",
        f"| imports committed | {imports[0]} |", f"| imports failed | {len(failed_imports)} |",
    ])
    write_section("Load", body)
    print(body)
    for line in (errors + failed_imports)[:10]:
        print("  ", line)


if __name__ == "__main__":
    main()
