"""A grid page costs the same number of SQL statements whatever the size of its data."""
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event

from kyros_web.extensions import db
from kyros_web.purchasing.services import create_grn, create_po
from kyros_web.seasons.workflow import SeasonStatus
from kyros_web.versions import FigureCache

from ..services.test_uploads import load


@contextmanager
def count_statements():
    statements = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def statements_of(client, session, url, headers=None) -> int:
    """How many statements a request runs, after a first one that warms the caches that are
    not per request (with the session emptied, so objects the test made hide no lazy load)."""
    client.get(url, headers=headers or {})
    session.close()
    with count_statements() as statements:
        response = client.get(url, headers=headers or {})
    assert response.status_code == 200, url
    return len(statements)


def build(make, session, n_locations):
    leaves = [make.category(), make.category()]
    locations = [make.location() for _ in range(n_locations)]
    season = make.season(SeasonStatus.RANGE_UPLOADED, locations=locations, leaves=leaves)
    buyer = make.user("buyer")
    for i, loc in enumerate(locations):
        for leaf in leaves:
            po = create_po(session, buyer, season.id, po_number=f"{season.season_code}-{i}-{leaf.code}",
                           location_id=loc.id, category_id=leaf.id, po_value="100",
                           order_date=date(2026, 2, 2), supplier="S")
            create_grn(session, buyer, po_id=po.po.id, grn_number=f"G{season.season_code}-{i}-{leaf.code}",
                       grn_date=date(2026, 2, 3), received_value="40")
    # February's actuals: the in-season OTB is read beside the original on every page.
    actuals = "location_code,category_code,month,net_sales,markdowns,closing_stock\n" + "".join(
        f"{loc.location_code},{leaf.code},2026-02,2500,10,900\n" for loc in locations for leaf in leaves)
    assert load(session, make.admin, "actuals", actuals.encode(), season).rows_new == 2 * n_locations
    return season, locations[0], leaves[0]


def pages(season, loc, leaf):
    code = season.season_code
    return {
        "season": f"/seasons/{code}",
        "locations": f"/seasons/{code}/locations",
        "history": f"/seasons/{code}/history",
        "plans": f"/planning/{code}/plans",
        "plans filtered": f"/planning/{code}/plans?category={leaf.id}&sort=sales",
        "otb": f"/planning/{code}/otb",
        "otb flagged": f"/planning/{code}/otb?flag=over&month=2026-02",
        "range": f"/planning/{code}/range",
        "otb cell": f"/planning/{code}/otb/cell/{loc.location_code}/{leaf.code}/2026-02",
        "pos": f"/purchasing/{code}/pos",
        "pos filtered": f"/purchasing/{code}/pos?status=partially_received&month=2026-02",
        "pos sorted by received": f"/purchasing/{code}/pos?sort=received&dir=desc",
        "pos sorted by committed": f"/purchasing/{code}/pos?sort=committed&supplier=s",
        "pos sorted by OTB": f"/purchasing/{code}/pos?sort=otb&dir=desc",
        "pos sorted by location": f"/purchasing/{code}/pos?sort=location&page=2",
        "grns": f"/purchasing/{code}/grns",
        "grns sorted": f"/purchasing/{code}/grns?sort=location&dir=desc&number=G",
        "uploads": f"/uploads/?season={code}",
        "dashboard": f"/analytics/{code}/",
        "read-only view": f"/analytics/{code}/view",
        "budget": f"/analytics/{code}/budget",
        "categories": f"/analytics/{code}/categories?level=2",
        "clusters": f"/analytics/{code}/clusters",
        "locations ranking": f"/analytics/{code}/locations?top=5",
        "po status": f"/analytics/{code}/pos",
        "price bands": f"/analytics/{code}/price-bands",
        "in season": f"/analytics/{code}/in-season",
        "in season by location": f"/analytics/{code}/in-season?by=location",
        "in season, a month": f"/analytics/{code}/in-season?period=2026-02",
        "otb moves": f"/analytics/{code}/moves",
        "workflow": "/analytics/workflow",
        "exceptions": f"/exceptions/{code}",
        "exceptions inbox": f"/exceptions/?season={code}&state=all",
        "pack": f"/analytics/{code}/pack",
    }


@pytest.mark.parametrize("name", list(pages(type("S", (), {"season_code": "X"}),
                                             type("L", (), {"location_code": "L"}),
                                             type("C", (), {"id": 1, "code": "C"})).keys()))
def test_statement_count_does_not_grow_with_data(app, login, make, session, name, monkeypatch):
    # With the figure cache off every request computes its figures: the bound holds for the
    # first request after a write, not only for the cached ones.
    monkeypatch.setitem(app.extensions, "kyros_figures", FigureCache(0))
    small = build(make, session, 2)
    large = build(make, session, 20)
    viewer = login("viewer")
    urls = [pages(*data)[name] for data in (small, large)]
    counts = []
    for url in urls:
        viewer.get(url)  # warm caches that are not per request
        # Tests share the requests' session: empty it, or objects made above hide lazy loads.
        session.close()
        with count_statements() as statements:
            response = viewer.get(url)
        assert response.status_code == 200, url
        counts.append(len(statements))
    assert counts[0] == counts[1], f"{name}: {counts[0]} statements small, {counts[1]} at 10×"
    # The pack is all eight season pages plus the fingerprint's reads; the In season page
    # (issue 16) reads the season's sums in one statement, then its categories and locations.
    bound = 45 if name == "pack" else 7 if name.startswith("in season") else 25
    assert counts[1] <= bound, f"{name}: {counts[1]} statements"
