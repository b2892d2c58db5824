"""The analytics pages, the workflow status and the season's data export through the JSON API:
the same figures as the pages, from the same cache, by column kind."""
import json
from dataclasses import replace
from datetime import date
from decimal import Decimal

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kyros_web.analytics import export, reports
from kyros_web.analytics.data import fingerprint
from kyros_web.analytics.report import COUNT, MONEY, MONTH, NUMBER, PERCENT, Column
from kyros_web.planning.services import approve_plans, upsert_plan, upsert_range
from kyros_web.purchasing.services import create_grn, create_po
from kyros_web.ratios import Ratio
from kyros_web.seasons.services import advance_season, assign_locations, create_season

SLUGS = [page.slug for page in reports.PAGES]
SEED_PATHS = {"dashboard": "dashboard", "view": "read-only-view", "budget": "budget-vs-actual",
              "categories": "category-breakdown", "clusters": "cluster-summary",
              "locations": "location-performance", "pos": "po-status",
              "price-bands": "price-band-analysis"}


@pytest.fixture
def example(session, make):
    """The seed's worked example: one location, one leaf category (under a department), OTB
    100,000 + 0 + 50,000 − 30,000 − 10,000 = 110,000 in February, one PO of 12,500 and a GRN
    of 11,250."""
    admin = make.admin
    store = make.location(name="Store A")
    leaf = make.category("D1-L1", parent=make.category("D1"))
    season = create_season(session, admin, name="Worked example", start_date=date(2026, 2, 1),
                           end_date=date(2026, 4, 30))
    assign_locations(session, admin, season.id, [store.id])
    advance_season(session, admin, season.id)
    plan = upsert_plan(session, admin, season.id, location_id=store.id, category_id=leaf.id,
                       planned_sales="100000", planned_margin="40").row
    approve_plans(session, admin, season.id, [plan.id])
    advance_season(session, admin, season.id)
    make.otb_rows(season, [(store, leaf, date(2026, 2, 1),
                            ("100000", "0", "50000", "30000", "10000"))])
    advance_season(session, admin, season.id)
    upsert_range(session, admin, season.id, category_id=leaf.id, core_percent="60",
                 fashion_percent="40", price_bands={"low": "30", "mid": "50", "high": "20"})
    advance_season(session, admin, season.id)
    buyer = make.user("buyer")
    po = create_po(session, buyer, season.id, po_number="PO-1", location_id=store.id,
                   category_id=leaf.id, po_value="12500", order_date=date(2026, 2, 1)).po
    create_grn(session, buyer, po_id=po.id, grn_number="GRN-1", grn_date=date(2026, 2, 20),
               received_value="11250")
    return season


def _as_json(value):
    return json.loads(json.dumps(value, default=str))


def _page_json(report) -> dict:
    return _as_json(export.report_json(report))


def test_the_dashboard_has_the_pages_figures(api, session, example):
    """Every figure of the API's dashboard is the page's, formatted by its kind."""
    r = api("viewer").get(f"/api/v1/analytics/{example.season_code}/dashboard")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body.pop("season") == {"id": str(example.id), "season_code": example.season_code,
                                  "name": "Worked example", "status": "range_uploaded"}
    assert body == _page_json(reports.dashboard(session, example))
    kpis = {k["key"]: k for k in body["kpis"]}
    assert kpis["otb_retail"]["value"] == "110000.00" and kpis["otb_retail"]["kind"] == "money"
    assert kpis["committed"]["value"] == "12500.00"
    assert kpis["net_remaining"]["value"] == "97500.00"
    assert kpis["received"]["value"] == "11250.00"
    assert kpis["budget_utilisation"] == {"key": "budget_utilisation",
                                          "name": "Budget utilisation", "kind": "percent",
                                          "value": "11.4", "note": None}
    assert kpis["fulfilment_rate"]["value"] == "90.0"
    assert kpis["over_bought_cells"]["value"] == 0
    assert kpis["purchase_orders"]["value"] == 1
    budget = body["tables"][0]
    assert budget["name"] == "budget_vs_actual" and "Net remaining" in budget["note"]
    assert [c["key"] for c in budget["columns"]][:5] == [
        "month", "otb", "adjustments", "committed_delivery_month", "received_grn_month"]
    february = budget["rows"][0]
    assert february["month"] == "2026-02-01"
    assert (february["otb"], february["committed_delivery_month"]) == ("110000.00", "12500.00")
    assert february["utilisation"] == "11.4"
    assert budget["total"]["month"] == "Season" and budget["total"]["otb"] == "110000.00"
    assert body["notes"]  # the in-season words under the key figures


