"""The import engine through its services: the samples in order, idempotence, every refusal,
cross-row rules, limits and atomicity (SPEC §6)."""
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import exists, func, select

from kyros_web.audit import AuditEvent
from kyros_web.downloads import sheet_xlsx
from kyros_web.errors import Forbidden, ValidationFailed
from kyros_web.models import (Category, Cluster, Location, OTBPlan, POStatus,
                              PurchaseOrder, SeasonPlan, Upload, UploadStatus)
from kyros_web.seasons.services import advance_season, assign_all_active, create_season
from kyros_web.templating import money
from kyros_web.uploads import engine, services
from kyros_web.uploads.parsing import LimitExceeded

from ..conftest import PG_URL

SAMPLES = Path(__file__).parent.parent / "data"
CONFIG = {"KYROS_OTB_POLICY": "warn", "KYROS_OVER_RECEIPT_TOLERANCE": D("0"),
          "KYROS_MAX_UPLOAD_MB": 25}


def sample(name: str) -> bytes:
    return (SAMPLES / f"{name}.csv").read_bytes()


def load(session, user, kind, data, season=None, commit=True, config=CONFIG):
    upload = services.preview_upload(session, user, kind=kind, data=data, file_name=f"{kind}.csv",
                                     season=season, config=config)
    if commit and upload.status is UploadStatus.PREVIEWED:
        services.commit_upload(session, user, upload.id, config=config)
    return upload


def counts(upload):
    return (upload.rows_new, upload.rows_updated, upload.rows_unchanged, upload.rows_rejected)


@pytest.fixture
def sample_season(session, make):
    """Master data from the samples and a season of all locations, status locations_defined."""
    admin = make.admin
    load(session, admin, "locations", sample("locations"))
    load(session, admin, "categories", sample("categories"))
    season = create_season(session, admin, name="Sample", start_date=date(2026, 2, 1),
                           end_date=date(2026, 4, 30))
    assign_all_active(session, admin, season.id)
    advance_season(session, admin, season.id)
    return season


def walk_samples(session, admin, season):
    """Import the season's sample files in order, advancing between them; each twice."""
    results = {}
    for kind, name in (("plans", "plans"), ("otb", "otb"), ("range", "range"), ("pos", "pos"),
                       ("grns", "grns")):
        first = load(session, admin, kind, sample(name), season)
        second = load(session, admin, kind, sample(name), season)
        results[kind] = (counts(first), counts(second))
        if kind in ("plans", "otb", "range"):
            advance_season(session, admin, season.id)
    return results


def test_samples_import_in_order_and_again_unchanged(session, make, sample_season):
    admin = make.admin
    assert session.scalar(select(func.count(Location.id))) == 7
    assert session.scalar(select(func.count(Cluster.id))) == 2
    assert session.scalar(select(func.count(Category.id))) == 18
    results = walk_samples(session, admin, sample_season)
    assert results == {
        "plans": ((72, 0, 0, 0), (0, 0, 72, 0)),
        "otb": ((216, 0, 0, 0), (0, 0, 216, 0)),
        "range": ((12, 0, 0, 0), (0, 0, 12, 0)),
        "pos": ((40, 0, 0, 0), (0, 0, 40, 0)),
        "grns": ((43, 0, 0, 0), (0, 0, 43, 0)),
    }
    again = load(session, admin, "locations", sample("locations"))
    assert counts(again) == (0, 0, 7, 0)
    statuses = dict(session.execute(select(PurchaseOrder.status, func.count())
                                    .group_by(PurchaseOrder.status)).all())
    assert statuses == {POStatus.OPEN: 11, POStatus.PARTIALLY_RECEIVED: 13, POStatus.RECEIVED: 16}
    otb = session.scalar(select(OTBPlan).where(OTBPlan.planned_sales == D("8315.28")))
    assert otb.approved_spend_limit == D("8315.28") + D("9092.50") - D("8187.60")


