"""Property tests: random bytes and malformed CSV never crash the engine and never write
half a file (SPEC §6, §8)."""
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from kyros_web.errors import DomainError
from kyros_web.models import Location, SeasonPlan
from kyros_web.seasons.workflow import SeasonStatus
from kyros_web.uploads import parsing, services
from kyros_web.uploads.models import UploadStatus

CONFIG = {"KYROS_OTB_POLICY": "warn", "KYROS_OVER_RECEIPT_TOLERANCE": D("0"),
          "KYROS_MAX_UPLOAD_MB": 25}
FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["K4F81VEAQ6LNWWJZ", "D01-P01-C01", "1,234.56", "1.234,56", "NaN", "-1",
                     "2026-02", "2026-13-01", "=cmd()", '"', "\r", ";", "\t", "100", ""]),
)
csv_rows = st.lists(st.lists(cells, min_size=0, max_size=7), min_size=0, max_size=12)
headers = st.sampled_from([
    "location_code,category_code,planned_sales,planned_margin,inventory_turns",
    "location_code;category_code;planned_sales;planned_margin",
    "\ufefflocation_code,category_code,planned_sales,planned_margin",
    "name,type,cluster",
    "",
])


def attempt(session, user, season, data: bytes):
    """Preview and (when clean) commit; return what happened, never raise anything else."""
    try:
        upload = services.preview_upload(session, user, kind="plans", data=data, file_name="f.csv",
                                         season=season, config=CONFIG)
    except (parsing.FileRejected, DomainError):
        return "refused"
    if upload.status is UploadStatus.PREVIEWED:
        services.commit_upload(session, user, upload.id, config=CONFIG)
        return "committed"
    return "rejected"


@pytest.fixture
def target(make):
    leaf = make.category("D01-P01-C01")
    loc = make.location(location_code="K4F81VEAQ6LNWWJZ")
    return make.season(SeasonStatus.LOCATIONS_DEFINED, locations=[loc], leaves=[leaf])


@FUZZ
@given(data=st.binary(max_size=400))
def test_random_bytes_never_crash(session, make, target, data):
    before = session.scalar(select(func.count(SeasonPlan.id)))
    outcome = attempt(session, make.admin, target, data)
    after = session.scalar(select(func.count(SeasonPlan.id)))
    assert outcome in ("refused", "rejected", "committed")
    if outcome != "committed":
        assert after == before


@FUZZ
@given(header=headers, rows=csv_rows, sep=st.sampled_from([",", ";", "\t"]),
       newline=st.sampled_from(["\n", "\r\n"]))
def test_malformed_csv_is_all_or_nothing(session, make, target, header, rows, sep, newline):
    text = newline.join([header] + [sep.join(r) for r in rows])
    before = session.scalar(select(func.count(SeasonPlan.id)))
    outcome = attempt(session, make.admin, target, text.encode("utf-8"))
    after = session.scalar(select(func.count(SeasonPlan.id)))
    if outcome == "committed":
        assert after >= before
    else:
        assert after == before


@FUZZ
@given(rows=st.lists(st.tuples(st.text(min_size=1, max_size=8), st.sampled_from(
    ["store", "warehouse", "kiosk", ""]), st.text(max_size=6)), max_size=10))
def test_locations_files_write_all_rows_or_none(session, make, rows):
    lines = ["name,type,cluster"] + [",".join(r) for r in rows]
    before = session.scalar(select(func.count(Location.id)))
    try:
        upload = services.preview_upload(session, make.admin, kind="locations",
                                         data="\n".join(lines).encode(), file_name="l.csv",
                                         season=None, config=CONFIG)
    except (parsing.FileRejected, DomainError):
        return
    if upload.status is UploadStatus.PREVIEWED:
        services.commit_upload(session, make.admin, upload.id, config=CONFIG)
        assert session.scalar(select(func.count(Location.id))) == before + upload.rows_new
    else:
        assert session.scalar(select(func.count(Location.id))) == before