def test_an_empty_season_says_why_a_ratio_has_no_number(api, make):
    season = make.season()
    body = api("viewer").get(f"/api/v1/analytics/{season.id}/dashboard").get_json()
    utilisation = next(k for k in body["kpis"] if k["key"] == "budget_utilisation")
    assert utilisation["value"] == "—" and utilisation["note"]


@pytest.mark.parametrize("slug", SLUGS)
def test_every_page_answers_with_its_tables(api, session, example, slug):
    """Each page of the menu, with its own tables, columns and rows; the seed's path too."""
    viewer = api("viewer")
    r = viewer.get(f"/api/v1/analytics/{example.id}/{slug}")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    built = reports.cached_report(session, reports.PAGES_BY_SLUG[slug], example, {})
    assert body["slug"] == built.slug and body["title"] == built.title
    assert [t["name"] for t in body["tables"]] == [t.name for t in built.tables]
    for table, source in zip(body["tables"], built.tables):
        keys = [c["key"] for c in table["columns"]]
        assert len(set(keys)) == len(keys) == len(source.columns)
        assert [c["name"] for c in table["columns"]] == [c.title for c in source.columns]
        assert len(table["rows"]) == len(source.rows)
        assert all(set(row) == set(keys) for row in table["rows"])
    if slug in SEED_PATHS:
        seed = viewer.get(f"/api/v1/analytics/{SEED_PATHS[slug]}/{example.season_code}")
        assert seed.status_code == 200 and seed.get_json() == body


@pytest.mark.parametrize("slug", SLUGS)
def test_every_page_answers_for_an_empty_season(api, make, slug):
    season = make.season()
    assert api("viewer").get(f"/api/v1/analytics/{season.id}/{slug}").status_code == 200


def test_filters_as_on_the_pages(api, session, example):
    viewer = api("viewer")
    base = f"/api/v1/analytics/{example.id}"
    level2 = viewer.get(f"{base}/categories?level=2").get_json()
    assert level2["filters"] == {"level": 2}
    assert level2["tables"][0]["title"] == "Categories at level 2"
    assert [r["code"] for r in level2["tables"][0]["rows"]] == ["D1-L1"]
    assert level2["tables"][0]["rows"][0]["committed"] == "12500.00"
    deepest = viewer.get(f"{base}/categories?level=9").get_json()
    assert deepest["filters"] == {"level": 2}  # as the page: the deepest level there is
    assert viewer.get(f"{base}/price-bands?level=2").get_json()["filters"] == {"level": 2}
    ranked = viewer.get(f"{base}/locations?by=committed&top=5&order=bottom").get_json()
    assert ranked["filters"] == {"by": "committed", "top": 5, "order": "bottom"}
    assert ranked == _page_json(reports.location_performance(
        session, example, by="committed", top=5, worst=True)) | {"season": ranked["season"]}
    month = viewer.get(f"{base}/in-season?by=location&period=2026-02").get_json()
    assert month["filters"]["by"] == "location" and month["filters"]["period"] == "February 2026"


@pytest.mark.parametrize("query, field", [
    ("categories?level=abc", "level"), ("categories?level=0", "level"),
    ("price-bands?level=-1", "level"), ("locations?by=margin", "by"),
    ("locations?top=0", "top"), ("locations?top=101", "top"), ("locations?order=up", "order"),
    ("in-season?by=supplier", "by"), ("in-season?period=2026-13", "period"),
    ("in-season?period=2031-01", "period"), ("in-season?level=x", "level")])
def test_a_bad_filter_is_a_problem_naming_its_field(api, example, query, field):
    r = api("viewer").get(f"/api/v1/analytics/{example.id}/{query}")
    assert r.status_code == 422, r.get_json()
    assert r.mimetype == "application/problem+json"
    body = r.get_json()
    assert body["type"] == "/api/docs#problem-validation"
    assert [e["field"] for e in body["errors"]] == [field]