def test_reimport_bumps_no_version_and_adds_one_audit_event(session, make, sample_season):
    admin = make.admin
    load(session, admin, "plans", sample("plans"), sample_season)
    events = session.scalar(select(func.count(AuditEvent.id)))
    load(session, admin, "plans", sample("plans"), sample_season)
    assert session.scalar(select(func.max(SeasonPlan.version))) == 1
    assert session.scalar(select(func.count(AuditEvent.id))) == events + 1
    event = session.scalar(select(AuditEvent).order_by(AuditEvent.at.desc()).limit(1))
    assert event.action == "import" and event.after["unchanged"] == 72


def test_update_counts_and_clears_approval(session, make, sample_season):
    admin = make.admin
    load(session, admin, "plans", sample("plans"), sample_season)
    session.execute(SeasonPlan.__table__.update().values(approved=True))
    session.commit()
    changed = sample("plans").replace(b"20469.00,48.21", b"20470.00,48.21")
    upload = load(session, admin, "plans", changed, sample_season)
    assert counts(upload) == (0, 1, 71, 0)
    row = session.scalar(select(SeasonPlan).where(SeasonPlan.planned_sales == D("20470.00")))
    assert row.version == 2 and row.approved is False
    assert session.scalar(select(func.count()).where(SeasonPlan.approved.is_(True))) == 71


def plans_file(session, season, bad_row=None):
    """A plans file with every location × leaf of the season; `bad_row` gets a bad value."""
    locs = session.scalars(select(Location.location_code).order_by(Location.location_code)).all()
    child = Category.__table__.alias("c")
    leaves = session.scalars(select(Category.code).where(
        ~exists().where(child.c.parent_id == Category.id))).all()
    lines = ["location_code,category_code,planned_sales,planned_margin"]
    for loc in locs:
        for leaf in leaves:
            lines.append(f"{loc},{leaf},100.00,10")
    if bad_row:
        lines[bad_row] = lines[bad_row].replace("100.00", "1.234,56")
    return "\n".join(lines).encode()


def test_one_bad_row_rejects_the_file_and_writes_nothing(session, make, sample_season):
    data = plans_file(session, sample_season, bad_row=40)
    upload = load(session, make.admin, "plans", data, sample_season)
    assert upload.status is UploadStatus.REJECTED and counts(upload) == (83, 0, 0, 1)
    # In a comma file "1.234,56" splits into "1.234" and a stray cell.
    assert upload.summary["errors"] == [{"row": 41, "column": "planned_sales", "value": "1.234",
                                         "message": "Planned sales may have at most 2 decimals"}]
    assert session.scalar(select(func.count(SeasonPlan.id))) == 0
    with pytest.raises(ValidationFailed, match="only a previewed file"):
        services.commit_upload(session, make.admin, upload.id, config=CONFIG)


def test_row_errors_name_row_column_value(session, make, sample_season):
    data = (b"location_code,category_code,planned_sales,planned_margin,inventory_turns\n"
            b"K4F81VEAQ6LNWWJZ,D01-P01-C01,10,100,\n"
            b"NOPE,D01-P01-C01,10,1,\n"
            b"K4F81VEAQ6LNWWJZ,D01,10,1,\n"
            b"K4F81VEAQ6LNWWJZ,D01-P01-C02,-1,1,-2\n"
            b"K4F81VEAQ6LNWWJZ,D01-P01-C03,10,1,\n"
            b"K4F81VEAQ6LNWWJZ,D01-P01-C03,11,1,\n"
            b",D01-P01-C01,,1,\n")
    upload = load(session, make.admin, "plans", data, sample_season)
    messages = {(e["row"], e["column"]): e["message"] for e in upload.summary["errors"]}
    assert messages[(2, "planned_margin")] == "Planned margin must be more than -100 % and less than 100 %"
    assert messages[(3, "location_code")] == "Unknown location code NOPE"
    assert messages[(4, "category_code")] == "Category D01 has sub-categories; use a leaf category"
    assert messages[(5, "planned_sales")] == "Planned sales must be 0 or more"
    assert messages[(7, "location_code")].startswith("Duplicate of row 6")
    assert messages[(8, "location_code")] == "Location code is required"
    assert messages[(8, "planned_sales")] == "Planned sales is required"
    assert counts(upload) == (1, 0, 0, 6)


