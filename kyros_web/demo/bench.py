"""The bench-scale retailer as upload files (deterministic): 8 clusters, 200 locations (190
stores, 10 warehouses), 4 divisions × 3 departments × 5 classes = 60 leaf categories, one
season of 6 months with 11,400 plan rows, 68,400 OTB rows, 60 range intents, 20,000 POs,
about 23,000 GRNs and a full season of actuals (72,000 rows: every location, warehouses too,
× leaf category × month that has started by the app's clock). The figures hang together: OTB
sales add up to the plan, stock chains month to month, a few percent of POs go over OTB, GRNs
stay within their PO, actuals follow the OTB as the demo's do (demo.actual_row)."""
from __future__ import annotations

import csv
import io
import random
import zlib
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

START, END = date(2026, 2, 1), date(2026, 7, 31)
MONTHS = [date(2026, m, 1) for m in range(2, 8)]
# A day by which all of the bench season has happened, its last GRN too: where the real date
# is earlier, the benchmarks set the app's clock (KYROS_TODAY) to it.
CLOCK = date(2026, 9, 30)
CENT = Decimal("0.01")


class _MonthPlan(NamedTuple):
    """An OTB row's figures as demo.actual_row reads them."""
    month: date
    planned_sales: Decimal
    planned_markdowns: Decimal
    planned_closing_stock: Decimal


