"""Mixed load at bench scale (issue 19, item 5): for 60 s, 20 users browse the bench season's
pages, 2 buyers each save a PO edit every second through the PO form, and 1 large import
(the 72,000-row actuals file, changed each time so every row is written) runs through the
upload page as background jobs on Redis with one `flask kyros worker`; gunicorn has 2
workers. Afterwards every buyer's PO must hold its last saved value and one version per save.
Then the dashboard's throughput with 16 clients while the buyers go on saving (each save
makes the cached figures stale). Writes the "Mixed load" section of docs/PERFORMANCE.md.

    .venv/bin/python -m tests.benchmarks.bench_mixed [--seconds 60] [--database URL]

A browsing user reads a page, then spends 0.5–1.5 s on it before the next (--think 1.0 is
the mean; 0 makes every user a client that never pauses). Needs Redis on 127.0.0.1:6379
(KYROS_BENCH_REDIS_URL).
"""
from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import uuid
from decimal import Decimal
from html.parser import HTMLParser

from .common import (ROOT, Client, app_env, bench_today, concurrent_gets, drop_database, flask,
                     gunicorn, machine, new_database, pct, write_section)

REDIS = os.environ.get("KYROS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
PAGES = ["/seasons/{code}", "/planning/{code}/plans", "/planning/{code}/otb",
         "/planning/{code}/otb/pivot", "/purchasing/{code}/pos", "/purchasing/{code}/grns",
         "/analytics/{code}/", "/analytics/{code}/budget", "/analytics/{code}/categories?level=2",
         "/analytics/{code}/clusters", "/analytics/{code}/locations?top=10",
         "/analytics/{code}/pos", "/analytics/{code}/in-season",
         "/analytics/{code}/in-season?by=location", "/exceptions/{code}"]
TARGETS = {"p95": 300, "rps": 100}


class FormFields(HTMLParser):
    """The fields a browser would send from a form: inputs and textareas by value, selects
    by their selected option (else the first)."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}
        self._select = self._textarea = None
        self._first: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "checkbox"):
            self.fields[name] = a.get("value") or ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select:
            self._first.setdefault(self._select, a.get("value") or "")
            if "selected" in a:
                self.fields[self._select] = a.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            self.fields.setdefault(self._select, self._first.get(self._select, ""))
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data


def form_fields(html: str) -> dict[str, str]:
    """The fields of the form holding the page's `version` field."""
    start = html.rindex("<form", 0, html.index('name="version"'))
    parser = FormFields()
    parser.feed(html[start:html.index("</form>", start)])
    return parser.fields


def changed_actuals(data: bytes, run: int) -> bytes:
    """The actuals file with every row's net sales 0.01 higher on odd runs: each import writes
    all of its rows."""
    if run % 2 == 0:
        return data
    lines = data.decode().splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        cells[3] = str(Decimal(cells[3]) + Decimal("0.01"))
        out.append(",".join(cells))
    return ("\n".join(out) + "\n").encode()


def upload_state(page: str) -> str:
    if '<span class="job-state">failed' in page:
        return "failed"
    for state in ("committed", "rejected", "cancelled"):
        if f'status-banner status-{"ok" if state == "committed" else "bad"}' in page \
                and state.capitalize() in page:
            return state
    return "previewed" if "Confirm import" in page else "working"


def run_import(client: Client, code: str, data: bytes, stop_at: float) -> tuple[str, float]:
    """One actuals import through the upload page: upload, wait for the check, confirm, wait
    for the commit. Returns (how it ended, seconds)."""
    t0 = time.monotonic()
    token = client.token(client.get("/uploads/new"))
    url, _ = client.post("/uploads/", {"kind": "actuals", "season": code, "csrf_token": token},
                         ("bench-actuals.csv", data))
    path = urllib.parse.urlparse(url).path
    confirmed = False
    while time.monotonic() < stop_at + 600:
        page = client.get(path)
        state = upload_state(page)
        if state in ("committed", "rejected", "cancelled", "failed"):
            return state, time.monotonic() - t0
        if state == "previewed" and not confirmed:
            client.post(path + "/confirm", {"csrf_token": client.token(page)})
            confirmed = True
        time.sleep(1)
    return "unfinished", time.monotonic() - t0


class Buyer:
    """Saves one PO every second through its edit form, its value moved by a cent up and down
    in turn; counts the saves and remembers the last value it saved."""

    def __init__(self, base: str, code: str, po_number: str):
        self.client = Client(base)
        self.client.login("buyer@kyros.example", "kyros-demo")
        self.code, self.po = code, po_number
        self.saves, self.failures, self.times, self.last = 0, [], [], None
        fields = form_fields(self.client.get(self.edit_url))
        self.first_version = int(fields["version"])

    @property
    def edit_url(self) -> str:
        return f"/purchasing/{self.code}/pos/{self.po}/edit"

    def save(self) -> None:
        t0 = time.perf_counter()
        try:
            fields = form_fields(self.client.get(self.edit_url))
            value = Decimal(fields["po_value"].replace(",", ""))
            value += Decimal("0.01") if self.saves % 2 == 0 else Decimal("-0.01")
            fields["po_value"] = str(value)
            url, body = self.client.post(f"/purchasing/{self.code}/pos/{self.po}", fields)
            if f"/pos/{self.po}" not in url or "/edit" in url or 'class="errors"' in body:
                raise RuntimeError(f"not saved: {url} " + re.sub(r"<[^>]+>", " ", body)[:300])
            self.saves += 1
            self.last = value
            self.times.append(time.perf_counter() - t0)
        except (urllib.error.URLError, OSError, RuntimeError, ValueError, KeyError) as exc:
            self.failures.append(f"{self.po}: {str(exc)[:200]}")

    def kept(self) -> bool:
        fields = form_fields(self.client.get(self.edit_url))
        return (int(fields["version"]) == self.first_version + self.saves
                and (self.last is None
                     or Decimal(fields["po_value"].replace(",", "")) == self.last))

    def every_second(self, stop_at: float) -> None:
        while time.monotonic() < stop_at:
            started = time.monotonic()
            self.save()
            time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))


