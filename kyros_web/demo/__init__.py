"""Demo data: a small retailer (the sample files beside this module) with one season in
each workflow status, loaded through the services so every rule and audit applies."""
from __future__ import annotations

import csv
import io
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..auth.models import User
from ..clock import today
from ..planning.reforecast import previous_month
from ..auth.services import create_user
from ..masterdata.models import Category, Location
from ..masterdata.services import create_category, create_cluster, create_location, find_cluster
from ..planning.models import OTBPlan, SeasonPlan
from ..planning.adjustments import Scope
from ..planning.services import (approve_plans, decide_adjustment, request_adjustment,
                                 upsert_otb, upsert_plan, upsert_range)
from ..purchasing.services import create_grn, create_po
from ..seasons.services import advance_season, assign_locations, create_season
from ..seasons.workflow import SeasonStatus
from ..uploads.services import commit_upload, preview_upload

HERE = Path(__file__).parent
DEMO_PASSWORD = "kyros-demo"
DEMO_USERS = (
    ("admin@kyros.example", "admin", "Ada Admin"),
    ("planner@kyros.example", "planner", "Pat Planner"),
    ("buyer@kyros.example", "buyer", "Bo Buyer"),
    ("viewer@kyros.example", "viewer", "Vi Viewer"),
)


@dataclass(frozen=True)
class DemoSeason:
    name: str
    months_shift: int  # from the sample season (Feb–Apr 2026)
    status: SeasonStatus
    tag: str  # keeps PO and GRN numbers unique per season


SEASONS = (
    DemoSeason("Autumn Winter 2025", -6, SeasonStatus.LOCKED, "AW25"),
    DemoSeason("Spring Summer 2026", 0, SeasonStatus.RANGE_UPLOADED, "SS26"),
    DemoSeason("High Summer 2026", 3, SeasonStatus.OTB_UPLOADED, "HS26"),
    DemoSeason("Autumn Winter 2026", 6, SeasonStatus.PLAN_UPLOADED, "AW26"),
    DemoSeason("Holiday 2026", 9, SeasonStatus.LOCATIONS_DEFINED, "HO26"),
    DemoSeason("Spring Summer 2027", 12, SeasonStatus.CREATED, "SS27"),
)


