"""Data versions and the figure cache: every committed write moves the right version, a
cached figure is served until then, and a write shows on the very next request — in any
worker."""
from datetime import date
from decimal import Decimal

import re

import pytest

from kyros_web import create_app
from kyros_web.auth.services import start_session
from kyros_web.errors import ValidationFailed
from kyros_web.extensions import db
from kyros_web.masterdata.models import Cluster
from kyros_web.purchasing.services import create_grn, create_po
from kyros_web.seasons.workflow import SeasonStatus
from kyros_web.uploads.services import commit_upload, preview_upload
from kyros_web.versions import FigureCache, cached, current

BUYING = SeasonStatus.RANGE_UPLOADED


def _po(session, make, season, number, value, buyer=None):
    return create_po(session, buyer or make.user("buyer"), season.id, po_number=number,
                     location_id=season.test_locations[0].id,
                     category_id=season.test_leaves[0].id, po_value=value,
                     order_date=season.start_date)


def test_a_write_moves_its_seasons_version_and_no_other(session, make):
    a, b = make.season(BUYING), make.season(BUYING)
    before_a, before_b = current(session, a.id), current(session, b.id)
    _po(session, make, a, "PO-A1", "100")
    after_a = current(session, a.id)
    assert after_a[0] > before_a[0]
    assert current(session, b.id)[0] == before_b[0]


def test_a_goods_receipt_moves_the_version_of_its_pos_season(session, make):
    season = make.season(BUYING)
    po = _po(session, make, season, "PO-G1", "100").po
    before = current(session, season.id)
    create_grn(session, make.user("buyer"), po_id=po.id, grn_number="GRN-1",
               grn_date=season.start_date, received_value="40")
    assert current(session, season.id)[0] > before[0]


def test_master_data_moves_the_shared_version(session, make):
    season = make.season()
    before = current(session, season.id)
    make.location()
    after = current(session, season.id)
    assert after[1] > before[1] and after[0] == before[0]


def test_a_set_based_import_moves_the_version(session, make, app):
    season = make.season(BUYING)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    body = ("po_number,location_code,category_code,po_value,order_date,delivery_date,supplier\n"
            f"PO-U1,{loc.location_code},{leaf.code},250.00,2026-02-01,2026-02-10,Acme\n").encode()
    admin = make.admin
    upload = preview_upload(session, admin, kind="pos", data=body, file_name="pos.csv",
                            season=season, config=app.config)
    before = current(session, season.id)
    commit_upload(session, admin, upload.id, config=app.config)
    assert current(session, season.id)[0] > before[0]


def test_a_refused_or_rolled_back_write_moves_nothing(session, make):
    season, buyer = make.season(BUYING), make.user("buyer")
    before = current(session, season.id)
    with pytest.raises(ValidationFailed):
        _po(session, make, season, "PO-BAD", "-5", buyer)
    session.add(Cluster(name="Never saved"))
    session.flush()
    session.rollback()
    assert current(session, season.id) == before


def test_nothing_uncommitted_is_read_from_or_kept_in_the_cache(session, make):
    season = make.season()
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert cached(session, season.id, "k", compute) == 1
    assert cached(session, season.id, "k", compute) == 1  # served from the cache
    session.add(Cluster(name="Pending"))
    assert cached(session, season.id, "k", compute) == 2  # a pending write: computed afresh
    session.flush()
    assert cached(session, season.id, "k", compute) == 3  # flushed, not committed: still
    session.rollback()
    assert cached(session, season.id, "k", compute) == 1  # the committed figure again
    make.cluster()  # a committed write: the next read computes
    assert cached(session, season.id, "k", compute) == 4
    assert cached(session, season.id, "k", compute) == 4


def test_the_cache_keeps_only_its_most_recent_entries():
    cache = FigureCache(2)
    for key in "abc":
        cache.put(key, key.upper())
    assert cache.get("a") == (False, None)
    assert cache.get("b") == (True, "B")
    cache.put("d", "D")  # "c" is now the least recently used
    assert cache.get("c") == (False, None) and cache.get("b") == (True, "B")


def test_no_entries_turns_the_cache_off(app, session, make, monkeypatch):
    monkeypatch.setitem(app.extensions, "kyros_figures", FigureCache(0))
    season = make.season()
    calls = []
    for _ in range(2):
        cached(session, season.id, "k", lambda: calls.append(1))
    assert len(calls) == 2


def _committed_kpi(html: str) -> str:
    start = html.index("Committed")
    return html[start:start + 300]


def _without_csrf(html: str) -> str:
    """The page less its CSRF token, which is signed with the time of each request."""
    return re.sub(r'name="csrf_token" value="[^"]*"', "", html)


def test_the_dashboard_is_served_from_the_cache_until_a_write(app, login, make, session):
    season = make.season(BUYING)
    viewer = login("viewer")
    url = f"/analytics/{season.season_code}/"
    cache = app.extensions["kyros_figures"]
    first = _without_csrf(viewer.get(url).get_data(as_text=True))
    hits = cache.hits
    assert _without_csrf(viewer.get(url).get_data(as_text=True)) == first
    assert cache.hits == hits + 1
    assert "1,234.56" not in _committed_kpi(first)
    _po(session, make, season, "PO-NEXT", Decimal("1234.56"))
    assert "1,234.56" in _committed_kpi(viewer.get(url).get_data(as_text=True))