def test_status_gate_refuses_the_file(session, make, sample_season):
    load(session, make.admin, "plans", sample("plans"), sample_season)
    advance_season(session, make.admin, sample_season.id)
    upload = load(session, make.admin, "plans", sample("plans"), sample_season)
    assert upload.status is UploadStatus.REJECTED
    assert "can only be changed while the season is 'locations_defined'" in upload.summary["message"]


def test_confirm_checks_again_inside_the_transaction(session, make, sample_season):
    upload = load(session, make.admin, "plans", sample("plans"), sample_season, commit=False)
    assert upload.status is UploadStatus.PREVIEWED
    # Meanwhile someone enters a plan row by hand and moves the season on.
    from kyros_web.planning.services import upsert_plan
    loc = session.scalar(select(Location).limit(1))
    leaf = session.scalar(select(Category).where(Category.code == "D01-P01-C01"))
    upsert_plan(session, make.admin, sample_season.id, location_id=loc.id, category_id=leaf.id,
                planned_sales="1", planned_margin="1")
    advance_season(session, make.admin, sample_season.id)
    before = session.scalar(select(func.count(SeasonPlan.id)))
    from kyros_web.errors import NotEditable
    with pytest.raises(NotEditable):
        services.commit_upload(session, make.admin, upload.id, config=CONFIG)
    assert session.scalar(select(func.count(SeasonPlan.id))) == before


def test_a_failure_half_way_writes_nothing(session, make, sample_season, monkeypatch):
    upload = load(session, make.admin, "plans", sample("plans"), sample_season, commit=False)
    monkeypatch.setattr(engine, "CHUNK", 10)
    from kyros_web.uploads.kinds import PlansHandler
    written = []
    real = PlansHandler.write

    def failing(self, outcome, records):
        if written:
            raise RuntimeError("disk full")
        written.append(len(records))
        real(self, outcome, records)

    monkeypatch.setattr(PlansHandler, "write", failing)
    with pytest.raises(RuntimeError):
        services.commit_upload(session, make.admin, upload.id, config=CONFIG)
    assert written == [10]
    assert session.scalar(select(func.count(SeasonPlan.id))) == 0
    assert session.get(Upload, upload.id).status is UploadStatus.PREVIEWED


def test_size_and_row_limits_store_nothing(session, make, sample_season, monkeypatch):
    big = b"location_code,category_code,planned_sales,planned_margin\n" + b"x" * (1024 * 1024 + 1)
    with pytest.raises(LimitExceeded, match="larger than 1 MB"):
        load(session, make.admin, "plans", big, sample_season, config={**CONFIG, "KYROS_MAX_UPLOAD_MB": 1})
    monkeypatch.setattr(engine, "MAX_ROWS", 5)
    with pytest.raises(LimitExceeded, match="more than 5 rows"):
        load(session, make.admin, "plans", sample("plans"), sample_season)
    assert session.scalar(select(func.count(Upload.id))) == 2  # the two master data files only


def test_not_csv_is_rejected_as_a_whole(session, make, sample_season):
    upload = load(session, make.admin, "plans", b"\x89PNG\r\n\x1a\n\x00\x00", sample_season)
    assert upload.status is UploadStatus.REJECTED and "not a CSV or XLSX" in upload.summary["message"]
    assert upload.content is None


def test_roles_per_kind(session, make, sample_season):
    with pytest.raises(Forbidden):
        load(session, make.user("buyer"), "plans", sample("plans"), sample_season)
    with pytest.raises(Forbidden):
        load(session, make.user("planner"), "pos", sample("pos"), sample_season)
    with pytest.raises(Forbidden):
        load(session, make.user("viewer"), "locations", sample("locations"))


