"""PO and GRN screens: the OTB policy, live figures, receipts, cancel and short-close."""
from datetime import date

import pytest
from sqlalchemy import func, select

from kyros_web.models import GRNRecord, POStatus, PurchaseOrder
from kyros_web.purchasing.services import close_po, create_grn, create_po
from kyros_web.seasons.workflow import SeasonStatus

HX = {"HX-Request": "true"}


@pytest.fixture
def buying(make):
    """A range_uploaded season; its one cell has OTB 3,000 in Feb 2026."""
    season = make.season(SeasonStatus.RANGE_UPLOADED)
    return season, season.test_locations[0], season.test_leaves[0]


def po_form(loc, leaf, **kw):
    data = {"po_number": "PO-1", "location_id": str(loc.id), "category_id": str(leaf.id),
            "order_date": "2026-02-03", "delivery_date": "", "po_value": "1,000.00",
            "supplier": "Acme", "source": "manual"}
    data.update(kw)
    return data


def test_create_po_within_otb(login, session, buying):
    season, loc, leaf = buying
    b = login("buyer")
    response = b.post(f"/purchasing/{season.season_code}/pos", po_form(loc, leaf))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/purchasing/{season.season_code}/pos/PO-1"
    page = b.get(response.headers["Location"]).get_data(as_text=True)
    assert "PO PO-1 saved." in page and "1,000.00" in page and "2026-02-03" in page


def test_warn_policy_saves_and_flags(login, session, buying):
    season, loc, leaf = buying
    b = login("buyer")
    response = b.post(f"/purchasing/{season.season_code}/pos", po_form(loc, leaf, po_value="3500"))
    assert response.status_code == 303
    page = b.get(response.headers["Location"]).get_data(as_text=True)
    assert "It takes 2026-02 over OTB by 500.00." in page
    listing = b.get(f"/purchasing/{season.season_code}/pos").get_data(as_text=True)
    assert "Cell over OTB by 500.00" in listing


def test_block_policy_refuses_with_figures(app, login, session, buying):
    season, loc, leaf = buying
    b = login("buyer")
    app.config["KYROS_OTB_POLICY"] = "block"
    try:
        response = b.post(f"/purchasing/{season.season_code}/pos",
                          po_form(loc, leaf, po_value="3500"))
    finally:
        app.config["KYROS_OTB_POLICY"] = "warn"
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert ("over OTB by 500.00: OTB 3,000.00, committed 0.00, remaining 3,000.00" in html)
    assert 'value="PO-1"' in html
    assert session.scalar(select(func.count(PurchaseOrder.id))) == 0


def test_live_figures_while_typing(login, session, make, buying):
    season, loc, leaf = buying
    create_po(session, make.user("buyer"), season.id, po_number="PO-0", location_id=loc.id,
              category_id=leaf.id, po_value="1000", order_date=date(2026, 2, 1))
    html = login("buyer").get(
        f"/purchasing/{season.season_code}/pos/figures?location_id={loc.id}&category_id={leaf.id}"
        "&order_date=2026-02-10&delivery_date=&po_value=2500").get_data(as_text=True)
    assert html.lstrip().startswith('<section id="otb-figures"')
    assert "3,000.00" in html and "1,000.00" in html and "2,000.00" in html
    assert "Over OTB by 500.00" in html and "saved and flagged" in html
    outside = login("buyer").get(
        f"/purchasing/{season.season_code}/pos/figures?location_id={loc.id}&category_id={leaf.id}"
        "&order_date=2026-07-01").get_data(as_text=True)
    assert "2026-07 is not a month of this season" in outside


def test_delivery_month_outside_season_is_422(login, buying):
    season, loc, leaf = buying
    response = login("buyer").post(f"/purchasing/{season.season_code}/pos",
                                   po_form(loc, leaf, delivery_date="2026-06-01"))
    assert response.status_code == 422
    assert "Delivery month 2026-06 is not a month" in response.get_data(as_text=True)


def test_planner_and_viewer_cannot_buy(login, buying):
    season, loc, leaf = buying
    for role in ("planner", "viewer"):
        u = login(role)
        assert u.post(f"/purchasing/{season.season_code}/pos", po_form(loc, leaf)).status_code == 403
        html = u.get(f"/purchasing/{season.season_code}/pos").get_data(as_text=True)
        assert "New PO" not in html


