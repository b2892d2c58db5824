"""The exceptions inbox pages (issue 17, item 4): across seasons and per season, filters,
role checks, acknowledging by form and by htmx, the thresholds form (422 naming the field),
and `flask kyros exceptions` exit codes."""
from sqlalchemy import select

from kyros_web.audit import AuditEvent
from kyros_web.exceptions.models import ExceptionAcknowledgement, ExceptionThresholds

from ..services.test_exceptions import inbox  # noqa: F401  (the fixture)

HX = {"HX-Request": "true"}


def test_the_inbox_lists_every_watched_season_and_links_where_to_fix(login, inbox, make):
    other = make.season("created")
    viewer = login("viewer")
    page = viewer.get("/exceptions/").get_data(as_text=True)
    code = inbox.season_code
    assert "<td>Cell over budget</td>" in page and "<td>Open PO past its delivery date</td>" in page
    assert f"/planning/{code}/otb/cell/{inbox.a.location_code}/{inbox.x.code}/2026-02" in page
    assert f"/purchasing/{code}/pos/P2" in page
    assert other.season_code not in page
    assert "Acknowledge</button>" not in page  # viewers only read
    high = viewer.get("/exceptions/?severity=high").get_data(as_text=True)
    assert "<td>Cell over budget</td>" in high and "PO P2" not in high
    kind = viewer.get("/exceptions/?kind=short_closed").get_data(as_text=True)
    assert "PO P3" in kind and "PO P2" not in kind


def test_the_season_page_has_the_tab_and_the_thresholds(login, inbox):
    planner = login("planner")
    page = planner.get(f"/exceptions/{inbox.season_code}").get_data(as_text=True)
    assert 'aria-current="page">Exceptions</a>' in page
    assert 'name="low_otb_percent"' in page and "Save thresholds" in page
    buyer_page = login("buyer").get(f"/exceptions/{inbox.season_code}").get_data(as_text=True)
    assert "Save thresholds" not in buyer_page and "Acknowledge</button>" in buyer_page


def test_acknowledge_by_plain_form_hides_it_from_the_open_list(login, inbox, session):
    buyer = login("buyer")
    code = inbox.season_code
    response = buyer.post(f"/exceptions/{code}/acknowledge", {
        "kind": "po_overdue", "key": "P2", "note": "supplier confirmed next week",
        "back": f"/exceptions/{code}"})
    assert response.status_code == 303 and response.headers["Location"] == f"/exceptions/{code}"
    assert f"/pos/P2\">" not in buyer.get(f"/exceptions/{code}").get_data(as_text=True)
    shown = buyer.get(f"/exceptions/{code}?state=acknowledged").get_data(as_text=True)
    assert "PO P2" in shown and "supplier confirmed next week" in shown
    assert session.scalars(select(AuditEvent).where(AuditEvent.entity == "exception")).one()


def test_acknowledge_by_htmx_answers_the_row(login, inbox):
    planner = login("planner")
    response = planner.post(f"/exceptions/{inbox.season_code}/acknowledge",
                            {"kind": "short_closed", "key": "P3", "note": "agreed"}, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith("<tr") and "acknowledged it just now" in body and "agreed" in body


def test_acknowledge_without_a_note_is_422_in_place(login, inbox, session):
    planner = login("planner")
    url = f"/exceptions/{inbox.season_code}/acknowledge"
    hx = planner.post(url, {"kind": "short_closed", "key": "P3", "note": ""}, headers=HX)
    assert hx.status_code == 422
    assert hx.get_data(as_text=True).lstrip().startswith("<tr")
    assert "Say why this exception may stand" in hx.get_data(as_text=True)
    plain = planner.post(url, {"kind": "short_closed", "key": "P3", "note": ""})
    assert plain.status_code == 422 and "<html" in plain.get_data(as_text=True)
    assert session.scalars(select(ExceptionAcknowledgement)).first() is None


def test_viewers_may_not_acknowledge_and_buyers_may_not_set_thresholds(login, inbox):
    code = inbox.season_code
    assert login("viewer").post(f"/exceptions/{code}/acknowledge", {
        "kind": "po_overdue", "key": "P2", "note": "n"}).status_code == 403
    assert login("buyer").post(f"/exceptions/{code}/thresholds",
                               {"low_otb_percent": "5"}).status_code == 403


def test_a_bad_threshold_is_422_naming_the_field(login, inbox, session):
    planner = login("planner")
    url = f"/exceptions/{inbox.season_code}/thresholds"
    values = {"low_otb_percent": "5", "under_used_percent": "150",
              "short_closed_percent": "20", "sell_through_points": "5"}
    response = planner.post(url, values, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and body.lstrip().startswith('<section id="thresholds"')
    assert 'id="t-under_used_percent-error"' in body and "give a number from 0 to 100" in body
    assert session.scalars(select(ExceptionThresholds)).first() is None
    saved = planner.post(url, {**values, "under_used_percent": "30"})
    assert saved.status_code == 303
    page = planner.get(saved.headers["Location"]).get_data(as_text=True)
    assert 'value="30.00"' in page and "<td>Little open to buy left</td>" not in page


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["kyros", "exceptions", *args])


def test_the_cli_exits_1_when_an_open_exception_is_severe_enough(app, inbox, session, make):
    code = inbox.season_code
    everything = _run(app, code)
    assert everything.exit_code == 1, everything.output
    assert "high    over_budget" in everything.output and "9 open at low or above" in everything.output
    from kyros_web.exceptions import services

    key = f"{inbox.a.location_code}|{inbox.x.code}|2026-02"
    services.acknowledge(session, inbox.buyer, inbox.id, kind="over_budget", key=key, note="ok")
    assert _run(app, code, "--min-severity", "high").exit_code == 0
    assert _run(app, code, "--min-severity", "medium").exit_code == 1
    quiet = _run(app, make.season("created").season_code)
    assert quiet.exit_code == 0 and "the inbox watches" in quiet.output
