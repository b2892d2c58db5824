"""A season's data as export tables (plans, OTB, range intent, POs, GRNs), streamed in order."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..masterdata.models import Category, Location
from ..planning.models import OTBPlan, RangeIntent, SeasonPlan
from ..purchasing.models import GRNRecord, PurchaseOrder
from .report import DATE, MONEY, MONTH, NUMBER, Column, Table


def season_tables(session: Session, season) -> list[tuple[str, Table]]:
    sid = season.id
    plans = session.execute(
        select(Location.location_code, Location.name, Category.code, Category.name,
               SeasonPlan.planned_sales, SeasonPlan.planned_margin, SeasonPlan.inventory_turns,
               SeasonPlan.approved)
        .join(Location, Location.id == SeasonPlan.location_id)
        .join(Category, Category.id == SeasonPlan.category_id)
        .where(SeasonPlan.season_id == sid).order_by(Location.location_code, Category.code)).all()
    otb = session.execute(
        select(Location.location_code, Category.code, OTBPlan.month, OTBPlan.planned_sales,
               OTBPlan.planned_markdowns, OTBPlan.planned_closing_stock, OTBPlan.opening_stock,
               OTBPlan.on_order, OTBPlan.approved_spend_limit)
        .join(Location, Location.id == OTBPlan.location_id)
        .join(Category, Category.id == OTBPlan.category_id)
        .where(OTBPlan.season_id == sid)
        .order_by(Location.location_code, Category.code, OTBPlan.month)).all()
    ranges = session.execute(
        select(Category.code, RangeIntent.core_percent, RangeIntent.fashion_percent,
               RangeIntent.price_band_mix)
        .join(Category, Category.id == RangeIntent.category_id)
        .where(RangeIntent.season_id == sid).order_by(Category.code)).all()
    pos = session.execute(
        select(PurchaseOrder.po_number, Location.location_code, Category.code,
               PurchaseOrder.supplier, PurchaseOrder.order_date, PurchaseOrder.delivery_date,
               PurchaseOrder.po_value, PurchaseOrder.status, PurchaseOrder.source)
        .join(Location, Location.id == PurchaseOrder.location_id)
        .join(Category, Category.id == PurchaseOrder.category_id)
        .where(PurchaseOrder.season_id == sid).order_by(PurchaseOrder.po_number)).all()
    grns = session.execute(
        select(GRNRecord.grn_number, PurchaseOrder.po_number, GRNRecord.grn_date,
               GRNRecord.received_value)
        .join(PurchaseOrder, PurchaseOrder.id == GRNRecord.po_id)
        .where(PurchaseOrder.season_id == sid).order_by(GRNRecord.grn_number)).all()

    def band(mix, name):
        return Decimal(mix[name]) if mix.get(name) is not None else None

    return [
        ("Plans", Table("plans", "Plans", [
            Column("location_code"), Column("location_name"), Column("category_code"),
            Column("category_name"), Column("planned_sales", MONEY), Column("planned_margin", NUMBER),
            Column("inventory_turns", NUMBER), Column("approved")],
            [[*r[:7], "yes" if r[7] else "no"] for r in plans])),
        ("OTB", Table("otb", "OTB", [
            Column("location_code"), Column("category_code"), Column("month", MONTH),
            *[Column(n, MONEY) for n in ("planned_sales", "planned_markdowns",
                                         "planned_closing_stock", "opening_stock", "on_order",
                                         "approved_spend_limit")]], [list(r) for r in otb])),
        ("Range intent", Table("range", "Range intent", [
            Column("category_code"), Column("core_percent", NUMBER), Column("fashion_percent", NUMBER),
            Column("price_band_low", NUMBER), Column("price_band_mid", NUMBER),
            Column("price_band_high", NUMBER)],
            [[r[0], r[1], r[2], band(r[3], "low"), band(r[3], "mid"), band(r[3], "high")]
             for r in ranges])),
        ("POs", Table("pos", "POs", [
            Column("po_number"), Column("location_code"), Column("category_code"),
            Column("supplier"), Column("order_date", DATE), Column("delivery_date", DATE),
            Column("po_value", MONEY), Column("status"), Column("source")],
            [[*r[:7], r[7].value, r[8].value] for r in pos])),
        ("GRNs", Table("grns", "GRNs", [
            Column("grn_number"), Column("po_number"), Column("grn_date", DATE),
            Column("received_value", MONEY)], [list(r) for r in grns])),
    ]



