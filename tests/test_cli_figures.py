"""`flask kyros refresh-figures`: a season's summaries summed again from its data."""
from datetime import date
from decimal import Decimal as D

from sqlalchemy import delete, func, select

from kyros_web.analytics import sql
from kyros_web.analytics.models import season_figures
from kyros_web.purchasing.services import create_po
from kyros_web.seasons.workflow import SeasonStatus


def test_refresh_figures_sums_a_season_again(app, session, make):
    location, leaf = make.location(), make.category()
    season = make.season(SeasonStatus.RANGE_UPLOADED, locations=[location], leaves=[leaf])
    create_po(session, make.user("buyer"), season.id, po_number="CLI-1",
              location_id=location.id, category_id=leaf.id, po_value=D("250.00"),
              order_date=date(2026, 1, 5), delivery_date=date(2026, 2, 10), policy="warn")
    before = sql.by_month(session, season.id)
    # Rows changed outside Kyros: here, the summaries lost.
    session.execute(delete(season_figures).where(season_figures.c.season_id == season.id))
    session.commit()
    assert session.scalar(select(func.count()).select_from(season_figures)
                          .where(season_figures.c.season_id == season.id)) == 0

    result = app.test_cli_runner().invoke(args=["kyros", "refresh-figures", season.season_code])
    assert result.exit_code == 0, result.output
    assert f"{season.season_code}: figures summed again" in result.output
    session.expire_all()
    assert sql.by_month(session, season.id) == before


def test_refresh_figures_names_an_unknown_season(app):
    result = app.test_cli_runner().invoke(args=["kyros", "refresh-figures", "NOPE-0000"])
    assert result.exit_code == 1
    assert "not found" in result.output.lower()
