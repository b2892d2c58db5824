"""The PO and GRN lists: sorted by any column both ways, stable paging under a sort, a totals
row over every filtered row, and a GRN just recorded marked on the page the form returns to."""
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from kyros_web.models import GRNRecord, POStatus, PurchaseOrder
from kyros_web.purchasing.services import cancel_po, close_po, create_grn, create_po
from kyros_web.seasons.workflow import SeasonStatus

HX = {"HX-Request": "true"}


class _Table(HTMLParser):
    """The body rows and the footer row of the results table, as lists of cell texts."""

    def __init__(self):
        super().__init__()
        self.rows, self.foot, self.sorted_by = [], [], {}
        self._part = self._row = self._cell = self._th = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("tbody", "tfoot", "thead"):
            self._part = tag
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
            self._th = attrs.get("aria-sort")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            self._row.append(text)
            if self._part == "thead" and self._th:
                self.sorted_by[text.rstrip(" ▲▼")] = self._th
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._part == "tbody" and not (len(self._row) == 1):
                self.rows.append(self._row)
            elif self._part == "tfoot":
                self.foot = self._row
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table(response) -> _Table:
    assert response.status_code == 200
    parsed = _Table()
    parsed.feed(response.get_data(as_text=True))
    return parsed


def money(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


STATUS_ORDER = [s.title for s in POStatus]


def otb_flag(text: str) -> Decimal:
    return money(text.rsplit(" ", 1)[1]) if text.startswith("Cell over OTB by") else Decimal(0)


# Column of the PO list → how its text sorts.
PO_COLUMNS = {
    "number": (0, str), "location": (1, str), "category": (2, str), "supplier": (3, str),
    "ordered": (4, str), "due": (5, str), "value": (6, money), "received": (7, money),
    "committed": (8, money), "status": (9, STATUS_ORDER.index), "source": (10, str.lower),
    "otb": (11, otb_flag),
}


@pytest.fixture
def po_list(make, session):
    """Seven POs over two locations × two leaves that differ in every column: a partly
    received, a received, a short-closed, a cancelled, an over-OTB and an open one."""
    locations = [make.location(name="Store Alpha"), make.location(name="Store Bravo")]
    leaves = [make.category(), make.category()]
    season = make.season(SeasonStatus.RANGE_UPLOADED, locations=locations, leaves=leaves)
    buyer = make.user("buyer")
    (a, b), (one, two) = locations, leaves

    def po(number, loc, leaf, value, ordered, due=None, supplier=None, source="manual"):
        return create_po(session, buyer, season.id, po_number=number, location_id=loc.id,
                         category_id=leaf.id, po_value=value, order_date=ordered,
                         delivery_date=due, supplier=supplier, source=source).po

    p1 = po("PO-3", a, one, "500", date(2026, 2, 3), date(2026, 2, 20), "Mango")
    create_grn(session, buyer, po_id=p1.id, grn_number="G-1", grn_date=date(2026, 2, 21),
               received_value="200")
    po("PO-6", b, two, "4000", date(2026, 2, 5), source="erp")
    po("PO-1", a, two, "800", date(2026, 3, 1), date(2026, 3, 15), "Zara", source="csv")
    cancel_po(session, buyer, po("PO-5", b, one, "300", date(2026, 2, 10), supplier="Benetton",
                                 source="csv").id)
    p5 = po("PO-2", a, one, "1000", date(2026, 2, 5), supplier="Zara", source="api")
    create_grn(session, buyer, po_id=p5.id, grn_number="G-2", grn_date=date(2026, 2, 8),
               received_value="1000")
    p6 = po("PO-4", b, one, "600", date(2026, 2, 7), date(2026, 4, 2), "Mango")
    create_grn(session, buyer, po_id=p6.id, grn_number="G-3", grn_date=date(2026, 4, 3),
               received_value="100")
    close_po(session, buyer, p6.id)
    po("PO-7", b, two, "250", date(2026, 2, 5), supplier="Acme", source="xlsx")
    return season


def assert_sorted(client, url, key, descending, columns, count, tiebreak_follows=False):
    """The list at `url` sorted by `key` has `count` rows in the order of the key's values,
    ties by the first column (ascending, or along with the key when it `tiebreak_follows`),
    its values are not all equal, and only its header carries aria-sort."""
    index, read = columns[key]
    got = table(client.get(f"{url}?sort={key}" + ("&dir=desc" if descending else "")))
    assert len(got.rows) == count
    by_tiebreak = sorted(got.rows, key=lambda r: r[0], reverse=descending and tiebreak_follows)
    assert got.rows == sorted(by_tiebreak, key=lambda r: read(r[index]), reverse=descending)
    assert len({read(r[index]) for r in got.rows}) > 1, "the values differ"
    assert list(got.sorted_by.values()) == ["descending" if descending else "ascending"]


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("key", list(PO_COLUMNS))
def test_po_list_sorts_by_every_column(login, po_list, key, descending):
    """Each column sorts the POs by its values, ties by PO number, and says so in its header."""
    assert_sorted(login("viewer"), f"/purchasing/{po_list.season_code}/pos", key, descending,
                  PO_COLUMNS, 7, tiebreak_follows=key == "ordered")


def test_po_list_default_and_unknown_sort(login, po_list):
    """No sort or an unknown one is the list's own order: newest first, and the Ordered header
    says so; its link turns it to oldest first."""
    v = login("viewer")
    base = f"/purchasing/{po_list.season_code}/pos"
    default = table(v.get(base))
    assert [r[0] for r in default.rows] == ["PO-1", "PO-5", "PO-4", "PO-7", "PO-6", "PO-2", "PO-3"]
    assert default.sorted_by == {"Ordered": "descending"}
    for query in ("sort=bogus", "sort=bogus&dir=desc", "sort=__class__", "sort=&dir=sideways"):
        assert table(v.get(f"{base}?{query}")).rows == default.rows, query
    html = v.get(base).get_data(as_text=True)
    assert f'href="{base}?sort=ordered"' in html


def test_po_list_paging_is_stable_under_a_sort(app, login, po_list, monkeypatch):
    """Two a page, sorted by a column with ties: the pages together are the whole list, each
    PO once, in the one-page order; the sort and the filters stay in the pager's links."""
    v = login("viewer")
    base = f"/purchasing/{po_list.season_code}/pos"
    for query in ("sort=location", "sort=location&dir=desc", "sort=supplier", "sort=status&dir=desc"):
        whole = table(v.get(f"{base}?{query}")).rows
        monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
        pages = [table(v.get(f"{base}?{query}&page={n}")).rows for n in (1, 2, 3, 4)]
        monkeypatch.setitem(app.config, "PAGE_SIZE", 25)
        assert [r for page in pages for r in page] == whole, query
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    html = v.get(f"{base}?sort=value&dir=desc&supplier=a").get_data(as_text=True)
    assert f'href="{base}?page=2&amp;supplier=a&amp;sort=value&amp;dir=desc"' in html
    assert '<input type="hidden" name="sort" value="value">' in html


def test_po_list_totals_cover_every_filtered_row(app, login, make, session, po_list, monkeypatch):
    """The totals row counts and sums every PO the filters keep, on every page: committed is
    the full value, what was received when short-closed, nothing when cancelled."""
    v = login("viewer")
    base = f"/purchasing/{po_list.season_code}/pos"
    for query in ("", "supplier=a", "status=closed", "number=zzz"):
        rows = table(v.get(f"{base}?{query}")).rows
        sums = [sum((money(r[i]) for r in rows), Decimal(0)) for i in (6, 7, 8)]
        monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
        for page in (1, 2, 3):
            foot = table(v.get(f"{base}?{query}&page={page}&sort=received")).foot
            noun = "PO" if len(rows) == 1 else "POs"
            assert foot[0].startswith(f"Total of {len(rows)} {noun}"), (query, foot)
            assert [money(t) for t in foot[1:4]] == sums, (query, page)
        monkeypatch.setitem(app.config, "PAGE_SIZE", 25)
    whole = table(v.get(base)).foot
    assert whole[:4] == ["Total of 7 POs", "7,450.00", "1,300.00", "6,650.00"]
    # Kept in the figure cache until the season's data changes: a receipt shows at once.
    po = session.scalar(select(PurchaseOrder).where(PurchaseOrder.po_number == "PO-7"))
    create_grn(session, make.user("buyer"), po_id=po.id, grn_number="G-9",
               grn_date=date(2026, 2, 9), received_value="50")
    assert table(v.get(base)).foot[:4] == ["Total of 7 POs", "7,450.00", "1,350.00", "6,650.00"]


@pytest.fixture
def grn_list(make, session):
    """Five GRNs against three POs in two locations, differing in every column."""
    locations = [make.location(name="Store Alpha"), make.location(name="Store Bravo")]
    leaves = [make.category(), make.category()]
    season = make.season(SeasonStatus.RANGE_UPLOADED, locations=locations, leaves=leaves)
    buyer = make.user("buyer")
    pos = [create_po(session, buyer, season.id, po_number=n, location_id=loc.id,
                     category_id=leaf.id, po_value=v, order_date=date(2026, 2, 2)).po
           for n, loc, leaf, v in (("PO-B", locations[0], leaves[1], "2000"),
                                   ("PO-A", locations[1], leaves[0], "900"),
                                   ("PO-C", locations[0], leaves[0], "1500"))]
    for number, po, day, value in (("G-4", pos[0], 9, "300"), ("G-2", pos[1], 3, "100"),
                                   ("G-5", pos[2], 9, "750"), ("G-1", pos[0], 12, "40"),
                                   ("G-3", pos[1], 20, "800")):
        create_grn(session, buyer, po_id=po.id, grn_number=number, grn_date=date(2026, 2, day),
                   received_value=value)
    season.test_pos = pos
    return season


GRN_COLUMNS = {"grn": (0, str), "date": (1, str), "po": (2, str), "location": (3, str),
               "category": (4, str), "po_value": (5, money), "received": (6, money)}


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("key", list(GRN_COLUMNS))
def test_grn_list_sorts_by_every_column(login, grn_list, key, descending):
    """Each column sorts the GRNs by its values, ties by GRN number."""
    assert_sorted(login("viewer"), f"/purchasing/{grn_list.season_code}/grns", key, descending,
                  GRN_COLUMNS, 5)


def test_grn_list_default_unknown_sort_and_totals(app, login, grn_list, monkeypatch):
    """Newest first by default and for an unknown key; the totals row sums every GRN the
    search keeps, whatever the page."""
    v = login("viewer")
    base = f"/purchasing/{grn_list.season_code}/grns"
    default = table(v.get(base))
    assert [r[0] for r in default.rows] == ["G-3", "G-1", "G-4", "G-5", "G-2"]
    assert default.sorted_by == {"Date received": "descending"}
    assert table(v.get(f"{base}?sort=nope&dir=desc")).rows == default.rows
    assert default.foot == ["Total of 5 GRNs", "1,990.00"]
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    for page in (1, 2, 3):
        assert table(v.get(f"{base}?number=PO-B&page={page}&sort=received")).foot == [
            "Total of 2 GRNs (searched)", "340.00"]
    pages = [table(v.get(f"{base}?sort=date&page={n}")).rows for n in (1, 2, 3)]
    assert [r[0] for p in pages for r in p] == ["G-2", "G-4", "G-5", "G-1", "G-3"]


def grn_form(po_number, grn_number, value, **list_args):
    return {"po_number": po_number, "grn_number": grn_number, "grn_date": "2026-02-25",
            "received_value": value, **list_args}


def test_grn_just_recorded_lands_on_its_page_marked(app, login, session, grn_list, monkeypatch):
    """Recorded from the GRN list sorted by received value, two a page: the answer goes to
    the page that holds the new GRN, with the search and sort kept and the row marked and
    anchored; htmx gets the same place as HX-Redirect."""
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    b = login("buyer")
    base = f"/purchasing/{grn_list.season_code}/grns"
    listing = b.get(f"{base}?sort=received").get_data(as_text=True)
    assert '<input type="hidden" name="sort" value="received">' in listing
    response = b.post(base, grn_form("PO-C", "G-NEW", "500", sort="received"))
    assert response.status_code == 303
    grn = session.scalar(select(GRNRecord).where(GRNRecord.grn_number == "G-NEW"))
    # Received ascending: 40, 100, 300, 500 (new), 750, 800: the new GRN is 4th, on page 2.
    assert response.headers["Location"] == f"{base}?sort=received&page=2&recorded={grn.id}#grn-{grn.id}"
    page = b.get(response.headers["Location"]).get_data(as_text=True)
    assert f'<tr id="grn-{grn.id}" class="just-recorded" aria-current="true">' in page
    assert page.count('class="just-recorded"') == 1 and "Just recorded" in page
    assert "GRN G-NEW recorded" in page
    # The totals (kept in the figure cache) count the new GRN.
    assert table(b.get(f"{base}?sort=received")).foot == ["Total of 6 GRNs", "2,490.00"]

    hx = b.post(base, grn_form("PO-C", "G-HX", "30", sort="received", dir="desc", number="PO-C"),
                headers=HX)
    grn = session.scalar(select(GRNRecord).where(GRNRecord.grn_number == "G-HX"))
    # PO-C's GRNs by received, descending: 750, 500, 30 (new): page 2.
    assert hx.headers["HX-Redirect"] == (f"{base}?number=PO-C&sort=received&dir=desc&page=2"
                                         f"&recorded={grn.id}#grn-{grn.id}")
    rows = table(b.get(hx.headers["HX-Redirect"].split("#")[0])).rows
    assert [r[0] for r in rows] == ["G-HX Just recorded"]


def test_grn_left_out_by_the_search_drops_the_search(app, login, session, grn_list):
    """A search the new GRN does not match is dropped, so the GRN is still shown."""
    b = login("buyer")
    base = f"/purchasing/{grn_list.season_code}/grns"
    response = b.post(base, grn_form("PO-C", "G-OTHER", "5", number="PO-B"))
    grn = session.scalar(select(GRNRecord).where(GRNRecord.grn_number == "G-OTHER"))
    location = urlsplit(response.headers["Location"])
    assert parse_qs(location.query) == {"recorded": [str(grn.id)]}
    assert location.fragment == f"grn-{grn.id}"
    assert "G-OTHER" in b.get(response.headers["Location"]).get_data(as_text=True)


def test_refused_grn_keeps_the_list_sort_in_the_form(login, grn_list):
    """A refused GRN (422) re-renders the form still carrying the list's search and sort."""
    b = login("buyer")
    base = f"/purchasing/{grn_list.season_code}/grns"
    response = b.post(base, grn_form("NOPE", "G-X", "5", sort="po", dir="desc"), headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "No PO NOPE in this season" in html
    assert '<input type="hidden" name="sort" value="po">' in html
    assert '<input type="hidden" name="dir" value="desc">' in html