def test_new_clusters_are_warned_about(session, make):
    data = b"name,type,cluster\nLyon 01,store,Regoin 09\n"
    upload = load(session, make.admin, "locations", data, commit=False)
    assert "New clusters will be created: Regoin 09" in upload.summary["warnings"][0]
    services.commit_upload(session, make.admin, upload.id, config=CONFIG)
    loc = session.scalar(select(Location).where(Location.name == "Lyon 01"))
    assert len(loc.location_code) == 16 and loc.cluster.name == "Regoin 09"
    again = load(session, make.admin, "locations", data)
    assert counts(again) == (0, 0, 1, 0)


def test_category_tree_rules(session, make):
    data = (b"code,name,parent_code\nb-child,Child,A\nA,Root,\nC,Cycle1,D\nD,Cycle2,C\n"
            b"E,Orphan,ZZZ\n")
    upload = load(session, make.admin, "categories", data, commit=False)
    messages = {e["row"]: e["message"] for e in upload.summary["errors"]}
    assert messages == {4: "The parent codes form a cycle", 5: "The parent codes form a cycle",
                        6: "Unknown parent code ZZZ"}
    ok = load(session, make.admin, "categories", b"code,name,parent_code\nB-CHILD,Child,A\nA,Root,\n")
    assert counts(ok) == (2, 0, 0, 0)
    child = session.scalar(select(Category).where(Category.code == "B-CHILD"))
    assert child.parent.code == "A"


def test_category_file_deep_tree_and_moves(session, make):
    """Leaves listed before their parents, three levels new at once; a second file moves
    and renames stored categories and leaves the unchanged ones as they were."""
    data = (b"code,name,parent_code\nL1,Leaf 1,M1\nL2,Leaf 2,M2\nM1,Middle 1,R\n"
            b"M2,Middle 2,R\nR,Root,\n")
    assert counts(load(session, make.admin, "categories", data)) == (5, 0, 0, 0)

    def parent_of(code):
        session.expire_all()
        found = session.scalar(select(Category).where(Category.code == code))
        return found.parent.code if found.parent else None

    assert [parent_of(c) for c in ("L1", "L2", "M1", "M2", "R")] == ["M1", "M2", "R", "R", None]
    untouched = session.scalar(select(Category).where(Category.code == "L2")).updated_at
    moved = (b"code,name,parent_code\nL1,Leaf one,M2\nL2,Leaf 2,M2\nM3,Middle 3,\n"
             b"M1,Middle 1,M3\n")
    assert counts(load(session, make.admin, "categories", moved)) == (1, 2, 1, 0)
    assert [parent_of(c) for c in ("L1", "M1", "M3")] == ["M2", "M3", None]
    assert session.scalar(select(Category.name).where(Category.code == "L1")) == "Leaf one"
    assert session.scalar(select(Category).where(Category.code == "L2")).updated_at == untouched


def buying_season(session, make, sample_season):
    admin = make.admin
    load(session, admin, "plans", sample("plans"), sample_season)
    advance_season(session, admin, sample_season.id)
    load(session, admin, "otb", sample("otb"), sample_season)
    advance_season(session, admin, sample_season.id)
    load(session, admin, "range", sample("range"), sample_season)
    advance_season(session, admin, sample_season.id)
    return sample_season


