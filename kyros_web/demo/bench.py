"""The demo retailers for benchmarks as upload files (deterministic), in two shapes. The bench
shape: 8 clusters, 200 locations (190 stores, 10 warehouses), 4 divisions × 3 departments ×
5 classes = 60 leaf categories, one season of 6 months with 11,400 plan rows, 68,400 OTB rows,
60 range intents, 20,000 POs, about 23,000 GRNs and a full season of actuals (72,000 rows:
every location, warehouses too, × leaf category × month that has started by the app's clock).
The large shape (issue 19), a national chain: 20 clusters, 1,000 locations (950 stores, 50
warehouses), 6 × 5 × 10 = 300 leaf categories, 285,000 plan rows, 1.71 million OTB rows,
200,000 POs, about 230,000 GRNs and 1.8 million rows of actuals, generated as a stream into
files. The figures hang together: OTB sales add up to the plan, stock chains month to month, a
few percent of POs go over OTB, GRNs stay within their PO, actuals follow the OTB as the
demo's do (demo.actual_row)."""
from __future__ import annotations

import csv
import io
import random
import resource
import tempfile
import time
from array import array
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

START, END = date(2026, 2, 1), date(2026, 7, 31)
MONTHS = [date(2026, m, 1) for m in range(2, 8)]
# A day by which all of the bench season has happened, its last GRN too: where the real date
# is earlier, the benchmarks set the app's clock (KYROS_TODAY) to it.
CLOCK = date(2026, 9, 30)
CENT = Decimal("0.01")
KINDS = ("locations", "categories", "plans", "otb", "range", "pos", "grns", "actuals")
HEADERS = {
    "locations": ["name", "type", "cluster", "address", "city", "country", "location_code"],
    "categories": ["code", "name", "parent_code", "description"],
    "plans": ["location_code", "category_code", "planned_sales", "planned_margin",
              "inventory_turns"],
    "otb": ["location_code", "category_code", "month", "planned_sales", "planned_closing_stock",
            "opening_stock", "on_order", "planned_markdowns"],
    "range": ["category_code", "core_percent", "fashion_percent", "price_band_low",
              "price_band_mid", "price_band_high"],
    "pos": ["po_number", "location_code", "category_code", "po_value", "order_date",
            "delivery_date", "supplier", "source"],
    "grns": ["grn_number", "po_number", "grn_date", "received_value"],
    "actuals": ["location_code", "category_code", "month", "net_sales", "markdowns",
                "closing_stock", "units_sold", "closing_units"],
}
# Kinds with a row per location × leaf × month: split into files of whole months when one
# file would pass the import's row limit.
MONTH_KINDS = ("otb", "actuals")


class Shape(NamedTuple):
    """A retailer's size: locations, the category tree (departments per division, classes per
    department), the POs of its season and whether it carries actuals."""
    clusters: int
    stores: int
    warehouses: int
    divisions: int
    departments: int
    classes: int
    pos: int
    actuals: bool = True

    @property
    def leaves(self) -> int:
        return self.divisions * self.departments * self.classes


BENCH = Shape(clusters=8, stores=190, warehouses=10, divisions=4, departments=3, classes=5,
              pos=20_000)
LARGE = Shape(clusters=20, stores=950, warehouses=50, divisions=6, departments=5, classes=10,
              pos=200_000)
SHAPES = {"bench": BENCH, "large": LARGE}


class _MonthPlan(NamedTuple):
    """An OTB row's figures as demo.actual_row reads them."""
    month: date
    planned_sales: Decimal
    planned_markdowns: Decimal
    planned_closing_stock: Decimal


def _money(x: float) -> Decimal:
    return Decimal(repr(x)).quantize(CENT, rounding=ROUND_HALF_UP)


def _cents(value: Decimal) -> int:
    return int(value.scaleb(2))


def _decimal(cents: int) -> Decimal:
    # The same coefficient and exponent as the quantized figure it was made from, so later
    # arithmetic (and the files) come out as if the Decimal had been kept.
    return Decimal(cents).scaleb(-2)


def _code(rng: random.Random, taken: set) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    while True:
        code = "".join(rng.choice(alphabet) for _ in range(16))
        if code not in taken:
            taken.add(code)
            return code


class _Memory:
    """Files as bytes in memory (the bench shape)."""

    def __init__(self):
        self.buffers: dict[str, io.StringIO] = {}

    def writer(self, kind: str):
        out = self.buffers[kind] = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADERS[kind])
        return writer.writerow

    def close(self) -> dict[str, bytes]:
        return {kind: out.getvalue().encode() for kind, out in self.buffers.items()}