def _csv(headers, rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode()


def _money(x: float) -> Decimal:
    return Decimal(repr(x)).quantize(CENT, rounding=ROUND_HALF_UP)


def _code(rng: random.Random, taken: set) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    while True:
        code = "".join(rng.choice(alphabet) for _ in range(16))
        if code not in taken:
            taken.add(code)
            return code


def bench_files(seed: int = 42, scale: float = 1.0, through: date = END) -> dict[str, bytes]:
    """The eight upload files; `scale` shrinks the store count for quick runs; the actuals
    cover the months that have started by `through` (the app's clock)."""
    rng = random.Random(seed)
    stores = max(2, int(190 * scale))
    clusters = [f"Region {n:02d}" for n in range(1, 9)]
    taken: set = set()
    locations = []
    for n in range(stores + 10):
        kind = "store" if n < stores else "warehouse"
        name = f"{'Store' if kind == 'store' else 'DC'} {n + 1:03d}"
        locations.append((name, kind, clusters[n % 8], f"{n + 1} High St", f"City {n % 37}",
                          "USA", _code(rng, taken)))
    categories = []
    leaves = []
    for d in range(1, 5):
        division = f"D{d:02d}"
        categories.append((division, f"Division {d}", "", "Division"))
        for p in range(1, 4):
            dept = f"{division}-P{p:02d}"
            categories.append((dept, f"Department {d}.{p}", division, "Department"))
            for c in range(1, 6):
                leaf = f"{dept}-C{c:02d}"
                categories.append((leaf, f"Class {d}.{p}.{c}", dept, "Class"))
                leaves.append(leaf)
    store_codes = [loc[6] for loc in locations if loc[1] == "store"]

    plans, otb, cells, month_plans = [], [], [], {}
    for loc in store_codes:
        for leaf in leaves:
            weights = [rng.uniform(0.7, 1.3) for _ in MONTHS]
            total = _money(rng.uniform(5000, 50000))
            shares = [(total * Decimal(repr(w / sum(weights)))).quantize(CENT) for w in weights]
            shares[-1] = total - sum(shares[:-1])
            plans.append((loc, leaf, total, _money(rng.uniform(30, 65)), _money(rng.uniform(2, 6))))
            opening = _money(rng.uniform(3000, 20000))
            for month, sales in zip(MONTHS, shares):
                closing = (opening * Decimal(repr(rng.uniform(0.85, 1.15)))).quantize(CENT)
                markdowns = (sales * Decimal("0.05")).quantize(CENT) if rng.random() < 0.4 else Decimal("0.00")
                on_order = (sales * Decimal("0.03")).quantize(CENT) if rng.random() < 0.2 else Decimal("0.00")
                otb.append((loc, leaf, month.strftime("%Y-%m"), sales, closing, opening, on_order,
                            markdowns))
                month_plans[loc, leaf, month] = _MonthPlan(month, sales, markdowns, closing)
                cells.append((loc, leaf, month, sales + markdowns + closing - opening - on_order))
                opening = closing
    ranges = []
    for leaf in leaves:
        core = rng.choice([40, 50, 60, 65, 70])
        low = rng.choice([20, 25, 30])
        mid = rng.choice([50, 55])
        ranges.append((leaf, f"{core}.00", f"{100 - core}.00", low, mid, 100 - low - mid))

    pos, grns = [], []
    committed: dict = {}
    picks = rng.sample(range(len(cells)), min(20000, len(cells)))
    for n, i in enumerate(picks, start=1):
        loc, leaf, month, cell_otb = cells[i]
        room = max(cell_otb, Decimal("100"))
        factor = rng.uniform(1.05, 1.5) if rng.random() < 0.04 else rng.uniform(0.1, 0.6)
        value = max((room * Decimal(repr(factor))).quantize(CENT), Decimal("10.00"))
        delivery = month + timedelta(days=rng.randrange(0, 28))
        order = delivery - timedelta(days=rng.randrange(10, 60))
        number = f"PO-B-{n:06d}"
        pos.append((number, loc, leaf, value, order.isoformat(), delivery.isoformat(),
                    f"Supplier {rng.randrange(1, 80):02d}", "csv"))
        committed[number] = (value, order)
    grn_n = 0
    for number, (value, order) in committed.items():
        r = rng.random()
        if r < 0.45:
            parts = [value]
        elif r < 0.80:
            first = (value * Decimal(repr(rng.uniform(0.3, 0.7)))).quantize(CENT)
            parts = [first, (value - first) if rng.random() < 0.7 else (value - first) / 2]
        else:
            continue
        day = order
        for part in parts:
            part = part.quantize(CENT)
            if part <= 0:
                continue
            grn_n += 1
            day = day + timedelta(days=rng.randrange(5, 40))
            grns.append((f"GRN-B-{grn_n:06d}", number, day.isoformat(), part))
    actuals = _actuals([loc[6] for loc in locations], leaves, month_plans, through, seed)
    return {
        "locations": _csv(["name", "type", "cluster", "address", "city", "country",
                           "location_code"], locations),
        "categories": _csv(["code", "name", "parent_code", "description"], categories),
        "plans": _csv(["location_code", "category_code", "planned_sales", "planned_margin",
                       "inventory_turns"], plans),
        "otb": _csv(["location_code", "category_code", "month", "planned_sales",
                     "planned_closing_stock", "opening_stock", "on_order", "planned_markdowns"], otb),
        "range": _csv(["category_code", "core_percent", "fashion_percent", "price_band_low",
                       "price_band_mid", "price_band_high"], ranges),
        "pos": _csv(["po_number", "location_code", "category_code", "po_value", "order_date",
                     "delivery_date", "supplier", "source"], pos),
        "grns": _csv(["grn_number", "po_number", "grn_date", "received_value"], grns),
        "actuals": _csv(["location_code", "category_code", "month", "net_sales", "markdowns",
                         "closing_stock", "units_sold", "closing_units"], actuals),
    }


def _actuals(location_codes, leaves, month_plans, through: date, seed: int) -> list[tuple]:
    """Every location × leaf × month up to `through`: a store's from its OTB row like the
    demo's (actual_row), a warehouse's (no plan) only its closing stock; units at a price
    per leaf category. A random stream of its own, so the other files stay as they were."""
    from . import actual_row

    rng = random.Random(seed + 1)
    price = {leaf: Decimal(rng.randrange(15, 90)) for leaf in leaves}
    months = [m for m in MONTHS if m <= through.replace(day=1)]
    rows = []
    for loc in location_codes:
        for leaf in leaves:
            depot = _money(rng.uniform(20000, 90000))
            for month in months:
                plan = month_plans.get((loc, leaf, month)) or _MonthPlan(
                    month, Decimal("0.00"), Decimal("0.00"), depot)
                row = actual_row(loc, leaf, plan)
                net_sales, closing = row[3], row[5]
                rows.append((*row, _units(max(net_sales, Decimal(0)), price[leaf]),
                             _units(closing, price[leaf])))
    return rows


def _units(value: Decimal, price: Decimal) -> int:
    return int((value / price).to_integral_value(rounding=ROUND_HALF_UP))


def load_bench(session, echo=print, scale: float = 1.0) -> None:
    """The bench-scale retailer through the import engine: master data, then one season
    walked to range_uploaded with its plans, OTB, range intent, POs and GRNs."""
    from flask import current_app
    from sqlalchemy import select

    from ..auth.models import User
    from ..clock import today
    from ..seasons.services import advance_season, assign_all_active, create_season
    from ..uploads.services import commit_upload, preview_upload

    admin = session.scalar(select(User).where(User.role == "admin"))
    files = bench_files(scale=scale, through=today())
    config = {**current_app.config, "KYROS_OTB_POLICY": "warn"}

    def load(kind, season=None):
        upload = preview_upload(session, admin, kind=kind, data=files[kind],
                                file_name=f"bench-{kind}.csv", season=season, config=config)
        commit_upload(session, admin, upload.id, config=config)
        echo(f"{kind}: {upload.rows_total:,} rows")

    load("locations")
    load("categories")
    season = create_season(session, admin, name="Bench season", start_date=START, end_date=END)
    assign_all_active(session, admin, season.id)
    advance_season(session, admin, season.id)
    for kind in ("plans", "otb", "range"):
        load(kind, season)
        advance_season(session, admin, season.id)
    load("pos", season)
    load("grns", season)
    load("actuals", season)
    echo(f"season {season.season_code} Bench season: {season.status.value}")