def editable_pos(client: Client, code: str, count: int) -> list[str]:
    """The first `count` open POs (nothing received yet: a received PO cannot change)."""
    listed = client.get(f"/purchasing/{code}/pos?status=open")
    found = list(dict.fromkeys(re.findall(rf"/purchasing/{code}/pos/(PO-B-\d+)", listed)))
    if len(found) < count:
        raise RuntimeError("not enough open bench POs")
    return found[:count]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--throughput-seconds", type=float, default=15)
    parser.add_argument("--browsers", type=int, default=20)
    parser.add_argument("--buyers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--think", type=float, default=1.0)
    parser.add_argument("--database", help="an existing bench-scale database to use (kept)")
    args = parser.parse_args()
    db_url = args.database or new_database()
    queue = f"kyros-bench-{uuid.uuid4().hex[:8]}"
    env = {**app_env(db_url), "KYROS_REDIS_URL": REDIS, "KYROS_JOB_QUEUE": queue}
    worker = None
    try:
        if not args.database:
            flask(env, "db", "upgrade")
            flask(env, "kyros", "demo-data", "--scale", "bench")
        from kyros_web.demo.bench import bench_files

        actuals = bench_files(through=bench_today())["actuals"]
        worker = subprocess.Popen([str(ROOT / ".venv/bin/flask"), "kyros", "worker"], cwd=ROOT,
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with gunicorn(env, workers=2) as (base, _):
            result = load(base, actuals, args)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=60)
        if not args.database:
            drop_database(db_url)
    report(result, args)


def load(base: str, actuals: bytes, args) -> dict:
    setup = Client(base)
    setup.login("planner@kyros.example", "kyros-demo")
    code = re.search(r'href="/seasons/([A-Z0-9]{4}-[A-Z0-9]{4})">[^<]*</a></td>\s*'
                     r'<td>Bench season</td>', setup.get("/seasons/")).group(1)
    pages = [p.format(code=code) for p in PAGES]
    buyer = Client(base)
    buyer.login("buyer@kyros.example", "kyros-demo")
    buyers = [Buyer(base, code, po) for po in editable_pos(buyer, code, args.buyers)]
    importer = Client(base)
    importer.login("admin@kyros.example", "kyros-demo")

    latencies, errors, imports, lock = [], [], [], threading.Lock()
    stop_at = time.monotonic() + args.seconds

    def browse(n):
        client = Client(base)
        client.login("viewer@kyros.example", "kyros-demo")
        rng = random.Random(n)
        while time.monotonic() < stop_at:
            path = rng.choice(pages)
            t0 = time.perf_counter()
            try:
                client.get(path)
                with lock:
                    latencies.append((time.perf_counter() - t0) * 1000)
            except (urllib.error.URLError, OSError) as exc:
                with lock:
                    errors.append(f"{path}: {exc}")
            if args.think:
                time.sleep(rng.uniform(0.5, 1.5) * args.think)

    def import_loop():
        run = 0
        while time.monotonic() < stop_at:
            try:
                imports.append(run_import(importer, code, changed_actuals(actuals, run),
                                          stop_at))
            except (urllib.error.URLError, OSError, ValueError) as exc:
                imports.append((f"error: {str(exc)[:200]}", 0.0))
            run += 1

    threads = ([threading.Thread(target=browse, args=(n,)) for n in range(args.browsers)]
               + [threading.Thread(target=b.every_second, args=(stop_at,)) for b in buyers]
               + [threading.Thread(target=import_loop)])
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=args.seconds + 900)
    elapsed = time.monotonic() - started
    kept = all(b.kept() for b in buyers)
    saves_before = sum(b.saves for b in buyers)
    throughput = dashboard_under_writes(base, code, buyers, args)
    kept = kept and all(b.kept() for b in buyers)
    return {"latencies": latencies, "errors": errors, "elapsed": elapsed, "imports": imports,
            "saves": saves_before, "buyers": buyers, "kept": kept, "throughput": throughput}