def test_po_file_otb_policy_with_running_totals(session, make, sample_season):
    season = buying_season(session, make, sample_season)
    otb = session.scalar(select(OTBPlan).where(OTBPlan.planned_sales == D("8315.28")))
    half = (otb.approved_spend_limit / 2 + D("1")).quantize(D("0.01"))
    loc = session.get(Location, otb.location_id).location_code
    cat = session.get(Category, otb.category_id).code
    data = (f"po_number,location_code,category_code,po_value,order_date\n"
            f"X-1,{loc},{cat},{half},2026-02-03\nX-2,{loc},{cat},{half},2026-02-04\n").encode()
    warn = load(session, make.admin, "pos", data, season, commit=False)
    assert warn.status is UploadStatus.PREVIEWED
    assert "1 OTB cell(s) would go over OTB" in warn.summary["warnings"]
    assert any(w.startswith("PO X-2 takes 2026-02 over OTB by 2.00") for w in warn.summary["warnings"])
    feb = next(m for m in warn.summary["impact"] if m["month"] == "2026-02-01")
    assert D(feb["after"]) - D(feb["before"]) == half * 2
    block = load(session, make.admin, "pos", data, season, commit=False,
                 config={**CONFIG, "KYROS_OTB_POLICY": "block"})
    assert block.status is UploadStatus.REJECTED
    assert [e["row"] for e in block.summary["errors"]] == [3]
    assert block.summary["errors"][0]["message"].startswith(
        "This PO would take 2026-02 over OTB by 2.00")


def test_po_file_changing_stored_pos(session, make, sample_season):
    """An open PO may change (its value moves between OTB months); received ones may not."""
    season = buying_season(session, make, sample_season)
    load(session, make.admin, "pos", sample("pos"), season)
    load(session, make.admin, "grns", sample("grns"), season)
    pos = session.scalars(select(PurchaseOrder).order_by(PurchaseOrder.po_number)).all()
    moved = next(p for p in pos if p.status is POStatus.OPEN and p.delivery_date.month != 4)
    received = next(p for p in pos if p.status is POStatus.RECEIVED)
    partly = next(p for p in pos if p.status is POStatus.PARTIALLY_RECEIVED)
    lines = sample("pos").decode().splitlines()

    def edit(po, column, value):
        i = next(n for n, line in enumerate(lines) if line.startswith(po.po_number + ","))
        cells = lines[i].split(",")
        cells[lines[0].split(",").index(column)] = value
        lines[i] = ",".join(cells)

    edit(moved, "delivery_date", "2026-04-28")
    upload = load(session, make.admin, "pos", "\n".join(lines).encode(), season, commit=False)
    assert counts(upload) == (0, 1, 39, 0)
    impact = {m["month"][:7]: D(m["after"]) - D(m["before"]) for m in upload.summary["impact"]}
    assert impact[moved.delivery_date.strftime("%Y-%m")] == -moved.po_value
    assert impact["2026-04"] == moved.po_value
    services.commit_upload(session, make.admin, upload.id, config=CONFIG)
    session.refresh(moved)
    assert (moved.delivery_date, moved.version) == (date(2026, 4, 28), 2)

    edit(received, "supplier", "Someone else")
    edit(partly, "po_value", "1.00")
    plain = next(p for p in pos if p not in (moved, received, partly))
    edit(plain, "source", "fax")
    other = make.season(status="range_uploaded")
    elsewhere = load(session, make.admin, "pos", (
        "po_number,location_code,category_code,po_value,order_date\n"
        f"{pos[-1].po_number},{other.test_locations[0].location_code},"
        f"{other.test_leaves[0].code},10.00,2026-02-03\n").encode(), other, commit=False)
    assert elsewhere.summary["errors"][0]["message"] == (
        f"PO number {pos[-1].po_number} is used in another season")
    upload = load(session, make.admin, "pos", "\n".join(lines).encode(), season, commit=False)
    messages = {e["message"] for e in upload.summary["errors"]}
    assert messages == {
        f"PO {received.po_number} is received and can no longer be changed",
        f"PO value cannot be below the {money(partly_received(session, partly))} already received",
        "Source must be one of manual, csv, xlsx, api, erp"}


def partly_received(session, po):
    from kyros_web.models import GRNRecord
    return session.scalar(select(func.sum(GRNRecord.received_value))
                          .where(GRNRecord.po_id == po.id))


