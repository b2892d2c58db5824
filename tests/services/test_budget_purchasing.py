"""Purchasing against a cell's budget (issue 17, item 1): OTB + the approved moves of open to
buy. The PO checks, the PO upload, the PO list's flag and sort, and the count of POs over
budget all compare committed with the budget, never with the uploaded OTB alone."""
from datetime import date
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from kyros_web.errors import ValidationFailed
from kyros_web.models import OTBPlan, UploadStatus
from kyros_web.planning.adjustments import Scope
from kyros_web.planning.services import decide_adjustment, request_adjustment
from kyros_web.purchasing import services as po
from kyros_web.purchasing.queries import POFilters, po_page, po_totals
from kyros_web.seasons.facts import season_facts
from kyros_web.seasons.services import advance_season
from kyros_web.seasons.workflow import SeasonStatus
from kyros_web.sorting import Sort
from kyros_web.uploads import services as uploads

FEB, MAR = date(2026, 2, 1), date(2026, 3, 1)
CONFIG = {"KYROS_OTB_POLICY": "warn", "KYROS_OVER_RECEIPT_TOLERANCE": D("0"),
          "KYROS_MAX_UPLOAD_MB": 25}


def moved_season(make, session):
    """A buying season of one location and one leaf whose OTB is 1,000 in February and 1,000
    in March; an approved move of 500 from March into February makes February's budget 1,500
    (adjustments +500) and March's 500 (adjustments −500)."""
    loc, leaf = make.location(), make.category()
    season = make.season(SeasonStatus.PLAN_UPLOADED, start=FEB, end=date(2026, 3, 31),
                         locations=[loc], leaves=[leaf])
    make.otb_rows(season, [(loc, leaf, month, ("1000", "0", "0", "0", "0"))
                           for month in (FEB, MAR)])
    advance_season(session, make.admin, season.id)
    make.fill(season)
    advance_season(session, make.admin, season.id)
    assert season.status is SeasonStatus.RANGE_UPLOADED
    request = request_adjustment(
        session, make.user("planner"), season.id, amount=D("500"),
        source=Scope(location_id=loc.id, category_id=leaf.id, month=MAR),
        target=Scope(location_id=loc.id, category_id=leaf.id, month=FEB),
        reason="February sells faster")
    decide_adjustment(session, make.user("planner"), request.id, approve=True, note="agreed")
    # The uploaded OTB stays as it was.
    assert set(session.scalars(select(OTBPlan.approved_spend_limit)
                               .where(OTBPlan.season_id == season.id))) == {D("1000.00")}
    return SimpleNamespace(season=season, loc=loc, leaf=leaf, buyer=make.user("buyer"))


@pytest.fixture
def moved(make, session):
    return moved_season(make, session)


def new_po(session, s, number, value, ordered, policy):
    return po.create_po(session, s.buyer, s.season.id, po_number=number, location_id=s.loc.id,
                        category_id=s.leaf.id, po_value=value, order_date=ordered,
                        policy=policy)


def test_create_po_checks_the_budget_under_block(session, moved):
    """1,400 fits February's 1,000 + 500; 600 passes March's 1,000 − 500 and is refused with
    the adjustments named."""
    assert new_po(session, moved, "PO-F", "1400", date(2026, 2, 3), "block").over_otb_by is None
    with pytest.raises(ValidationFailed) as refused:
        new_po(session, moved, "PO-M", "600", date(2026, 3, 2), "block")
    assert refused.value.message == (
        "This PO would take 2026-03 over OTB by 100.00: OTB 1,000.00, adjustments -500.00, "
        "committed 0.00, remaining 500.00")


def po_file(s, *rows) -> bytes:
    return ("po_number,location_code,category_code,po_value,order_date\n" + "".join(
        f"{number},{s.loc.location_code},{s.leaf.code},{value},{ordered}\n"
        for number, value, ordered in rows)).encode()


def preview(session, make, s, data, policy):
    return uploads.preview_upload(session, make.admin, kind="pos", data=data,
                                  file_name="pos.csv", season=s.season,
                                  config={**CONFIG, "KYROS_OTB_POLICY": policy})


def test_po_upload_checks_the_budget_under_block(session, make, moved):
    """A file's PO of 1,400 in February is within budget; one of 600 in March is refused,
    the message naming the adjustments."""
    fits = preview(session, make, moved, po_file(moved, ("U-F", "1400", "2026-02-03")), "block")
    assert fits.status is UploadStatus.PREVIEWED
    assert fits.summary["warnings"] == []
    both = preview(session, make, moved, po_file(moved, ("U-F", "1400", "2026-02-03"),
                                                 ("U-M", "600", "2026-03-02")), "block")
    assert both.status is UploadStatus.REJECTED
    assert [(e["row"], e["message"]) for e in both.summary["errors"]] == [(3, (
        "This PO would take 2026-03 over OTB by 100.00: OTB 1,000.00, adjustments -500.00, "
        "committed 0.00, remaining 500.00"))]


def test_po_upload_warns_and_measures_utilisation_by_budget(session, make, moved):
    """Under warn only March goes over; the impact shows each month's OTB and adjustments
    and its utilisation of the budget (1,400 of 1,500, 600 of 500)."""
    upload = preview(session, make, moved, po_file(moved, ("U-F", "1400", "2026-02-03"),
                                                   ("U-M", "600", "2026-03-02")), "warn")
    assert upload.status is UploadStatus.PREVIEWED
    assert upload.summary["warnings"][:2] == ["1 OTB cell(s) would go over OTB",
                                              "PO U-M takes 2026-03 over OTB by 100.00"]
    impact = {m["month"]: m for m in upload.summary["impact"]}
    feb, mar = impact["2026-02-01"], impact["2026-03-01"]
    assert (D(feb["otb"]), D(feb["adjustments"]), D(feb["after"])) == (D(1000), D(500), D(1400))
    assert (D(mar["otb"]), D(mar["adjustments"]), D(mar["after"])) == (D(1000), D(-500), D(600))
    assert D(feb["utilisation_after"]).quantize(D("0.01")) == D("93.33")
    assert D(mar["utilisation_after"]) == D(120)


@pytest.fixture
def bought(session, moved):
    """Under warn: February 1,400 (over its OTB, within its budget); March 300 + 300 (within
    its OTB, over its budget of 500 by 100)."""
    new_po(session, moved, "PO-F", "1400", date(2026, 2, 3), "warn")
    new_po(session, moved, "PO-M1", "300", date(2026, 3, 2), "warn")
    assert new_po(session, moved, "PO-M2", "300", date(2026, 3, 3),
                  "warn").over_otb_by == D("100.00")
    return moved


def test_over_otb_po_count_counts_by_budget(session, bought):
    assert season_facts(session, bought.season).pos_over_otb == 2


def test_po_list_flags_and_sorts_by_budget(session, bought):
    """Each row's cell is over by committed − budget; sorted by that flag, March's POs come
    first, on one page and when each page picks its one PO."""
    sid, f = bought.season.id, POFilters(sort=Sort("otb", descending=True))
    totals = po_totals(session, sid, f)
    rows = [(r.PurchaseOrder.po_number, r.cell_over_by)
            for r in po_page(session, sid, f, 1, 50, totals).items]
    assert rows == [("PO-M1", D("100.00")), ("PO-M2", D("100.00")), ("PO-F", None)]
    assert [r.PurchaseOrder.po_number for page in (1, 2, 3)
            for r in po_page(session, sid, f, page, 1, totals).items] == ["PO-M1", "PO-M2", "PO-F"]