def test_unknown_page_or_season_is_not_found(api, example):
    viewer = api("viewer")
    for url in (f"/api/v1/analytics/{example.id}/nonsense",
                "/api/v1/analytics/ZZZZ-ZZZZ/dashboard",
                "/api/v1/analytics/dashboard/ZZZZ-ZZZZ",
                "/api/v1/analytics/00000000-0000-0000-0000-000000000000/in-season",
                "/api/v1/seasons/ZZZZ-ZZZZ/export"):
        r = viewer.get(url)
        assert r.status_code == 404, url
        assert r.mimetype == "application/problem+json"
        assert r.get_json()["type"] == "/api/docs#problem-not-found"


def test_a_token_is_needed(anonymous, example):
    for url in (f"/api/v1/analytics/{example.id}/dashboard", "/api/v1/analytics/workflow-status",
                f"/api/v1/seasons/{example.id}/export"):
        r = anonymous.get(url)
        assert r.status_code == 401 and r.mimetype == "application/problem+json"


@pytest.mark.parametrize("role", ["admin", "planner", "buyer", "viewer"])
def test_every_role_and_a_read_only_token_may_read(api, example, role):
    for client in (api(role), api(role, read_only=True)):
        for url in (f"/api/v1/analytics/{example.id}/dashboard",
                    "/api/v1/analytics/workflow-status", f"/api/v1/seasons/{example.id}/export"):
            assert client.get(url).status_code == 200, (role, url)


def test_the_api_and_the_page_share_the_figure_cache(api, login, example, monkeypatch):
    """Built once for the API, the page with the same filters reads it from the cache."""
    page = reports.PAGES_BY_SLUG["categories"]
    calls = []

    def counted(session, season, **params):
        calls.append(params)
        return page.build(session, season, **params)

    monkeypatch.setitem(reports.PAGES_BY_SLUG, "categories", replace(page, build=counted))
    # Both users first: a new user moves the shared data version, so the figures with it.
    client, browser = api("viewer"), login("viewer")
    r = client.get(f"/api/v1/analytics/{example.id}/categories?level=2")
    assert r.status_code == 200
    html = browser.get(f"/analytics/{example.season_code}/categories?level=2")
    assert html.status_code == 200 and "Categories at level 2" in html.get_data(as_text=True)
    assert calls == [{"level": 2}]


def test_workflow_status_of_all_seasons(api, make, example):
    make.season()
    r = api("viewer").get("/api/v1/analytics/workflow-status")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["season"] is None and body["filters"] == {"page": 1}
    mix, seasons = body["tables"]
    assert mix["name"] == "status_mix" and mix["total"] == {"status": "All", "seasons": 2}
    assert r.headers["X-Total-Count"] == "2"
    ours = next(row for row in seasons["rows"] if row["code"] == example.season_code)
    assert ours["status"] == "Range uploaded" and ours["start"] == "2026-02-01"
    assert ours["locations_defined"]  # the day it reached the step, ISO 8601
    date.fromisoformat(ours["locations_defined"])
    later = api("viewer").get("/api/v1/analytics/workflow-status?page=2").get_json()
    assert later["tables"][1]["rows"] == [] and later["filters"] == {"page": 2}
    refused = api("viewer").get("/api/v1/analytics/workflow-status?page=0")
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "page"


def test_the_season_export(api, session, example):
    viewer = api("viewer")
    r = viewer.get(f"/api/v1/seasons/{example.season_code}/export")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["fingerprint"] == fingerprint(session, example)
    assert r.headers["ETag"] == f'"{body["fingerprint"]}"'
    tables = {t["name"]: t for t in body["tables"]}
    assert list(tables) == ["locations", "plans", "otb", "range", "pos", "actuals", "grns",
                            "adjustments"]
    otb = tables["otb"]["rows"]
    assert otb == [{"location_code": otb[0]["location_code"], "category_code": "D1-L1",
                    "month": "2026-02-01", "planned_sales": "100000.00",
                    "planned_markdowns": "0.00", "planned_closing_stock": "50000.00",
                    "opening_stock": "30000.00", "on_order": "10000.00",
                    "approved_spend_limit": "110000.00"}]
    assert tables["plans"]["rows"][0]["planned_margin"] == "40.00"
    assert tables["range"]["rows"][0]["price_band_mid"] == "50.00"
    po = tables["pos"]["rows"][0]
    assert (po["po_number"], po["po_value"], po["status"], po["order_date"]) == (
        "PO-1", "12500.00", "partially_received", "2026-02-01")
    assert tables["grns"]["rows"] == [{"grn_number": "GRN-1", "po_number": "PO-1",
                                       "grn_date": "2026-02-20", "received_value": "11250.00"}]
    seed = viewer.get(f"/api/v1/analytics/export/{example.id}")
    assert seed.status_code == 200 and seed.get_json() == body