def test_grn_file_over_receipt_with_running_totals(session, make, sample_season):
    season = buying_season(session, make, sample_season)
    load(session, make.admin, "pos", sample("pos"), season)
    po = session.scalar(select(PurchaseOrder).where(PurchaseOrder.po_number == "PO-26-000001"))
    part = (po.po_value / 2).quantize(D("0.01"))
    data = (f"grn_number,po_number,grn_date,received_value\n"
            f"N-1,PO-26-000001,2026-04-18,{part}\nN-2,PO-26-000001,2026-04-19,{part}\n"
            f"N-3,PO-26-000001,2026-04-20,1.00\nN-4,PO-26-000001,2026-03-01,1.00\n"
            f"N-5,NOPE,2026-04-20,1.00\n").encode()
    upload = load(session, make.admin, "grns", data, season, commit=False)
    messages = {e["row"]: e["message"] for e in upload.summary["errors"]}
    assert messages[4].startswith("Over-receipt: PO PO-26-000001 is for 10,485.00")
    assert messages[5].startswith("GRN date must be on or after the PO's order date")
    assert messages[6] == f"No PO NOPE in season {season.season_code}"
    assert counts(upload) == (2, 0, 0, 3)


def test_rejected_rows_csv(session, make, sample_season):
    data = b"location_code,category_code,planned_sales,planned_margin,note\nNOPE,X,=1+1,1,hi\n"
    upload = load(session, make.admin, "plans", data, sample_season)
    body = b"".join(services.rejected_rows_csv(upload)).decode()
    lines = body.strip().splitlines()
    assert lines[0] == "location_code,category_code,planned_sales,planned_margin,note,error"
    assert lines[1].startswith("NOPE,X,'=1+1,1,hi,") and "Planned sales is not a number" in lines[1]


def test_xlsx_upload_with_real_cells(session, make, sample_season):
    from tests.unit.test_parsing import xlsx
    data = xlsx(["location_code", "category_code", "planned_sales", "planned_margin"],
                ["K4F81VEAQ6LNWWJZ", "D01-P01-C01", 20469, 48.21])
    upload = load(session, make.admin, "plans", data, sample_season)
    assert counts(upload) == (1, 0, 0, 0)
    assert session.scalar(select(SeasonPlan.planned_margin)) == D("48.21")


def test_templates_are_prefilled(session, make, sample_season):
    headers, rows = services.template_rows(session, "plans", sample_season)
    assert headers[:4] == ["location_code", "category_code", "planned_sales", "planned_margin"]
    assert len(rows) == 7 * 12 and headers[-2:] == ["location_name", "category_name"]
    headers, rows = services.template_rows(session, "otb", sample_season)
    assert len(rows) == 7 * 12 * 3 and rows[0][2] == "2026-02"
    assert services.template_rows(session, "pos", sample_season)[1] == []
    assert sheet_xlsx(headers, rows[:2])[:2] == b"PK"


def test_one_bad_row_among_thousands(session, make):
    lines = ["name,type,cluster"] + [f"Store {n:05d},store,Region {n % 7}" for n in range(3000)]
    lines[2345] = "Store X,kiosk,Region 1"
    upload = load(session, make.admin, "locations", "\n".join(lines).encode())
    assert counts(upload) == (2999, 0, 0, 1)
    assert upload.summary["errors"][0]["row"] == 2346
    assert upload.summary["errors"][0]["message"] == "Type must be store or warehouse"
    assert session.scalar(select(func.count(Location.id))) == 0
    assert session.scalar(select(func.count(Cluster.id))) == 0


@pytest.mark.skipif(not PG_URL, reason="planner statistics are PostgreSQL's; CI runs this on PostgreSQL")
def test_a_bulk_import_refreshes_planner_statistics(session, make, monkeypatch):
    """Without fresh statistics the next grid page was planned for a nearly empty table."""
    import time

    from sqlalchemy import text

    def manual_analyses():
        session.rollback()  # a fresh snapshot of the statistics views
        return session.execute(text("SELECT analyze_count FROM pg_stat_user_tables "
                                    "WHERE relname = 'locations'")).scalar()

    before = manual_analyses()
    monkeypatch.setattr(services, "ANALYZE_AFTER", 5)
    load(session, make.admin, "locations", sample("locations"))
    for _ in range(30):  # the statistics views catch up within a second or so
        if manual_analyses() > before:
            break
        time.sleep(0.1)
    assert manual_analyses() == before + 1


