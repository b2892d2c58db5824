"""Master data pages: forms with 422 and kept values, htmx blocks, refusals, filters."""
from datetime import date

from sqlalchemy import select

from kyros_web.masterdata.tree import category_choices
from kyros_web.models import Category, Cluster, Location
from kyros_web.purchasing.services import create_po
from kyros_web.seasons.workflow import SeasonStatus
from tests.web.test_statement_counts import count_statements

HX = {"HX-Request": "true"}


def test_create_cluster_by_plain_post(login, session):
    b = login("planner")
    response = b.post("/masterdata/clusters", {"name": "Region 09", "description": "North"})
    assert response.status_code == 303 and response.headers["Location"] == "/masterdata/clusters"
    assert "Cluster Region 09 created." in b.get("/masterdata/clusters").get_data(as_text=True)
    assert session.scalar(select(Cluster).where(Cluster.name == "Region 09")).description == "North"


def test_duplicate_cluster_is_422_with_value_kept(login, make):
    make.cluster("Region 09")
    b = login("admin")
    response = b.post("/masterdata/clusters", {"name": "REGION 09", "description": "typed"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "already exists" in html and 'value="REGION 09"' in html and "typed</textarea>" in html
    assert "<nav" in html  # a full page without htmx


def test_htmx_form_error_returns_the_form_block(login):
    b = login("admin")
    response = b.post("/masterdata/clusters", {"name": ""}, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert html.lstrip().startswith('<form id="cluster-form"') and "Name is required" in html


def test_htmx_form_success_redirects(login):
    b = login("admin")
    response = b.post("/masterdata/clusters", {"name": "Fresh"}, headers=HX)
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/masterdata/clusters"


def test_create_location_generates_code(login, make, session):
    cluster = make.cluster()
    b = login("planner")
    response = b.post("/masterdata/locations", {"name": "Lyon 01", "type": "store",
                                                "cluster_id": str(cluster.id)})
    assert response.status_code == 303
    loc = session.scalar(select(Location).where(Location.name == "Lyon 01"))
    assert len(loc.location_code) == 16 and loc.cluster_id == cluster.id


def test_location_form_rejects_bad_code_and_type(login):
    b = login("planner")
    response = b.post("/masterdata/locations", {"name": "X", "type": "kiosk",
                                                "location_code": "short"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Not a valid choice" in html and "16 characters" in html and 'value="SHORT"' in html


def test_locations_filters(login, make):
    north, south = make.cluster("North"), make.cluster("South")
    a = make.location(name="Alpha Store", cluster=north)
    w = make.location(name="Beta Depot", type="warehouse", cluster=south)
    b = login("viewer")
    html = b.get(f"/masterdata/locations?cluster={north.id}").get_data(as_text=True)
    assert a.location_code in html and w.location_code not in html
    html = b.get("/masterdata/locations?type=warehouse").get_data(as_text=True)
    assert w.location_code in html and a.location_code not in html
    html = b.get(f"/masterdata/locations?q={w.location_code.lower()}").get_data(as_text=True)
    assert w.location_code in html and a.location_code not in html
    html = b.get("/masterdata/locations?active=no").get_data(as_text=True)
    assert "No locations match these filters." in html


def test_deactivate_and_refused_delete(login, make, session):
    season = make.season(SeasonStatus.LOCATIONS_DEFINED)
    loc = season.test_locations[0]
    b = login("planner")
    response = b.post(f"/masterdata/locations/{loc.id}/delete")
    assert response.status_code == 409
    assert "deactivate it instead" in response.get_data(as_text=True)
    response = b.post(f"/masterdata/locations/{loc.id}/active", {"active": "no"})
    assert response.status_code == 303
    session.refresh(loc)
    assert loc.is_active is False


def test_viewer_sees_no_edit_controls(login, make):
    make.location()
    make.category()
    b = login("viewer")
    for url in ("/masterdata/locations", "/masterdata/clusters", "/masterdata/categories"):
        html = b.get(url).get_data(as_text=True)
        assert "New " not in html and "Edit" not in html and "Delete" not in html, url
        assert html.count('method="post"') == 1, url  # only the logout form


def test_category_tree_and_add_child(login, make, session):
    root = make.category("D77", name="Division 77")
    b = login("planner")
    html = b.get("/masterdata/categories").get_data(as_text=True)
    assert "D77" in html and "<details" not in html  # a lone root is a leaf
    form = b.get(f"/masterdata/categories/new?parent={root.id}").get_data(as_text=True)
    assert f'<option selected value="{root.id}">' in form or f'value="{root.id}" selected' in form
    response = b.post("/masterdata/categories", {"code": "d77-a", "name": "Dept A",
                                                 "parent_id": str(root.id)})
    assert response.status_code == 303
    child = session.scalar(select(Category).where(Category.code == "D77-A"))
    assert child.parent_id == root.id
    html = b.get("/masterdata/categories").get_data(as_text=True)
    assert "<details open>" in html and "(1 sub-category)" in html


def test_categories_in_use_are_marked_and_cannot_be_deleted(login, make, session):
    """A leaf that season data uses (plans, OTB and range, or only a PO) is marked in use
    and offers no delete or add-child; an unused leaf offers both."""
    season = make.season(SeasonStatus.RANGE_UPLOADED)
    planned, loc = season.test_leaves[0], season.test_locations[0]
    root = make.category()
    po_only, unused = make.category(parent=root), make.category(parent=root)
    create_po(session, make.user("buyer"), season.id, po_number="PO-USE", location_id=loc.id,
              category_id=po_only.id, po_value="10", order_date=date(2026, 2, 5))
    html = login("admin").get("/masterdata/categories").get_data(as_text=True)
    leaves = html.split('<div class="tree-leaf"><span class="code">')[1:]
    by_code = {part.split("</span>")[0]: part.split("</div>")[0] for part in leaves}
    for leaf, used in ((planned, True), (po_only, True), (unused, False)):
        part = by_code[leaf.code]
        assert ('<span class="badge">In use</span>' in part) is used, leaf.code
        assert (f"/masterdata/categories/{leaf.id}/delete" in part) is not used, leaf.code
        assert (f"/masterdata/categories/new?parent={leaf.id}" in part) is not used, leaf.code


def test_category_pickers_do_not_read_season_data(session, make):
    """Parent pickers and grid filters list the categories without asking which are in use."""
    make.category(parent=make.category())
    session.close()
    with count_statements() as statements:
        assert len(category_choices(session)) >= 3
    reads = [s for s in statements if s.startswith("SELECT")]
    assert len(reads) == 1
    assert not [t for t in ("season_plans", "otb_plan", "range_intents", "purchase_orders")
                if t in reads[0]]


def test_category_cycle_refused_in_form(login, make):
    root = make.category()
    child = make.category(parent=root)
    b = login("admin")
    edit = b.get(f"/masterdata/categories/{root.id}/edit").get_data(as_text=True)
    assert str(child.id) not in edit  # a category's own subtree is not offered as parent
    response = b.post(f"/masterdata/categories/{root.id}", {"name": "R",
                                                           "parent_id": str(child.id)})
    assert response.status_code == 422 and "Not a valid choice" in response.get_data(as_text=True)


def test_unknown_ids_are_404(login):
    b = login("admin")
    assert b.get("/masterdata/clusters/00000000-0000-0000-0000-000000000000/edit").status_code == 404