def test_edit_po_and_stale_version(login, session, make, buying):
    season, loc, leaf = buying
    po = create_po(session, make.user("buyer"), season.id, po_number="PO-E", location_id=loc.id,
                   category_id=leaf.id, po_value="1000", order_date=date(2026, 2, 1)).po
    b = login("buyer")
    url = f"/purchasing/{season.season_code}/pos/PO-E"
    assert 'name="version" type="hidden" value="1"' in b.get(url + "/edit").get_data(as_text=True)
    ok = b.post(url, po_form(loc, leaf, po_number="PO-E", po_value="1200", version="1"))
    assert ok.status_code == 303
    session.refresh(po)
    assert po.po_value == 1200 and po.version == 2
    stale = b.post(url, po_form(loc, leaf, po_number="PO-E", po_value="1300", version="1"))
    assert stale.status_code == 409 and f"changed by {b.user.email}" in stale.get_data(as_text=True)


def test_grn_from_po_page_and_status(login, session, make, buying):
    season, loc, leaf = buying
    po = create_po(session, make.user("buyer"), season.id, po_number="PO-G", location_id=loc.id,
                   category_id=leaf.id, po_value="1000", order_date=date(2026, 2, 5)).po
    b = login("buyer")
    url = f"/purchasing/{season.season_code}/grns"
    grn = {"from": "po", "po_number": "PO-G", "grn_number": "G-1", "grn_date": "2026-02-10",
           "received_value": "400"}
    response = b.post(url, grn)
    assert response.status_code == 303
    recorded = session.scalar(select(GRNRecord).where(GRNRecord.grn_number == "G-1"))
    assert response.headers["Location"] == (f"/purchasing/{season.season_code}/pos/PO-G"
                                            f"?recorded={recorded.id}#grn-{recorded.id}")
    marked = b.get(response.headers["Location"]).get_data(as_text=True)
    assert f'<tr id="grn-{recorded.id}" class="just-recorded" aria-current="true">' in marked
    session.refresh(po)
    assert po.status is POStatus.PARTIALLY_RECEIVED
    over = b.post(url, {**grn, "grn_number": "G-2", "received_value": "600.01"}, headers=HX)
    html = over.get_data(as_text=True)
    assert over.status_code == 422 and html.lstrip().startswith('<form id="grn-form"')
    assert "at most 600.00 more" in html
    early = b.post(url, {**grn, "grn_number": "G-3", "grn_date": "2026-02-01"})
    assert early.status_code == 422 and "on or after the PO&#39;s order date" in early.get_data(as_text=True)
    b.post(url, {**grn, "grn_number": "G-4", "received_value": "600"})
    session.refresh(po)
    assert po.status is POStatus.RECEIVED


def test_grn_from_list_with_unknown_po(login, buying):
    season, loc, leaf = buying
    response = login("buyer").post(f"/purchasing/{season.season_code}/grns",
                                   {"po_number": "NOPE", "grn_number": "G", "grn_date": "2026-02-10",
                                    "received_value": "1"})
    assert response.status_code == 422 and "No PO NOPE in this season" in response.get_data(as_text=True)


def test_cancel_and_short_close(login, session, make, buying):
    season, loc, leaf = buying
    buyer = make.user("buyer")
    a = create_po(session, buyer, season.id, po_number="PO-A", location_id=loc.id,
                  category_id=leaf.id, po_value="1000", order_date=date(2026, 2, 5)).po
    c = create_po(session, buyer, season.id, po_number="PO-C", location_id=loc.id,
                  category_id=leaf.id, po_value="1000", order_date=date(2026, 2, 5)).po
    create_grn(session, buyer, po_id=c.id, grn_number="G-C", grn_date=date(2026, 2, 9),
               received_value="250")
    b = login("buyer")
    base = f"/purchasing/{season.season_code}/pos"
    assert b.post(f"{base}/PO-A/cancel").status_code == 303
    refused = b.post(f"{base}/PO-C/cancel")
    assert refused.status_code == 422 and "short-close it instead" in refused.get_data(as_text=True)
    assert b.post(f"{base}/PO-C/close").status_code == 303
    session.refresh(a)
    session.refresh(c)
    assert a.status is POStatus.CANCELLED and c.status is POStatus.CLOSED
    page = b.get(f"/planning/{season.season_code}/otb/cell/{loc.location_code}/{leaf.code}/2026-02")
    html = page.get_data(as_text=True)
    assert "250.00" in html and "2,750.00" in html  # committed, remaining