def test_the_season_page_gates_follow_a_write(login, make, session):
    season = make.season(BUYING)
    viewer = login("viewer")
    url = f"/seasons/{season.season_code}"
    assert "No PO takes its month over OTB" in viewer.get(url).get_data(as_text=True)
    assert "No PO takes its month over OTB" in viewer.get(url).get_data(as_text=True)
    _po(session, make, season, "PO-OVER", "999999")  # the policy is warn: saved, over OTB
    assert "1 PO over OTB" in viewer.get(url).get_data(as_text=True)


def test_a_write_through_one_worker_shows_in_another(app, make, session):
    """Two app instances on one database stand for two gunicorn workers: each has its own
    cache, and both read the version from the database."""
    season = make.season(BUYING)
    other = create_app({k: app.config[k] for k in (
        "TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "KYROS_LOGIN_LIMIT_PER_ACCOUNT",
        "KYROS_LOGIN_LIMIT_PER_ADDRESS")})
    viewer = make.user("viewer")
    token = start_session(session, viewer)
    clients = []
    for instance in (app, other):
        client = instance.test_client()
        with client.session_transaction() as flask_session:
            flask_session["_user_id"] = token
            flask_session["_fresh"] = True
        clients.append(client)
    url = f"/analytics/{season.season_code}/"
    for client in clients:
        assert "7,654.32" not in _committed_kpi(client.get(url).get_data(as_text=True))
    _po(session, make, season, "PO-W1", "7654.32")  # through the first worker's services
    for client in clients:
        assert "7,654.32" in _committed_kpi(client.get(url).get_data(as_text=True))
    with other.app_context():
        db.engine.dispose()


def test_po_ageing_is_cached_per_day(app, login, make, session, monkeypatch):
    """PO status ages count in days: a cached report is not carried into the next day (of
    the app's one clock)."""
    season = make.season(BUYING)
    _po(session, make, season, "PO-AGE", "100")
    viewer = login("viewer")
    url = f"/analytics/{season.season_code}/pos"
    monkeypatch.setitem(app.config, "KYROS_TODAY", date(2026, 3, 1))
    viewer.get(url)
    misses = app.extensions["kyros_figures"].misses
    viewer.get(url)
    assert app.extensions["kyros_figures"].misses == misses
    monkeypatch.setitem(app.config, "KYROS_TODAY", date(2026, 3, 2))
    viewer.get(url)
    assert app.extensions["kyros_figures"].misses == misses + 1


def test_every_model_declares_its_version_scope(app):
    """No model falls back to a guess: each names the counter its writes move."""
    from kyros_web.versions import Scope

    for mapper in db.Model.registry.mappers:
        cls = mapper.class_
        assert "__version_scope__" in vars(cls), f"{cls.__name__} declares no __version_scope__"
        assert isinstance(vars(cls)["__version_scope__"], Scope), cls.__name__


def test_a_set_based_update_moves_the_version(session, make):
    """session.execute(update(...)) without any ORM object or audit event still moves a
    version: the season's when its rows name it, else the shared one (any season may have
    changed)."""
    from sqlalchemy import update

    from kyros_web.models import PurchaseOrder

    season = make.season(BUYING)
    po = _po(session, make, season, "PO-S1", "100").po
    session.commit()
    before = current(session, season.id)
    session.execute(update(PurchaseOrder).where(PurchaseOrder.id == po.id)
                    .values(supplier="Changed").execution_options(synchronize_session=False))
    session.commit()
    after = current(session, season.id)
    assert after[1] == before[1] + 1
    session.execute(update(PurchaseOrder), [{"id": po.id, "season_id": season.id,
                                            "supplier": "Again"}])
    session.commit()
    assert current(session, season.id) == (after[0] + 1, after[1])


def test_a_named_scope_and_touch_move_exactly_that_version(session, make):
    """A writer that knows its season names it; touch() covers writes the ORM cannot see."""
    from sqlalchemy import text, update

    from kyros_web.models import PurchaseOrder
    from kyros_web.versions import season_scope, touch

    season = make.season(BUYING)
    _po(session, make, season, "PO-S2", "100")
    session.commit()
    before = current(session, season.id)
    session.execute(update(PurchaseOrder).where(PurchaseOrder.season_id == season.id)
                    .values(supplier="Named")
                    .execution_options(synchronize_session=False,
                                       version_scope=season_scope(season.id)))
    session.commit()
    assert current(session, season.id) == (before[0] + 1, before[1])
    session.execute(text("UPDATE purchase_orders SET supplier = 'Raw' WHERE season_id = :s"),
                    {"s": season.id if session.get_bind().dialect.name == "postgresql"
                     else season.id.hex})
    touch(session, season_scope(season.id))
    session.commit()
    assert current(session, season.id) == (before[0] + 2, before[1])


def test_the_season_lock_moves_no_version(session, make):
    """Locking a season for a write that is then refused changes no figure."""
    from kyros_web.seasons.services import lock_season

    season = make.season(BUYING)
    session.commit()
    before = current(session, season.id)
    lock_season(session, season.id)
    session.commit()
    assert current(session, season.id) == before