def rows(name: str) -> list[dict]:
    with open(HERE / f"{name}.csv", newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def shift(d: date, months: int) -> date:
    """The same day `months` later (clamped to the month's end)."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise ValueError(d)


def has_data(session: Session) -> bool:
    return bool(session.scalar(select(func.count(User.id))))


def load_users(session: Session, echo=print) -> dict:
    """The demo users, one per role."""
    users = {role: create_user(session, None, email=email, role=role, password=DEMO_PASSWORD,
                               full_name=name)
             for email, role, name in DEMO_USERS}
    echo(f"users: {', '.join(u.email for u in users.values())}")
    return users


def load(session: Session, echo=print) -> None:
    """Create demo users, master data and the six demo seasons."""
    users = load_users(session, echo)
    planner, buyer = users["planner"], users["buyer"]

    for row in rows("locations"):
        cluster = find_cluster(session, row["cluster"]) or create_cluster(
            session, planner, name=row["cluster"])
        create_location(session, planner, name=row["name"], type=row["type"],
                        cluster_id=cluster.id, location_code=row["location_code"],
                        address=row["address"], city=row["city"], country=row["country"])
    for row in rows("categories"):
        parent = (session.scalar(select(Category).where(Category.code == row["parent_code"]))
                  if row["parent_code"] else None)
        create_category(session, planner, code=row["code"], name=row["name"],
                        parent_id=parent.id if parent else None, description=row["description"])
    locations = {loc.location_code: loc.id for loc in session.scalars(select(Location))}
    categories = {c.code: c.id for c in session.scalars(select(Category))}
    echo(f"master data: {len(locations)} locations, {len(categories)} categories")

    for spec in SEASONS:
        season = _season(session, spec, planner, buyer, locations, categories)
        if season.status is SeasonStatus.RANGE_UPLOADED:
            _moves(session, planner, users["admin"], season, categories)
        echo(f"season {season.season_code} {spec.name}: {season.status.value}")


def _moves(session, planner, admin, season, categories) -> None:
    """Two requests to move open to buy in the in-season season (issue 17): one the admin
    approved, from Womens Tops to Womens Bottoms in the last month; one still waiting for
    the admin's decision, so the Approvals page and its count have something to show."""
    last = date(season.end_date.year, season.end_date.month, 1)
    moved = request_adjustment(
        session, planner, season.id, amount=Decimal("1000.00"),
        source=Scope(category_id=categories["D01-P01"], month=last),
        target=Scope(category_id=categories["D01-P02"], month=last),
        reason="Tops sell below plan, bottoms above: follow the customer")
    decide_adjustment(session, admin, moved.id, approve=True,
                      note="Agreed; the tops range is already deep in stock")
    request_adjustment(
        session, planner, season.id, amount=Decimal("500.00"),
        source=Scope(category_id=categories["D02"], month=last),
        target=Scope(category_id=categories["D01"], month=last),
        reason="Mens is over-bought for the last month; Womens needs the room")


def _season(session, spec: DemoSeason, planner, buyer, locations, categories):
    # Three whole months, like the sample season.
    start = shift(date(2026, 2, 1), spec.months_shift)
    end = shift(date(2026, 5, 1), spec.months_shift) - timedelta(days=1)
    season = create_season(session, planner, name=spec.name, start_date=start, end_date=end)
    target = spec.status.position

    def reach(status: SeasonStatus) -> bool:
        return target >= status.position

    def advance():
        advance_season(session, planner, season.id)

    if spec.status is SeasonStatus.CREATED:
        return season
    assign_locations(session, planner, season.id, list(locations.values()))
    advance()  # → locations_defined
    plans = rows("plans")
    if spec.status is SeasonStatus.LOCATIONS_DEFINED:
        plans = plans[: len(plans) * 2 // 3]  # a plan in progress: some locations still missing
    for row in plans:
        upsert_plan(session, planner, season.id, location_id=locations[row["location_code"]],
                    category_id=categories[row["category_code"]],
                    planned_sales=row["planned_sales"], planned_margin=row["planned_margin"],
                    inventory_turns=row["inventory_turns"] or None)
    plan_ids = list(session.scalars(select(SeasonPlan.id).where(SeasonPlan.season_id == season.id)))
    if not reach(SeasonStatus.PLAN_UPLOADED):
        approve_plans(session, planner, season.id, plan_ids[: len(plan_ids) // 2])
        return season
    approve_plans(session, planner, season.id, plan_ids)
    advance()  # → plan_uploaded
    for row in rows("otb"):
        upsert_otb(session, planner, season.id, location_id=locations[row["location_code"]],
                   category_id=categories[row["category_code"]],
                   month=shift(date.fromisoformat(row["month"] + "-01"), spec.months_shift),
                   planned_sales=row["planned_sales"], planned_markdowns=row["planned_markdowns"],
                   planned_closing_stock=row["planned_closing_stock"],
                   opening_stock=row["opening_stock"], on_order=row["on_order"])
    if not reach(SeasonStatus.OTB_UPLOADED):
        return season
    advance()  # → otb_uploaded
    ranges = rows("range")
    if spec.status is SeasonStatus.OTB_UPLOADED:
        ranges = ranges[: len(ranges) - 3]  # three leaf categories still to do
    for row in ranges:
        upsert_range(session, planner, season.id, category_id=categories[row["category_code"]],
                     core_percent=row["core_percent"], fashion_percent=row["fashion_percent"],
                     price_bands={band: row[f"price_band_{band}"] for band in ("low", "mid", "high")})
    if not reach(SeasonStatus.RANGE_UPLOADED):
        return season
    advance()  # → range_uploaded
    pos = {}
    for row in rows("pos"):
        result = create_po(
            session, buyer, season.id, po_number=_tagged(row["po_number"], spec.tag),
            location_id=locations[row["location_code"]],
            category_id=categories[row["category_code"]], po_value=row["po_value"],
            order_date=shift(date.fromisoformat(row["order_date"]), spec.months_shift),
            delivery_date=shift(date.fromisoformat(row["delivery_date"]), spec.months_shift),
            supplier=row["supplier"], source=row["source"] or "manual", policy="warn")
        pos[row["po_number"]] = result.po.id
    for row in rows("grns"):
        create_grn(session, buyer, po_id=pos[row["po_number"]],
                   grn_number=_tagged(row["grn_number"], spec.tag),
                   grn_date=shift(date.fromisoformat(row["grn_date"]), spec.months_shift),
                   received_value=row["received_value"])
    if spec.status is SeasonStatus.RANGE_UPLOADED:
        _actuals(session, planner, season)
    if spec.status is SeasonStatus.LOCKED:
        advance()  # → locked
    return season


CENT = Decimal("0.01")


def sales_factor(location_code: str, category_code: str) -> Decimal:
    """How a location × category sells against its plan in the demo: 0.80 to 1.19, the same
    for every month and every run (from a checksum of the codes, not a random draw)."""
    return Decimal(80 + zlib.crc32(f"{location_code}/{category_code}".encode()) % 40) / 100


def actual_row(location_code, category_code, otb) -> list:
    """A month's demo actuals from its OTB row: sales at the cell's factor of plan, markdowns
    the other way (what sells slowly is marked down more), and the stock not sold on top of
    the planned closing stock (never below zero)."""
    factor = sales_factor(location_code, category_code)
    net_sales = (otb.planned_sales * factor).quantize(CENT)
    markdowns = (otb.planned_markdowns * (2 - factor)).quantize(CENT)
    closing = max(otb.planned_closing_stock + otb.planned_sales - net_sales, Decimal(0))
    return [location_code, category_code, f"{otb.month:%Y-%m}", net_sales, markdowns, closing]


def _actuals(session, planner, season) -> None:
    """The in-season demo season's actuals for the months that have started (by the app's
    clock) but never its last month, so the demo always has a month to reforecast (as if
    its shops had not reported it yet); imported as an upload file so every rule and the
    audit apply."""
    started = min(today().replace(day=1), previous_month(season.end_date.replace(day=1)))
    cells = session.execute(
        select(Location.location_code, Category.code, OTBPlan)
        .join(Location, Location.id == OTBPlan.location_id)
        .join(Category, Category.id == OTBPlan.category_id)
        .where(OTBPlan.season_id == season.id, OTBPlan.month <= started)
        .order_by(Location.location_code, Category.code, OTBPlan.month)).all()
    if not cells:
        return
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["location_code", "category_code", "month", "net_sales", "markdowns",
                     "closing_stock"])
    writer.writerows(actual_row(*cell) for cell in cells)
    # An empty config: the upload limits' defaults.
    upload = preview_upload(session, planner, kind="actuals", data=out.getvalue().encode(),
                            file_name=f"actuals-{season.season_code}.csv", season=season,
                            config={})
    commit_upload(session, planner, upload.id, config={})


def _tagged(number: str, tag: str) -> str:
    """PO-26-000001 → PO-SS26-000001."""
    prefix, _, serial = number.rpartition("-")
    return f"{prefix.split('-')[0]}-{tag}-{serial}"


__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "SEASONS", "has_data", "load", "load_users"]