def _documented(app, path: str, response) -> list[str]:
    """What in the response breaks the 200 schema the OpenAPI document gives for the path."""
    spec = app.extensions["kyros_api"].spec.to_dict()
    answer = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    validator = jsonschema_rs.Draft202012Validator({**answer["schema"],
                                                    "components": spec["components"]})
    return [error.message for error in validator.iter_errors(response.get_json())]


def test_every_answer_matches_the_document(app, api, example):
    viewer = api("viewer")
    for slug in SLUGS:
        r = viewer.get(f"/api/v1/analytics/{example.id}/{slug}")
        assert _documented(app, f"/api/v1/analytics/{{season_id}}/{slug}", r) == [], slug
    r = viewer.get("/api/v1/analytics/workflow-status")
    assert _documented(app, "/api/v1/analytics/workflow-status", r) == []
    r = viewer.get(f"/api/v1/seasons/{example.id}/export")
    assert _documented(app, "/api/v1/seasons/{season_id}/export", r) == []


# A NUL byte is refused (400) before any view: left to the app's own tests.
# Lone surrogates are not text a client can send (no UTF-8 for them).
VALUES = st.one_of(st.text(st.characters(exclude_characters="\x00",
                                         exclude_categories=("Cs",)), max_size=12),
                   st.integers(min_value=-10**25, max_value=10**25),
                   st.sampled_from(["std", "2026-02", "2026-04", "category", "cluster",
                                    "location", "bottom", "top", "sales", "fulfilment"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(slug=st.sampled_from(["categories", "price-bands", "locations", "in-season"]),
       query=st.dictionaries(st.sampled_from(["level", "by", "top", "order", "period"]),
                             VALUES, max_size=3))
def test_any_filter_is_an_answer_or_a_problem(app, api, example, slug, query):
    """Whatever the filters, a report that matches the document or a 422 naming a field."""
    r = api("viewer").get(f"/api/v1/analytics/{example.id}/{slug}", query_string=query)
    assert r.status_code in (200, 422), (query, r.get_json())
    if r.status_code == 200:
        assert _documented(app, f"/api/v1/analytics/{{season_id}}/{slug}", r) == []
    else:
        assert r.mimetype == "application/problem+json"
        assert {e["field"] for e in r.get_json()["errors"]} <= set(query)


def test_cells_by_column_kind():
    """One walk, one key per column title, each value by its kind."""
    assert export.column_key("Sales variance %") == "sales_variance_percent"
    assert export.column_key("Sales gap (plans − OTB)") == "sales_gap_plans_otb"
    assert export.column_key("#") == "number"
    assert export.column_keys([Column("Code"), Column("code"), Column("Code")]) == [
        "code", "code_2", "code_3"]
    cases = [(Decimal("1234.565"), MONEY, "1234.57"), (Decimal("11.3636"), PERCENT, "11.4"),
             (Decimal("-0.01"), PERCENT, "0.0"), (Decimal("2.345"), NUMBER, "2.35"),
             (Decimal("3"), COUNT, 3), (date(2026, 2, 1), MONTH, "2026-02-01"),
             (None, MONEY, None), ("Before season", MONTH, "Before season"),
             (Ratio(None, "over budget", "why"), PERCENT, "over budget"),
             (Ratio(Decimal("50.04")), PERCENT, "50.0")]
    from kyros_web.analytics.report import Table

    table = Table("t", "T", [Column(str(n), kind) for n, (_, kind, _) in enumerate(cases)],
                  [[value for value, _, _ in cases]])
    assert export.row_cells(table, table.rows[0], export.json_value) == [
        expected for _, _, expected in cases]
    assert export.table_json(table)["total"] is None