def test_rejected_rows_leave_memory_once_kept(session, make, sample_season):
    """Each rejected row is handed to the kept CSV as the file is read and its messages are
    dropped; only the count stays (a million rejected rows are never held at once)."""
    from kyros_web.uploads.kinds import PlansHandler

    lines = ["location_code,category_code,planned_sales,planned_margin"]
    lines += [f"NOWHERE{n:05d},D01-P01-C01,1,1" for n in range(3000)]
    table = services._open("plans", ("\n".join(lines) + "\n").encode())
    kept = []
    table.on_rejected = lambda number, cells, messages: kept.append((number, messages))
    result = engine.analyse(PlansHandler(session, sample_season, make.admin), table)
    assert result.rejected == 3000 and len(kept) == 3000
    assert result.rejected_rows == {}
    assert kept[0] == (2, "Unknown location code NOWHERE00000")


def test_stored_rows_read_for_a_file_are_the_rows_as_stored(session, make, sample_season):
    """A handler's lean read of the stored rows (ids as text and money as NUMERIC on
    PostgreSQL, ORM types on SQLite) gives each row's id, version and figures to the cent, by
    the same keys as the file's rows, on either database."""
    from kyros_web.planning.rules import OTB_INPUTS, PLAN_FIELDS
    from kyros_web.uploads.kinds import OTBHandler, PlansHandler

    admin = make.admin
    load(session, admin, "plans", sample("plans"), sample_season)
    advance_season(session, admin, sample_season.id)
    load(session, admin, "otb", sample("otb"), sample_season)
    for handler, model, fields in ((PlansHandler, SeasonPlan, PLAN_FIELDS),
                                   (OTBHandler, OTBPlan, OTB_INPUTS)):
        stored = handler(session, sample_season, admin).existing
        rows = session.scalars(select(model).where(model.season_id == sample_season.id)).all()
        assert len(stored) == len(rows) > 0
        for row in rows:
            key = (row.location_id, row.category_id) + ((row.month,) if model is OTBPlan else ())
            old = stored[key]
            assert (str(old.id), old.uuid, old.version) == (str(row.id), row.id, row.version)
            assert [repr(v) for v in old.values] == [repr(getattr(row, f)) for f in fields]


def test_an_import_is_written_in_chunks_its_summaries_sum_whole():
    """A chunk of an import is more rows than a write whose summaries move pair by pair: a
    large file's season is summed again in one pass, not each of its pairs read twice."""
    from kyros_web.analytics import summaries

    assert engine.CHUNK > summaries.MANY_ROWS


def test_a_large_import_leaves_the_summaries_as_a_recomputation(session, make, sample_season,
                                                                 monkeypatch):
    """Plans and OTB files written in chunks above the pair-by-pair line (both lowered to the
    sample's size) leave every summary row of the season as a recomputation gives it."""
    from kyros_web.analytics import summaries

    from .test_summaries import stored

    monkeypatch.setattr(summaries, "MANY_ROWS", 10)
    monkeypatch.setattr(engine, "CHUNK", 40)
    admin = make.admin
    load(session, admin, "plans", sample("plans"), sample_season)
    advance_season(session, admin, sample_season.id)
    load(session, admin, "otb", sample("otb"), sample_season)
    changed = sample("otb").replace(b",8315.28,", b",8316.28,")
    assert counts(load(session, admin, "otb", changed, sample_season)) == (0, 1, 215, 0)
    kept = stored(session, sample_season.id)
    assert kept
    summaries.refresh(session, sample_season)
    assert stored(session, sample_season.id) == kept
    session.rollback()