class _Files:
    """Files on disk written row by row; a month kind goes to one file per `months[kind]`
    months (its month is the third column)."""

    def __init__(self, directory: Path, months: dict[str, int]):
        self.directory, self.months = directory, months
        self.handles: list = []
        self.paths: dict[str, list[Path]] = {}

    def _open(self, kind: str, name: str):
        path = self.directory / name
        handle = open(path, "w", newline="", encoding="utf-8")
        self.handles.append(handle)
        self.paths.setdefault(kind, []).append(path)
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADERS[kind])
        return writer.writerow

    def writer(self, kind: str):
        per_file = self.months.get(kind)
        if per_file is None or per_file >= len(MONTHS):
            return self._open(kind, f"{kind}.csv")
        groups = {f"{m:%Y-%m}": n // per_file for n, m in enumerate(MONTHS)}
        writers = [self._open(kind, f"{kind}-{n + 1}.csv")
                   for n in range(max(groups.values()) + 1)]
        return lambda row: writers[groups[row[2]]](row)

    def close(self) -> dict[str, list[Path]]:
        for handle in self.handles:
            handle.close()
        return self.paths


def _generate(shape: Shape, seed: int, through: date, sink) -> None:
    """Every file of the shape's season, row by row into `sink`. What a later file needs of an
    earlier one is kept as cents in arrays indexed by cell (store × leaf × month), never as
    the rows; the random draws come in the same order for any shape."""
    rng = random.Random(seed)
    stores = shape.stores
    clusters = [f"Region {n:02d}" for n in range(1, shape.clusters + 1)]
    taken: set = set()
    locations = []
    for n in range(stores + shape.warehouses):
        kind = "store" if n < stores else "warehouse"
        name = f"{'Store' if kind == 'store' else 'DC'} {n + 1:03d}"
        locations.append((name, kind, clusters[n % shape.clusters], f"{n + 1} High St",
                          f"City {n % 37}", "USA", _code(rng, taken)))
    write = sink.writer("locations")
    for row in locations:
        write(row)
    location_codes = [loc[6] for loc in locations]
    del locations, taken
    leaves = []
    write = sink.writer("categories")
    for d in range(1, shape.divisions + 1):
        division = f"D{d:02d}"
        write((division, f"Division {d}", "", "Division"))
        for p in range(1, shape.departments + 1):
            dept = f"{division}-P{p:02d}"
            write((dept, f"Department {d}.{p}", division, "Department"))
            for c in range(1, shape.classes + 1):
                leaf = f"{dept}-C{c:02d}"
                write((leaf, f"Class {d}.{p}.{c}", dept, "Class"))
                leaves.append(leaf)
    store_codes = location_codes[:stores]

    # Per cell: its OTB (for picking POs) and, for the actuals, its planned sales, markdowns
    # and closing stock.
    cell_otb = array("q")
    plan_cents = (array("q"), array("q"), array("q")) if shape.actuals else None
    write_plan, write_otb = sink.writer("plans"), sink.writer("otb")
    for loc in store_codes:
        for leaf in leaves:
            weights = [rng.uniform(0.7, 1.3) for _ in MONTHS]
            total = _money(rng.uniform(5000, 50000))
            shares = [(total * Decimal(repr(w / sum(weights)))).quantize(CENT) for w in weights]
            shares[-1] = total - sum(shares[:-1])
            write_plan((loc, leaf, total, _money(rng.uniform(30, 65)),
                        _money(rng.uniform(2, 6))))
            opening = _money(rng.uniform(3000, 20000))
            for month, sales in zip(MONTHS, shares):
                closing = (opening * Decimal(repr(rng.uniform(0.85, 1.15)))).quantize(CENT)
                markdowns = (sales * Decimal("0.05")).quantize(CENT) if rng.random() < 0.4 else Decimal("0.00")
                on_order = (sales * Decimal("0.03")).quantize(CENT) if rng.random() < 0.2 else Decimal("0.00")
                write_otb((loc, leaf, month.strftime("%Y-%m"), sales, closing, opening, on_order,
                           markdowns))
                cell_otb.append(_cents(sales + markdowns + closing - opening - on_order))
                if plan_cents is not None:
                    for column, value in zip(plan_cents, (sales, markdowns, closing)):
                        column.append(_cents(value))
                opening = closing
    write = sink.writer("range")
    for leaf in leaves:
        core = rng.choice([40, 50, 60, 65, 70])
        low = rng.choice([20, 25, 30])
        mid = rng.choice([50, 55])
        write((leaf, f"{core}.00", f"{100 - core}.00", low, mid, 100 - low - mid))

    per_store = len(leaves) * len(MONTHS)
    po_value, po_order = array("q"), array("l")
    write = sink.writer("pos")
    picks = rng.sample(range(len(cell_otb)), min(shape.pos, len(cell_otb)))
    for n, i in enumerate(picks, start=1):
        store, rest = divmod(i, per_store)
        leaf, month = divmod(rest, len(MONTHS))
        loc, leaf, month = store_codes[store], leaves[leaf], MONTHS[month]
        room = max(_decimal(cell_otb[i]), Decimal("100"))
        factor = rng.uniform(1.05, 1.5) if rng.random() < 0.04 else rng.uniform(0.1, 0.6)
        value = max((room * Decimal(repr(factor))).quantize(CENT), Decimal("10.00"))
        delivery = month + timedelta(days=rng.randrange(0, 28))
        order = delivery - timedelta(days=rng.randrange(10, 60))
        write((f"PO-B-{n:06d}", loc, leaf, value, order.isoformat(), delivery.isoformat(),
               f"Supplier {rng.randrange(1, 80):02d}", "csv"))
        po_value.append(_cents(value))
        po_order.append(order.toordinal())
    del picks, cell_otb
    grn_n = 0
    write = sink.writer("grns")
    for n, (cents, ordinal) in enumerate(zip(po_value, po_order), start=1):
        value = _decimal(cents)
        r = rng.random()
        if r < 0.45:
            parts = [value]
        elif r < 0.80:
            first = (value * Decimal(repr(rng.uniform(0.3, 0.7)))).quantize(CENT)
            parts = [first, (value - first) if rng.random() < 0.7 else (value - first) / 2]
        else:
            continue
        day = date.fromordinal(ordinal)
        for part in parts:
            part = part.quantize(CENT)
            if part <= 0:
                continue
            grn_n += 1
            day = day + timedelta(days=rng.randrange(5, 40))
            write((f"GRN-B-{grn_n:06d}", f"PO-B-{n:06d}", day.isoformat(), part))
    del po_value, po_order
    if plan_cents is not None:
        _actuals(sink.writer("actuals"), location_codes, stores, leaves, plan_cents, through,
                 seed)


def _actuals(write, location_codes, stores: int, leaves, plan_cents, through: date,
             seed: int) -> None:
    """Every location × leaf × month up to `through`: a store's from its OTB row like the
    demo's (actual_row), a warehouse's (no plan) only its closing stock; units at a price
    per leaf category. A random stream of its own, so the other files stay as they were."""
    from . import actual_row

    rng = random.Random(seed + 1)
    price = {leaf: Decimal(rng.randrange(15, 90)) for leaf in leaves}
    months = [(n, m) for n, m in enumerate(MONTHS) if m <= through.replace(day=1)]
    sales, markdowns, closing = plan_cents
    cell = 0
    for s, loc in enumerate(location_codes):
        for leaf in leaves:
            depot = _money(rng.uniform(20000, 90000))
            for n, month in months:
                if s < stores:
                    i = cell + n
                    plan = _MonthPlan(month, _decimal(sales[i]), _decimal(markdowns[i]),
                                      _decimal(closing[i]))
                else:
                    plan = _MonthPlan(month, Decimal("0.00"), Decimal("0.00"), depot)
                row = actual_row(loc, leaf, plan)
                net_sales, stock = row[3], row[5]
                write((*row, _units(max(net_sales, Decimal(0)), price[leaf]),
                       _units(stock, price[leaf])))
            cell += len(MONTHS)


def _units(value: Decimal, price: Decimal) -> int:
    return int((value / price).to_integral_value(rounding=ROUND_HALF_UP))


def bench_files(seed: int = 42, scale: float = 1.0, through: date = END) -> dict[str, bytes]:
    """The bench shape's eight upload files; `scale` shrinks the store count for quick runs;
    the actuals cover the months that have started by `through` (the app's clock)."""
    shape = BENCH._replace(stores=max(2, int(BENCH.stores * scale)))
    sink = _Memory()
    _generate(shape, seed, through, sink)
    return sink.close()


def write_files(shape: Shape, directory: Path, seed: int = 42, through: date = END,
                max_rows: int | None = None) -> dict[str, list[Path]]:
    """The shape's upload files written into `directory` row by row (the season is never held
    whole); OTB and actuals are split into files of whole months of at most `max_rows` rows
    each (the import's row limit when None), one file when they fit."""
    from ..uploads.engine import MAX_ROWS

    max_rows = max_rows or MAX_ROWS
    per_month = {"otb": shape.stores * shape.leaves,
                 "actuals": (shape.stores + shape.warehouses) * shape.leaves}
    sink = _Files(Path(directory), {kind: max(1, max_rows // rows)
                                    for kind, rows in per_month.items()})
    try:
        _generate(shape, seed, through, sink)
    finally:
        paths = sink.close()
    return paths


def peak_mb() -> float:
    """This process's resident high-water mark so far, in MB (Linux counts ru_maxrss in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_bench(session, echo=print, scale: float = 1.0) -> None:
    """The bench-scale retailer through the import engine: master data, then one season
    walked to range_uploaded with its plans, OTB, range intent, POs and GRNs."""
    from ..clock import today

    files = bench_files(scale=scale, through=today())
    _load_season(session, "Bench season",
                 {kind: [(f"bench-{kind}.csv", lambda data=data: data)]
                  for kind, data in files.items()}, echo)


def load_large(session, echo=print, shape: Shape = LARGE, seed: int = 42,
               max_rows: int | None = None) -> None:
    """The large retailer (or any shape) the same way, from files generated into a temporary
    directory first and read one at a time (the import engine takes a file's bytes)."""
    from ..clock import today

    with tempfile.TemporaryDirectory(prefix="kyros-large-") as directory:
        t0 = time.perf_counter()
        paths = write_files(shape, Path(directory), seed=seed, through=today(),
                            max_rows=max_rows)
        rows = sum(_rows(path) for parts in paths.values() for path in parts)
        echo(f"files: {rows:,} rows generated in {time.perf_counter() - t0:.1f} s, "
             f"peak {peak_mb():,.0f} MB")
        _load_season(session, "National season",
                     {kind: [(path.name, path.read_bytes) for path in parts]
                      for kind, parts in paths.items()}, echo)


def _rows(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for _ in handle) - 1


def _load_season(session, name: str,
                 files: dict[str, list[tuple[str, Callable[[], bytes]]]], echo) -> None:
    """Master data, then one season walked to range_uploaded with its plans, OTB, range
    intent, POs, GRNs and actuals (when there are any), each file previewed and committed as
    an upload. Prints each kind's rows, seconds (preview, commit) and the peak memory."""
    from flask import current_app
    from sqlalchemy import select

    from ..auth.models import User
    from ..seasons.services import advance_season, assign_all_active, create_season
    from ..uploads.models import UploadStatus
    from ..uploads.services import commit_upload, preview_upload

    admin = session.scalar(select(User).where(User.role == "admin"))
    # The loader's own files: no time budget for a preview and no size cap (a month of the
    # large OTB is over the page's 25 MB); the row limit per file still holds.
    config = {**current_app.config, "KYROS_OTB_POLICY": "warn", "KYROS_MAX_UPLOAD_MB": 4096,
              "KYROS_UPLOAD_CHECK_SECONDS": None}

    def load(kind, season=None):
        rows, checking, writing = 0, 0.0, 0.0
        for file_name, read in files[kind]:
            t0 = time.perf_counter()
            upload = preview_upload(session, admin, kind=kind, data=read(),
                                    file_name=file_name, season=season, config=config)
            t1 = time.perf_counter()
            if upload.status is not UploadStatus.PREVIEWED:
                raise RuntimeError(f"{file_name} was rejected: {upload.summary}")
            commit_upload(session, admin, upload.id, config=config)
            checking, writing = checking + t1 - t0, writing + time.perf_counter() - t1
            rows += upload.rows_total
        seconds = checking + writing
        echo(f"{kind}: {rows:,} rows in {len(files[kind])} file(s), {seconds:.1f} s "
             f"(preview {checking:.1f} s, commit {writing:.1f} s), "
             f"{rows / max(seconds, 1e-9):,.0f} rows/s, peak {peak_mb():,.0f} MB")

    load("locations")
    load("categories")
    season = create_season(session, admin, name=name, start_date=START, end_date=END)
    assign_all_active(session, admin, season.id)
    advance_season(session, admin, season.id)
    for kind in ("plans", "otb", "range"):
        load(kind, season)
        advance_season(session, admin, season.id)
    load("pos", season)
    load("grns", season)
    if "actuals" in files:
        load("actuals", season)
    echo(f"season {season.season_code} {name}: {season.status.value}")
