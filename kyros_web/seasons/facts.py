"""The counts the gates decide on (SPEC §3), read from the season's data: the one seasons
module that asks the planning and purchasing queries. Read-only."""
from __future__ import annotations

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from ..analytics.models import LOCATION, season_figures
from ..masterdata.models import Location
from ..planning.models import OTBPlan, RangeIntent, SeasonPlan
from ..planning.queries import plan_reconciliation, stock_chain
from ..summaries import settle
from .gates import SeasonFacts
from .models import Season, SeasonLocation
from .workflow import SeasonStatus


def season_facts(session: Session, season: Season) -> SeasonFacts:
    """Gather the counts the gates of the season's current status need, in SQL."""
    sid = season.id
    status = season.status
    facts: dict[str, int] = {}

    def count(stmt) -> int:
        return session.scalar(stmt) or 0

    if status in (SeasonStatus.CREATED, SeasonStatus.LOCATIONS_DEFINED):
        active = (select(SeasonLocation.location_id)
                  .join(Location, Location.id == SeasonLocation.location_id)
                  .where(SeasonLocation.season_id == sid, Location.is_active.is_(True)))
        facts["active_locations"] = count(select(func.count()).select_from(active.subquery()))
    if status is SeasonStatus.LOCATIONS_DEFINED:
        facts["plan_rows"] = count(select(func.count(SeasonPlan.id))
                                   .where(SeasonPlan.season_id == sid))
        facts["unapproved_plans"] = count(select(func.count(SeasonPlan.id)).where(
            SeasonPlan.season_id == sid, SeasonPlan.approved.is_(False)))
        facts["locations_without_plans"] = count(
            select(func.count(SeasonLocation.id)).where(
                SeasonLocation.season_id == sid,
                ~exists().where(SeasonPlan.season_id == sid,
                                SeasonPlan.location_id == SeasonLocation.location_id)))
    if status is SeasonStatus.PLAN_UPLOADED:
        facts["otb_rows"] = count(select(func.count(OTBPlan.id)).where(OTBPlan.season_id == sid))
        facts["negative_otb_cells"] = count(select(func.count(OTBPlan.id)).where(
            OTBPlan.season_id == sid, OTBPlan.approved_spend_limit < 0))
        facts["otb_plan_mismatches"] = count(_otb_plan_mismatches(sid))
        facts["stock_chain_breaks"] = count(_stock_chain_breaks(sid))
    if status is SeasonStatus.OTB_UPLOADED:
        facts["leaves_missing_range"] = count(
            select(func.count(func.distinct(OTBPlan.category_id))).where(
                OTBPlan.season_id == sid,
                ~exists().where(RangeIntent.season_id == sid,
                                RangeIntent.category_id == OTBPlan.category_id)))
    if status is SeasonStatus.RANGE_UPLOADED:
        # From the season's summaries (analytics/summaries.py): POs open or partly received,
        # and live POs in a cell whose committed exceeds its budget (OTB + adjustments).
        settle(session)
        t = season_figures
        facts["open_pos"], facts["pos_over_otb"] = session.execute(
            select(func.coalesce(func.sum(t.c.open_pos), 0),
                   func.coalesce(func.sum(t.c.over_pos), 0))
            .where(t.c.season_id == sid, t.c.dim == LOCATION)).one()
    return SeasonFacts(**facts)


def _otb_plan_mismatches(sid):
    """Location × category pairs whose season OTB sales differ from the plan by > 1 %."""
    recon = plan_reconciliation(sid)
    return select(func.count()).select_from(recon).where(recon.c.mismatch)


def _stock_chain_breaks(sid):
    """OTB rows whose opening stock is not the closing stock of the cell's previous month."""
    chained = stock_chain(sid)
    return (select(func.count()).select_from(chained)
            .where(chained.c.prev_closing.is_not(None),
                   chained.c.opening_stock != chained.c.prev_closing))