def dashboard_under_writes(base: str, code: str, buyers: list, args) -> dict:
    """The dashboard with `clients` clients that never pause, while the buyers save each
    second."""
    saves_before = sum(b.saves for b in buyers)
    writers = []

    def start_writers(stop: float) -> None:
        writers.extend(threading.Thread(target=b.every_second, args=(stop,)) for b in buyers)
        for t in writers:
            t.start()

    result = concurrent_gets(base, f"/analytics/{code}/", args.throughput_seconds, args.clients,
                             started=start_writers)
    for t in writers:
        t.join(timeout=args.throughput_seconds + 120)
    return {**result, "saves": sum(b.saves for b in buyers) - saves_before}


def report(r: dict, args) -> None:
    lat = r["latencies"]
    buyers = r["buyers"]
    failures = [f for b in buyers for f in b.failures]
    save_times = [t * 1000 for b in buyers for t in b.times]
    done = [s for s, _ in r["imports"]]
    finished = [t for s, t in r["imports"] if s == "committed"]
    t = r["throughput"]
    p95 = pct(lat, 95) if lat else float("nan")
    met = ("met" if p95 <= TARGETS["p95"] and not r["errors"] and not failures and r["kept"]
           else "not met")
    body = "\n".join([
        f"{machine()}; `python -m tests.benchmarks.bench_mixed` at bench scale: for "
        f"{args.seconds:.0f} s, {args.browsers} users browsing {len(PAGES)} pages of the bench "
        f"season (each reads a page, then spends 0.5–1.5 × {args.think:g} s on it), "
        f"{len(buyers)} buyers each saving a PO edit every second through the PO form, and "
        "one actuals import of 72,000 rows after another (each changes every row) through the "
        "upload page, checked and committed by `flask kyros worker` on Redis; gunicorn with 2 "
        "workers, all on this machine's 2 cores. Then the dashboard with "
        f"{args.clients} clients that never pause for {args.throughput_seconds:.0f} s while "
        "the buyers go on saving (each save makes the cached figures stale).", "",
        "| figure | value | target |", "|---|---:|---:|",
        f"| page requests | {len(lat):,} | |",
        f"| page requests/s | {len(lat) / r['elapsed']:,.1f} | |",
        f"| page p50 ms | {pct(lat, 50):,.0f} | |" if lat else "| page p50 ms | – | |",
        f"| page p95 ms | {p95:,.0f} | ≤ {TARGETS['p95']} |",
        f"| page p99 ms | {pct(lat, 99):,.0f} | |" if lat else "| page p99 ms | – | |",
        f"| page errors | {len(r['errors'])} | 0 |",
        f"| PO saves | {r['saves']:,} | one a second per buyer |",
        f"| PO save p95 ms (form and save) | {pct(save_times, 95):,.0f} | |"
        if save_times else "| PO save p95 ms | – | |",
        f"| PO saves failed | {len(failures)} | 0 |",
        f"| every save kept (version and value) | {'yes' if r['kept'] else 'NO'} | yes |",
        f"| actuals imports committed | {len(finished)} of {len(done)} started | |",
        f"| actuals import, upload to committed (median s) | "
        f"{sorted(finished)[len(finished) // 2]:,.1f} | |" if finished
        else "| actuals import, upload to committed | none finished | |",
        f"| dashboard requests/s under writes | {t['rps']:,.1f} | ≥ {TARGETS['rps']} |",
        f"| dashboard p50 / p99 ms under writes | {t['p50']:,.0f} / {t['p99']:,.0f} | |",
        f"| dashboard errors | {t['errors']} | 0 |",
        f"| PO saves during the dashboard run | {t['saves']} | |", "",
        f"Browsing under work: {met}; dashboard under writes: "
        f"{'met' if t['rps'] >= TARGETS['rps'] and not t['errors'] else 'not met'}.",
    ])
    write_section("Mixed load", body)
    print(body)
    for line in (r["errors"] + failures + [s for s in done if s != "committed"])[:10]:
        print("  ", line)


if __name__ == "__main__":
    main()
