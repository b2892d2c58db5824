"""The purchasing pages read a cell's budget (issue 17, item 1): the PO list flags and sorts
by OTB + adjustments − committed, the PO page shows the OTB, the adjustments and the budget,
and a PO file's preview shows each month's adjustments beside its OTB."""
import io
import re
from datetime import date

import pytest

from kyros_web.purchasing.services import create_po

from ..services.test_budget_purchasing import moved_season
from .test_figures_receipts import page_text
from .test_po_grn_lists import table


@pytest.fixture
def bought(make, session):
    """February: OTB 1,000 + 500, one PO of 1,400 (over its OTB, within its budget); March:
    OTB 1,000 − 500, POs of 300 + 300 (within its OTB, over its budget by 100)."""
    s = moved_season(make, session)
    for number, value, ordered in (("PO-F", "1400", date(2026, 2, 3)),
                                   ("PO-M1", "300", date(2026, 3, 2)),
                                   ("PO-M2", "300", date(2026, 3, 3))):
        create_po(session, s.buyer, s.season.id, po_number=number, location_id=s.loc.id,
                  category_id=s.leaf.id, po_value=value, order_date=ordered, policy="warn")
    return s


def test_po_list_flags_and_sorts_by_budget(login, bought):
    """Each row's flag is its cell's committed − budget; sorted by it, March comes first."""
    b = login("viewer")
    base = f"/purchasing/{bought.season.season_code}/pos"
    by_flag = [(row[0], row[11]) for row in table(b.get(f"{base}?sort=otb&dir=desc")).rows]
    assert by_flag == [("PO-M1", "Cell over OTB by 100.00"), ("PO-M2", "Cell over OTB by 100.00"),
                       ("PO-F", "Within OTB")]
    assert sorted((row[0], row[11]) for row in table(b.get(base)).rows) == sorted(by_flag)


def test_po_page_shows_the_budget_of_its_cell(login, bought):
    b = login("viewer")
    code = bought.season.season_code
    feb = page_text(b.get(f"/purchasing/{code}/pos/PO-F"))
    assert ("OTB 1,000.00 Adjustments (approved moves of OTB) 500.00 "
            "Budget (OTB + adjustments) 1,500.00 Committed (all POs due) 1,400.00 "
            "Remaining 100.00") in feb
    mar = page_text(b.get(f"/purchasing/{code}/pos/PO-M1"))
    assert ("OTB 1,000.00 Adjustments (approved moves of OTB) -500.00 "
            "Budget (OTB + adjustments) 500.00 Committed (all POs due) 600.00 "
            "Remaining -100.00 Over OTB") in mar


def test_po_form_figures_show_the_budget(login, bought):
    b = login("buyer")
    code = bought.season.season_code
    text = page_text(b.get(f"/purchasing/{code}/pos/figures", query_string={
        "location_id": str(bought.loc.id), "category_id": str(bought.leaf.id),
        "order_date": "2026-02-10", "delivery_date": "", "po_value": "50"}))
    assert ("OTB 1,000.00 Adjustments (approved moves of OTB) 500.00 "
            "Budget (OTB + adjustments) 1,500.00 Committed by other POs 1,400.00 "
            "Remaining before this PO 100.00 Remaining after this PO 50.00") in text


def test_po_file_preview_shows_the_adjustments_of_each_month(login, bought):
    b = login("buyer")
    data = ("po_number,location_code,category_code,po_value,order_date\n"
            f"U-F,{bought.loc.location_code},{bought.leaf.code},100,2026-02-04\n").encode()
    response = b.post("/uploads/", {"kind": "pos", "season": bought.season.season_code,
                                    "file": (io.BytesIO(data), "pos.csv")},
                      content_type="multipart/form-data")
    assert response.status_code == 303
    text = re.sub(r"\s*\|\s*", "|", page_text(b.get(response.headers["Location"])))
    assert "Month|OTB|Adjustments|Committed before|Committed after|Utilisation before" in text
    # February: 1,400 then 1,500 of a budget of 1,500; March: 600 of 500.
    assert "2026-02|1,000.00|500.00|1,400.00|1,500.00|93.3 %|100.0 %" in text
    assert "2026-03|1,000.00|-500.00|600.00|600.00|120.0 %|120.0 %" in text