def test_po_list_filters(login, session, make, buying):
    season, loc, leaf = buying
    buyer = make.user("buyer")
    create_po(session, buyer, season.id, po_number="PO-FEB", location_id=loc.id,
              category_id=leaf.id, po_value="10", order_date=date(2026, 2, 5), supplier="Acme")
    create_po(session, buyer, season.id, po_number="PO-MAR", location_id=loc.id,
              category_id=leaf.id, po_value="10", order_date=date(2026, 3, 5), supplier="Zenith",
              source="erp")
    v = login("viewer")
    base = f"/purchasing/{season.season_code}/pos"
    for query, shown, hidden in [("month=2026-03", "PO-MAR", "PO-FEB"),
                                 ("supplier=acm", "PO-FEB", "PO-MAR"),
                                 ("source=erp", "PO-MAR", "PO-FEB"),
                                 ("status=cancelled", None, "PO-FEB")]:
        html = v.get(f"{base}?{query}").get_data(as_text=True)
        if shown:
            assert shown in html, query
        assert hidden not in html, query


def test_po_list_is_newest_first(login, session, make, buying):
    """Later order dates first; on one date, higher PO numbers first."""
    season, loc, leaf = buying
    buyer = make.user("buyer")
    for number, day in (("PO-A", 5), ("PO-C", 3), ("PO-B", 5), ("PO-D", 9)):
        create_po(session, buyer, season.id, po_number=number, location_id=loc.id,
                  category_id=leaf.id, po_value="10", order_date=date(2026, 2, day))
    html = login("viewer").get(f"/purchasing/{season.season_code}/pos").get_data(as_text=True)
    assert sorted(("PO-A", "PO-B", "PO-C", "PO-D"), key=html.index) == ["PO-D", "PO-B", "PO-A",
                                                                         "PO-C"]


def test_po_list_cell_over_otb_counts_pos_on_other_pages(app, login, session, make, buying,
                                                        monkeypatch):
    """With one PO a page, each PO still shows its cell over OTB by what all of the cell's
    POs commit, and its own receipts."""
    season, loc, leaf = buying
    buyer = make.user("buyer")

    def po(number, value, day):
        return create_po(session, buyer, season.id, po_number=number, location_id=loc.id,
                         category_id=leaf.id, po_value=value, order_date=date(2026, 2, day)).po

    a = po("PO-A", "1500", 5)
    create_grn(session, buyer, po_id=a.id, grn_number="G-A", grn_date=date(2026, 2, 9),
               received_value="400")
    po("PO-B", "1500", 6)
    c = po("PO-C", "1000", 7)
    create_grn(session, buyer, po_id=c.id, grn_number="G-C", grn_date=date(2026, 2, 9),
               received_value="250")
    close_po(session, buyer, c.id)
    # Committed 1,500 + 1,500 + 250 (PO-C short-closed) against OTB 3,000: over by 250.
    monkeypatch.setitem(app.config, "PAGE_SIZE", 1)
    v = login("viewer")
    base = f"/purchasing/{season.season_code}/pos"
    for page, shown, received in [(1, "PO-C", "250.00"), (2, "PO-B", "0.00"),
                                  (3, "PO-A", "400.00")]:
        html = v.get(f"{base}?page={page}").get_data(as_text=True)
        assert [n for n in ("PO-A", "PO-B", "PO-C") if f">{n}</a>" in html] == [shown], page
        assert f'<td class="num">{received}</td>' in html, page
        assert "Cell over OTB by 250.00" in html, page
    html = v.get(f"{base}?page=2&supplier=nobody").get_data(as_text=True)
    assert "No purchase orders match these filters." in html


def test_grn_list_and_search(login, session, make, buying):
    season, loc, leaf = buying
    buyer = make.user("buyer")
    po = create_po(session, buyer, season.id, po_number="PO-L", location_id=loc.id,
                   category_id=leaf.id, po_value="100", order_date=date(2026, 2, 5)).po
    create_grn(session, buyer, po_id=po.id, grn_number="GRN-77", grn_date=date(2026, 2, 9),
               received_value="50")
    v = login("viewer")
    html = v.get(f"/purchasing/{season.season_code}/grns?number=77").get_data(as_text=True)
    assert "GRN-77" in html and "Receive goods" not in html
    assert "No goods received match" in v.get(f"/purchasing/{season.season_code}/grns?number=zz").get_data(as_text=True)
    assert session.scalar(select(func.count(GRNRecord.id))) == 1
